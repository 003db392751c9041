"""Pacing: when each student will have mastered the required competencies, with a band."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from learnway.paths._calendar import SchoolCalendar


def forecast_pacing(
    mastered: ArrayLike,
    remaining: ArrayLike,
    days_elapsed: ArrayLike,
    *,
    now: float,
    deadline: float,
    prior_rate: float = 1.0,
    prior_weight: float = 2.0,
    band: float = 0.8,
    calendar: SchoolCalendar | None = None,
) -> pd.DataFrame:
    """Forecast, per student, the day all required competencies are mastered.

    Mastery events are treated as a Poisson process: the rate has a Gamma posterior from
    ``mastered`` events in ``days_elapsed`` days and a prior of ``prior_rate`` competencies a day
    worth ``prior_weight`` days. The forecast is ``now + remaining / rate`` at the posterior
    median, and the band its central ``band`` interval. A student is at risk when the forecast
    falls after the deadline. Days are on the same clock as ``now`` and ``deadline``.

    With a ``calendar``, ``days_elapsed`` counts school days (the rate is per school day: see
    :meth:`SchoolCalendar.school_days_between`) and the forecasts are the days by which the
    remaining work fits into the school days ahead (weekends and days off skipped).
    """
    done = np.asarray(mastered, dtype=np.float64)
    left = np.asarray(remaining, dtype=np.float64)
    days = np.asarray(days_elapsed, dtype=np.float64)
    if np.any(done < 0) or np.any(left < 0) or np.any(days < 0):
        raise ValueError("mastered, remaining and days_elapsed must be non-negative")
    shape = done + prior_rate * prior_weight
    scale = 1.0 / (days + prior_weight)
    tail = (1.0 - band) / 2.0
    rate_mid = stats.gamma.ppf(0.5, shape, scale=scale)
    rate_fast = stats.gamma.ppf(1.0 - tail, shape, scale=scale)
    rate_slow = stats.gamma.ppf(tail, shape, scale=scale)
    if calendar is None:
        forecast = now + left / rate_mid
        early = now + left / rate_fast
        late = now + left / rate_slow
    else:
        forecast = calendar.after_school_days(now, left / rate_mid)
        early = calendar.after_school_days(now, left / rate_fast)
        late = calendar.after_school_days(now, left / rate_slow)
    return pd.DataFrame(
        {
            "rate_per_day": rate_mid,
            "remaining": left,
            "forecast": forecast,
            "early": early,
            "late": late,
            "at_risk": forecast > deadline,
            "may_slip": (late > deadline) & (forecast <= deadline),
        }
    )


def section_pacing(forecast: pd.DataFrame, section: ArrayLike) -> pd.DataFrame:
    """Roll per-student forecasts up per section: students, at risk (count and share), the
    median forecast and the band of the middle 80% of students' forecasts."""
    frame = forecast.assign(section=np.asarray(section))
    grouped = frame.groupby("section", sort=True)
    out = grouped.agg(
        students=("forecast", "size"),
        at_risk=("at_risk", "sum"),
        forecast=("forecast", "median"),
        early=("forecast", lambda f: float(np.quantile(f, 0.1))),
        late=("forecast", lambda f: float(np.quantile(f, 0.9))),
    )
    out["share_at_risk"] = out["at_risk"] / out["students"]
    return out.reset_index()
