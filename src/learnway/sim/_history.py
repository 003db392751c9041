"""A realistic practice history for a demo school, from the simulator and the planner."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from learnway.paths import CourseGraph, Placement, Planner
from learnway.sim._classroom import Term, run_term
from learnway.sim._policies import PlannerPolicy
from learnway.sim._world import sample_students


def simulate_history(
    course: CourseGraph,
    n_students: int,
    days: int,
    seed: int,
    *,
    start: dt.datetime | None = None,
    minutes_per_day: float = 20.0,
) -> pd.DataFrame:
    """Attempts of ``n_students`` simulated students following the planner (after a placement
    check) over the ``days`` calendar days from ``start``, one row per attempt.

    Practice happens on school days only: the weekdays (Monday to Friday) of that span, each
    from the time of day of ``start`` (by default 09:00, ``days`` days before today, so the
    history ends yesterday). Columns: ``student`` (index), ``step`` (key), ``competency``
    (code), ``correct``, ``hints_used``, ``duration_s`` and ``timestamp``.
    Deterministic under ``seed``.
    """
    if start is None:
        start = dt.datetime.combine(dt.date.today() - dt.timedelta(days=days), dt.time(9, 0))
    first = np.datetime64(start.date(), "D")
    school_days = np.flatnonzero(np.is_busday(first + np.arange(days)))
    rng = np.random.default_rng(seed)
    students = sample_students(course.graph, n_students, rng)
    planner = Planner(course.graph, course.bank, course.params, policy=course.policy())
    policy = PlannerPolicy(planner, placement=Placement(course.graph, course.params))
    term = Term(days=max(school_days.size, 1), minutes_per_day=minutes_per_day)
    result = run_term(course, students, policy, term, rng, log=True)
    frame = result.attempt_log
    assert frame is not None
    if school_days.size == 0:  # a span without a weekday: no practice
        frame = frame.iloc[:0]
    school_day = np.floor(frame["day"].to_numpy())
    seconds = (frame["day"].to_numpy() - school_day) * 86400.0
    calendar_day = school_days[school_day.astype(np.int64)] if school_days.size else school_day
    stamps = (
        pd.Timestamp(start)
        + pd.to_timedelta(calendar_day, unit="D")
        + pd.to_timedelta(seconds, unit="s")
    )
    frame = frame.drop(columns="day").assign(timestamp=stamps)
    return frame.sort_values(["timestamp", "student"], kind="stable").reset_index(drop=True)
