"""Intention-to-treat analysis of an experiment: effects with intervals, Hedges' g, attrition
against the What Works Clearinghouse boundaries, subgroups with small-cell suppression, and
control of multiple comparisons.

Every student randomized stays in the condition they were assigned to (intention to treat);
a student without an outcome counts as attrition, never as a member of another arm. Effects
are ordinary least squares of the outcome on the condition (and the strata of a stratified
assignment, and any pre-registered covariates) with robust standard errors and t intervals
on the model's residual degrees of freedom. Students assigned one by one: HC3 standard errors,
the choice of Long and Ervin (2000) for small and unbalanced samples; every stratum's
indicator adds leverage, and HC3 errs toward wider intervals, keeping the test at or under
its level. Sections assigned: least squares on the sections' mean outcomes, the level at
which they were randomized, with HC2 standard errors (a few dozen sections: HC3 would cost
power the design does not have).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from numpy.typing import ArrayLike, NDArray
from statsmodels.stats.multitest import multipletests

from learnway.analytics._reports import MIN_CELL, suppressed

Float = NDArray[np.float64]

# The What Works Clearinghouse's attrition boundary: for each whole percentage of overall
# attrition (0 to 65), the largest differential attrition (percentage points) with which a
# randomized study keeps "low attrition", under the cautious assumption (the intervention may
# affect who leaves) and the optimistic one. Source: WWC Standards Handbook, Version 4.1 (2020),
# Table II.1, as transcribed in the baselinr R package (MIT licence, R/attrition_boundary.R,
# github.com/zl1212-ship-it/baselinr). The handbook's own text (Version 4.1 or 5.0) could not be
# consulted here, so the values are not checked against it directly. Under the cautious
# assumption 58% overall attrition or more is high attrition whatever the differential; under
# both, beyond 65%. Overall attrition is rounded to a whole percentage, as the table is read.
_WWC_CAUTIOUS = np.array([
    5.7, 5.8, 5.9, 5.9, 6.0, 6.1, 6.2, 6.3, 6.3, 6.3, 6.3, 6.2, 6.2, 6.1, 6.0, 5.9, 5.9, 5.8,
    5.7, 5.5, 5.4, 5.3, 5.2, 5.1, 4.9, 4.8, 4.7, 4.5, 4.4, 4.3, 4.1, 4.0, 3.8, 3.6, 3.5, 3.3,
    3.2, 3.1, 2.9, 2.8, 2.6, 2.5, 2.3, 2.1, 2.0, 1.8, 1.6, 1.5, 1.3, 1.2, 1.0, 0.9, 0.7, 0.6,
    0.4, 0.3, 0.2, 0.0,
])  # fmt: skip
_WWC_OPTIMISTIC = np.array([
    10.0, 10.1, 10.2, 10.3, 10.4, 10.5, 10.7, 10.8, 10.9, 10.9, 10.9, 10.9, 10.9, 10.8, 10.8,
    10.7, 10.6, 10.5, 10.3, 10.2, 10.0, 9.9, 9.7, 9.5, 9.4, 9.2, 9.0, 8.8, 8.6, 8.4, 8.2, 8.0,
    7.8, 7.6, 7.4, 7.2, 7.0, 6.7, 6.5, 6.3, 6.0, 5.8, 5.6, 5.3, 5.1, 4.9, 4.6, 4.4, 4.2, 3.9,
    3.7, 3.5, 3.2, 3.0, 2.8, 2.6, 2.3, 2.1, 1.9, 1.6, 1.4, 1.1, 0.9, 0.7, 0.5, 0.3,
])  # fmt: skip


@dataclass(frozen=True)
class Effect:
    """The effect of ``condition`` against ``control`` on one outcome (outcome units)."""

    condition: str
    control: str
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float
    hedges_g: float
    g_ci_low: float
    g_ci_high: float
    mean_condition: float
    mean_control: float
    students_condition: int
    students_control: int
    clusters: int | None
    method: str

    @property
    def significant(self) -> bool:
        return self.ci_low > 0 or self.ci_high < 0


def _arrays(
    outcome: ArrayLike, condition: Sequence[str], cluster: Sequence[object] | None
) -> tuple[Float, NDArray[np.str_], NDArray[np.object_] | None]:
    y = np.asarray(outcome, dtype=float)
    c = np.asarray(condition, dtype=str)
    if y.ndim != 1 or len(y) != len(c):
        raise ValueError("outcome and condition must be one value per student")
    g = None if cluster is None else np.asarray(cluster, dtype=object)
    if g is not None and len(g) != len(y):
        raise ValueError("cluster must be one value per student")
    return y, c, g


def _strata_columns(codes: NDArray[np.int64]) -> list[Float]:
    levels = np.unique(codes)
    return [(codes == level).astype(float) for level in levels[1:]]


def estimate_effects(
    outcome: ArrayLike,
    condition: Sequence[str],
    *,
    control: str,
    cluster: Sequence[object] | None = None,
    strata: Sequence[object] | None = None,
    covariates: ArrayLike | None = None,
    alpha: float = 0.05,
) -> list[Effect]:
    """The intention-to-treat effect of every other condition against ``control``.

    ``outcome`` is NaN for a student randomized without an outcome (attrition: left out of the
    estimate, counted by :func:`attrition`). ``strata`` (the blocks of a stratified assignment)
    are adjusted for, as randomized. ``cluster`` (the section of each student, when sections
    were assigned) moves the analysis to the level of assignment: each section's mean outcome,
    so the errors allow any correlation within a section (the usual cluster-robust sandwich
    rejects too often with a few dozen sections). ``covariates`` (students x k, measured before
    assignment) are centred and adjusted for. HC3 standard errors for students, HC2 for
    section means; t intervals and p-values on the residual degrees of freedom.
    """
    y, c, g = _arrays(outcome, condition, cluster)
    if control not in set(c.tolist()):
        raise ValueError(f"no student is in the control condition {control!r}")
    x_cov = None
    if covariates is not None:
        x_cov = np.asarray(covariates, dtype=float).reshape(len(y), -1)
    st = None
    if strata is not None:
        if len(strata) != len(y):
            raise ValueError("strata must be one value per student")
        st = np.unique(np.asarray(strata, dtype=str), return_inverse=True)[1]
    out = []
    for name in sorted(set(c.tolist()) - {control}):
        keep = np.isin(c, [name, control]) & np.isfinite(y)
        if x_cov is not None:
            keep &= np.all(np.isfinite(x_cov), axis=1)
        yt, treated = y[keep], (c[keep] == name).astype(float)
        n1, n0 = int(treated.sum()), int((1 - treated).sum())
        if n1 < 2 or n0 < 2:
            raise ValueError(f"too few students with an outcome to compare {name!r}")
        xc = None if x_cov is None else x_cov[keep]
        sk = None if st is None else st[keep]
        clusters = None
        cov_type = "HC2"
        if g is None:
            y_fit, t_fit = yt, treated
            cov_type = "HC3"
            method = "least squares, HC3 standard errors"
        else:
            groups = np.unique(g[keep].astype(str), return_inverse=True)[1]
            clusters = int(groups.max() + 1)
            if clusters < 4:
                raise ValueError("a section-level comparison needs at least 4 sections")
            size = np.bincount(groups).astype(float)
            t_fit = np.bincount(groups, treated) / size
            if np.any((t_fit > 0) & (t_fit < 1)):
                raise ValueError("assignment by section needs one condition per section")
            y_fit = np.bincount(groups, yt) / size
            if xc is not None:
                xc = np.column_stack([np.bincount(groups, col) / size for col in xc.T])
            if sk is not None:
                first = np.zeros(clusters, dtype=np.int64)
                first[groups[::-1]] = sk[::-1]
                sk = first
            method = f"least squares on the means of {clusters} sections, HC2 standard errors"
        cols = [np.ones_like(y_fit), t_fit]
        if sk is not None:
            cols.extend(_strata_columns(sk))
        if xc is not None:
            cols.extend((xc - xc.mean(axis=0)).T)
        fit = sm.OLS(y_fit, np.column_stack(cols)).fit(cov_type=cov_type, use_t=True)
        est, se = float(fit.params[1]), float(fit.bse[1])
        low, high = (float(v) for v in np.asarray(fit.conf_int(alpha=alpha))[1])
        s1, s0 = yt[treated == 1].std(ddof=1), yt[treated == 0].std(ddof=1)
        pooled = float(np.sqrt(((n1 - 1) * s1**2 + (n0 - 1) * s0**2) / (n1 + n0 - 2)))
        j = 1 - 3 / (4 * (n1 + n0) - 9)  # Hedges' small-sample correction
        scale = j / pooled if pooled > 0 else float("nan")
        out.append(
            Effect(
                condition=name, control=control, estimate=est, std_error=se,
                ci_low=low, ci_high=high, p_value=float(fit.pvalues[1]),
                hedges_g=est * scale, g_ci_low=low * scale, g_ci_high=high * scale,
                mean_condition=float(yt[treated == 1].mean()),
                mean_control=float(yt[treated == 0].mean()),
                students_condition=n1, students_control=n0, clusters=clusters, method=method,
            )
        )  # fmt: skip
    return out


@dataclass(frozen=True)
class Attrition:
    """Overall and differential attrition (shares), against the WWC boundaries."""

    randomized: dict[str, int]
    analyzed: dict[str, int]
    overall: float
    differential: float
    cautious_limit: float | None
    optimistic_limit: float | None

    @property
    def low_cautious(self) -> bool:
        limit = self.cautious_limit
        return limit is not None and self.differential <= limit + 1e-9

    @property
    def low_optimistic(self) -> bool:
        limit = self.optimistic_limit
        return limit is not None and self.differential <= limit + 1e-9

    @property
    def verdict(self) -> str:
        if self.low_cautious:
            return "low attrition (within the What Works Clearinghouse's cautious boundary)"
        if self.low_optimistic:
            return "low attrition only under the optimistic boundary"
        return "high attrition: the groups may no longer be comparable"


def _limit(table: Float, overall_pct: float) -> float | None:
    """The boundary (a share) at this overall attrition; None where attrition is high anyway."""
    row = int(np.floor(overall_pct + 0.5 + 1e-9))
    return float(table[row]) / 100 if row < len(table) else None


def attrition(randomized: Mapping[str, int], analyzed: Mapping[str, int]) -> Attrition:
    """Attrition of an experiment from the number randomized and analyzed in each condition;
    differential attrition is the largest gap between two conditions' rates."""
    if set(randomized) != set(analyzed) or len(randomized) < 2:
        raise ValueError("randomized and analyzed must name the same two or more conditions")
    rates = {}
    for k, n in randomized.items():
        if n <= 0 or not 0 <= analyzed[k] <= n:
            raise ValueError(f"condition {k!r}: need 0 <= analyzed <= randomized, randomized > 0")
        rates[k] = 1 - analyzed[k] / n
    total = sum(randomized.values())
    overall = 1 - sum(analyzed.values()) / total
    differential = max(rates.values()) - min(rates.values())
    return Attrition(
        randomized=dict(randomized), analyzed=dict(analyzed), overall=overall,
        differential=differential, cautious_limit=_limit(_WWC_CAUTIOUS, overall * 100),
        optimistic_limit=_limit(_WWC_OPTIMISTIC, overall * 100),
    )  # fmt: skip


@dataclass(frozen=True)
class SubgroupEffect:
    group: str
    students: int | None
    effect: Effect | None
    suppressed: bool


def subgroup_effects(
    outcome: ArrayLike,
    condition: Sequence[str],
    subgroup: Sequence[str],
    *,
    control: str,
    treated: str,
    cluster: Sequence[object] | None = None,
    min_cell: int = MIN_CELL,
) -> tuple[list[SubgroupEffect], float | None]:
    """The effect of ``treated`` within each subgroup, with groups of fewer than ``min_cell``
    students in either arm suppressed, and the p-value of the test that the effect is the same
    in every shown subgroup (None when fewer than two are shown)."""
    y, c, g = _arrays(outcome, condition, cluster)
    s = np.asarray(subgroup, dtype=str)
    keep = np.isin(c, [treated, control]) & np.isfinite(y)
    counts = {}
    for name in sorted(set(s[keep].tolist())):
        in_group = keep & (s == name)
        counts[name] = int(min((c[in_group] == treated).sum(), (c[in_group] == control).sum()))
    hidden = suppressed(counts, min_cell=min_cell)
    rows = []
    for name in sorted(counts):
        if name in hidden:
            rows.append(SubgroupEffect(name, None, None, True))
            continue
        m = keep & (s == name)
        effect = estimate_effects(
            y[m], c[m].tolist(), control=control, cluster=None if g is None else g[m].tolist()
        )[0]
        rows.append(SubgroupEffect(name, int(m.sum()), effect, False))
    shown = [r.group for r in rows if not r.suppressed]
    if len(shown) < 2:
        return rows, None
    m = keep & np.isin(s, shown)
    t = (c[m] == treated).astype(float)
    dummies = (s[m][:, None] == np.array(shown[1:])[None, :]).astype(float)
    x = np.column_stack([np.ones_like(t), t, dummies, dummies * t[:, None]])
    if g is None:
        fit = sm.OLS(y[m], x).fit(cov_type="HC3", use_t=True)
    else:
        groups = np.unique(g[m].astype(str), return_inverse=True)[1]
        fit = sm.OLS(y[m], x).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    k = len(shown) - 1
    restriction = np.zeros((k, x.shape[1]))
    restriction[np.arange(k), 2 + k + np.arange(k)] = 1
    return rows, float(fit.f_test(restriction).pvalue)


def adjust_pvalues(p_values: Sequence[float], method: str = "holm") -> list[float]:
    """p-values adjusted for testing several outcomes at once (Holm by default; "fdr_bh" for
    Benjamini-Hochberg)."""
    if not p_values:
        return []
    return [float(v) for v in multipletests(list(p_values), method=method)[1]]


def describe(effect: Effect, *, outcome: str, level: float = 0.95) -> str:
    """The result in one plain sentence, with its interval."""
    width = f"{level:.0%}"
    interval = f"({width} interval {effect.ci_low:+.3g} to {effect.ci_high:+.3g})"
    if effect.significant:
        direction = "more" if effect.estimate > 0 else "less"
        return (
            f"Students in {effect.condition} had {abs(effect.estimate):.3g} {direction} "
            f"{outcome} than those in {effect.control} {interval}; an effect size of "
            f"{effect.hedges_g:+.2f} standard deviations. The difference is unlikely to be "
            "chance."
        )
    return (
        f"No clear difference: students in {effect.condition} had {effect.estimate:+.3g} "
        f"{outcome} compared with {effect.control} {interval}. The interval includes zero, so "
        "this experiment cannot tell the conditions apart."
    )
