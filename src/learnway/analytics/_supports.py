"""Efficacy of a support (tutoring, mentoring, health, after-school) without an experiment:
students who started it against comparable students who did not, growth before and after.

For each supported student starting in week ``t0`` the weekly panel of mastery is cut into
three windows of ``window`` weeks: A = [t0-2w, t0-w], B = [t0-w, t0] (before the start) and
C = [t0, t0+w] (after). The comparison student is the nearest never-supported student of the
same section (and subgroup, when one is there) on the trajectory *before* A (the level at the
start of A and the growth over the window before it), so that no window of the analysis is
used to choose them. The estimate is the mean over supported students of the difference in
differences (C - B) of growth, per week; the parallel-trends check is the same difference one
window earlier (B - A), which should be near zero. Standard errors are clustered by section,
since a comparison student can serve more than once there.

This is correlational evidence: students are not assigned supports at random, and a reason
for starting a support that also changes growth (a crisis, a new teacher) biases it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from numpy.typing import ArrayLike, NDArray

Float = NDArray[np.float64]

CAVEAT = (
    "This is correlational evidence, not the result of an experiment. Students who started "
    "the support are compared with similar students of the same class who did not (same "
    "earlier mastery and growth, same subgroup where possible), before and after the start. "
    "Whatever led to the support could also have changed their growth, so treat the estimate "
    "as a lead to test, not a proof."
)


@dataclass(frozen=True)
class SupportEffect:
    """The estimated change in weekly mastery growth after starting a support."""

    students: int
    sections: int
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    pretrend: float
    pretrend_ci_low: float
    pretrend_ci_high: float
    pretrend_p: float
    window: int
    event_weeks: list[int]
    supported_path: list[float]
    comparison_path: list[float]

    @property
    def parallel_trends_ok(self) -> bool:
        return self.pretrend_ci_low <= 0 <= self.pretrend_ci_high

    @property
    def significant(self) -> bool:
        return self.ci_low > 0 or self.ci_high < 0


def _mean_ci(values: Float, groups: NDArray[np.int64], alpha: float) -> tuple[float, ...]:
    x = np.ones((len(values), 1))
    n_groups = len(np.unique(groups))
    if n_groups >= 4:
        fit = sm.OLS(values, x).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    else:
        fit = sm.OLS(values, x).fit(cov_type="HC2", use_t=True)
    low, high = np.asarray(fit.conf_int(alpha=alpha))[0]
    return float(fit.params[0]), float(low), float(high), float(fit.pvalues[0])


def support_effect(
    mastery: ArrayLike,
    start_week: ArrayLike,
    section: Sequence[object],
    subgroup: Sequence[object] | None = None,
    *,
    window: int = 4,
    alpha: float = 0.05,
    min_students: int = 10,
) -> SupportEffect | None:
    """The difference-in-differences estimate for one support.

    ``mastery`` is students x weeks (competencies mastered at the end of each week);
    ``start_week`` the week each student started the support (NaN: never). Returns None when
    fewer than ``min_students`` supported students have the weeks the windows need.
    """
    y = np.asarray(mastery, dtype=float)
    start = np.asarray(start_week, dtype=float)
    if y.ndim != 2 or len(start) != len(y) or len(section) != len(y):
        raise ValueError("mastery is students x weeks; one start week and section per student")
    if window < 1:
        raise ValueError("window must be at least 1 week")
    weeks = y.shape[1]
    sec = np.unique(np.asarray(section, dtype=str), return_inverse=True)[1]
    sub = (
        np.zeros(len(y), dtype=np.int64)
        if subgroup is None
        else np.unique(np.asarray(subgroup, dtype=str), return_inverse=True)[1]
    )
    w = window
    never = np.isnan(start)
    t0 = np.where(never, -1, np.nan_to_num(start, nan=-1)).astype(int)
    usable = ~never & (t0 >= 3 * w) & (t0 + w < weeks)
    pool = np.flatnonzero(never)
    treated = np.flatnonzero(usable)
    if len(treated) < min_students or len(pool) == 0:
        return None
    scale = np.nanstd(np.diff(y, axis=1)) * w + 1e-9
    d_effect, d_pre, groups, partner = [], [], [], []
    for i in treated:
        a0 = t0[i] - 2 * w
        level = y[pool, a0]
        growth = y[pool, a0] - y[pool, a0 - w]
        distance = (
            (np.abs(level - y[i, a0]) + np.abs(growth - (y[i, a0] - y[i, a0 - w]))) / scale
            + 1000.0 * (sec[pool] != sec[i])
            + 10.0 * (sub[pool] != sub[i])
        )
        j = pool[int(np.argmin(distance))]
        partner.append(j)
        ga = y[[i, j], t0[i] - w] - y[[i, j], a0]
        gb = y[[i, j], t0[i]] - y[[i, j], t0[i] - w]
        gc = y[[i, j], t0[i] + w] - y[[i, j], t0[i]]
        d_effect.append(((gc[0] - gb[0]) - (gc[1] - gb[1])) / w)
        d_pre.append(((gb[0] - ga[0]) - (gb[1] - ga[1])) / w)
        groups.append(sec[i])
    g = np.asarray(groups, dtype=np.int64)
    est, low, high, p = _mean_ci(np.asarray(d_effect), g, alpha)
    pre, pre_low, pre_high, pre_p = _mean_ci(np.asarray(d_pre), g, alpha)
    rel = np.arange(-2 * w, w + 1)
    rows = t0[treated][:, None] + rel[None, :]
    base_t = y[treated, t0[treated] - 2 * w][:, None]
    base_c = y[np.asarray(partner), t0[treated] - 2 * w][:, None]
    path_t = (y[treated[:, None], rows] - base_t).mean(axis=0)
    path_c = (y[np.asarray(partner)[:, None], rows] - base_c).mean(axis=0)
    return SupportEffect(
        students=len(treated), sections=len(np.unique(g)), estimate=est, ci_low=low,
        ci_high=high, p_value=p, pretrend=pre, pretrend_ci_low=pre_low,
        pretrend_ci_high=pre_high, pretrend_p=pre_p, window=w,
        event_weeks=[int(v) for v in rel], supported_path=[float(v) for v in path_t],
        comparison_path=[float(v) for v in path_c],
    )  # fmt: skip
