"""Power and minimum detectable effect of an experiment before it is launched, for the test
the analysis runs (:func:`learnway.analytics.estimate_effects`).

Assignment by student: a t-test of the condition's coefficient in least squares on the
outcome. Assignment by section: the same test on section means, whose variance is
``sd² * (icc + (1 - icc) / m)`` for sections of ``m`` students, so the design effect of
clustering is counted exactly. A covariate known before assignment (prior mastery) that
explains ``r2`` of the variance shrinks it by ``1 - r2``. Every term the analysis adjusts for
besides the condition (the strata of a stratified assignment beyond the first, covariates)
costs the t-test one degree of freedom, as in the fitted model. statsmodels' ``ttest_power``
(the noncentral t) does the arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.optimize import brentq
from scipy.stats import t as t_dist
from statsmodels.stats.power import ttest_power


@dataclass(frozen=True)
class Design:
    """What a power calculation needs to know about an experiment's design.

    ``units`` are students (``cluster_size`` 1) or sections of ``cluster_size`` students;
    ``treated_share`` is the share assigned to the condition compared with control; ``sd`` is
    the outcome's standard deviation among students and ``icc`` the share of it between
    sections.
    """

    units: int
    treated_share: float = 0.5
    cluster_size: float = 1.0
    icc: float = 0.0
    sd: float = 1.0
    r2: float = 0.0
    alpha: float = 0.05
    terms: int = 0

    def __post_init__(self) -> None:
        if self.units < 4:
            raise ValueError("units must be at least 4")
        if not 0 <= self.terms <= self.units - 3:
            raise ValueError("terms must lie in [0, units - 3]")
        if not 0 < self.treated_share < 1:
            raise ValueError("treated_share must lie in (0, 1)")
        if self.cluster_size < 1:
            raise ValueError("cluster_size must be at least 1")
        if not 0 <= self.icc < 1 or not 0 <= self.r2 < 1:
            raise ValueError("icc and r2 must lie in [0, 1)")
        if self.sd <= 0 or not 0 < self.alpha < 1:
            raise ValueError("sd must be positive and alpha in (0, 1)")

    @property
    def unit_sd(self) -> float:
        """The standard deviation of one unit's outcome (a student's, or a section's mean)."""
        m = self.cluster_size
        icc = self.icc if m > 1 else 0.0
        return self.sd * math.sqrt((icc + (1 - icc) / m) * (1 - self.r2))

    @property
    def design_effect(self) -> float:
        return 1 + (self.cluster_size - 1) * self.icc

    def _groups(self) -> tuple[float, float]:
        """The effective number of units of the comparison and the test's degrees of freedom."""
        treated = self.units * self.treated_share
        control = self.units - treated
        return treated * control / self.units, self.units - 2 - self.terms


def _t_power(d: float, nobs: float, df: float, alpha: float) -> float:
    value = float(ttest_power(d, nobs=nobs, alpha=alpha, df=df))
    if math.isnan(value):  # scipy's noncentral t fails far in its tail, where power is ~1
        crit = float(t_dist.isf(alpha / 2, df))
        nc = d * math.sqrt(nobs)
        value = float(t_dist.sf(crit - nc, df) + t_dist.cdf(-crit - nc, df))
    return value


def power_of(design: Design, effect: float) -> float:
    """The chance of a significant two-sided result when the true effect is ``effect``
    (in the outcome's own units)."""
    nobs, df = design._groups()
    d = abs(effect) / design.unit_sd
    if d == 0:
        return design.alpha
    return _t_power(d, nobs, df, design.alpha)


def minimum_detectable_effect(design: Design, power: float = 0.8) -> float:
    """The smallest true effect (outcome units) detected with probability ``power``."""
    if not design.alpha < power < 1:
        raise ValueError("power must lie between alpha and 1")
    nobs, df = design._groups()
    high = 0.25
    while _t_power(high, nobs, df, design.alpha) < power:
        high *= 2
    d = brentq(lambda v: _t_power(v, nobs, df, design.alpha) - power, 0.0, high, xtol=1e-12)
    return float(d) * design.unit_sd
