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
    """Attempts of ``n_students`` simulated students following the planner for ``days`` school
    days (after a placement check), one row per attempt.

    Columns: ``student`` (index), ``step`` (key), ``competency`` (code), ``correct``,
    ``hints_used``, ``duration_s`` and ``timestamp`` (school days from ``start`` at 09:00, by
    default the Monday ``days`` calendar days before today, skipping no days).
    Deterministic under ``seed``.
    """
    rng = np.random.default_rng(seed)
    students = sample_students(course.graph, n_students, rng)
    planner = Planner(course.graph, course.bank, course.params, policy=course.policy())
    policy = PlannerPolicy(planner, placement=Placement(course.graph, course.params))
    result = run_term(
        course, students, policy, Term(days=days, minutes_per_day=minutes_per_day), rng, log=True
    )
    frame = result.attempt_log
    assert frame is not None
    if start is None:
        today = dt.date.today() - dt.timedelta(days=days)
        monday = today - dt.timedelta(days=today.weekday())
        start = dt.datetime.combine(monday, dt.time(9, 0))
    day = np.floor(frame["day"].to_numpy())
    seconds = (frame["day"].to_numpy() - day) * 86400.0
    stamps = (
        pd.Timestamp(start) + pd.to_timedelta(day, unit="D") + pd.to_timedelta(seconds, unit="s")
    )
    frame = frame.drop(columns="day").assign(timestamp=stamps)
    return frame.sort_values(["timestamp", "student"], kind="stable").reset_index(drop=True)
