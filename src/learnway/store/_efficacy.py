"""What the efficacy analyses read from the school database: a weekly (or daily) panel of
mastery with each student's support start dates, and the attempts of a course with their
items, steps and the learner model's parameters. The analyses themselves are
:func:`learnway.analytics.support_effect` and :func:`learnway.analytics.content_efficacy`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from learnway.analytics import Efficacy, content_efficacy
from learnway.store._schema import (
    Attempt,
    Enrollment,
    ItemRow,
    MasteryEvent,
    StepAlignment,
    StepRow,
    Support,
)
from learnway.store._state import LiveCourse, live_versions, mastered_counts


@dataclass(frozen=True)
class SupportPanel:
    """``mastery[s, d]``: competencies mastered by student ``s`` at the end of day ``d`` of
    ``days`` (the first is ``first_day``); ``starts[kind][s]``: the day index the student
    started that support (NaN: not within the panel, or never)."""

    students: list[int]
    first_day: dt.date
    mastery: NDArray[np.float64]
    starts: dict[str, NDArray[np.float64]]
    ever: dict[str, NDArray[np.bool_]]
    section: list[int]


def support_panel(
    session: Session, students: Sequence[int], *, days: int, today: dt.date
) -> SupportPanel:
    """The daily mastery of ``students`` over the last ``days`` days, and their supports."""
    ids = list(students)
    first = today - dt.timedelta(days=days - 1)
    start = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    base = mastered_counts(session, ids, until=start)
    row = {s: i for i, s in enumerate(ids)}
    daily = np.zeros((len(ids), days))
    events = session.execute(
        select(MasteryEvent.student_id, MasteryEvent.at, MasteryEvent.mastered_change).where(
            MasteryEvent.student_id.in_(ids),
            MasteryEvent.model_version.in_(live_versions(session)),
            MasteryEvent.mastered_change != 0,
            MasteryEvent.at >= start,
        )
    ).all()
    if events:
        r = np.array([row[s] for s, _, _ in events])
        d = np.array([(at.date() - first).days for _, at, _ in events])
        ok = (d >= 0) & (d < days)
        np.add.at(daily, (r[ok], d[ok]), np.array([c for _, _, c in events], dtype=float)[ok])
    mastery = np.array([base[s] for s in ids], dtype=float)[:, None] + np.cumsum(daily, axis=1)
    starts: dict[str, NDArray[np.float64]] = {}
    ever: dict[str, NDArray[np.bool_]] = {}
    for sid, kind, began in session.execute(
        select(Support.student_id, Support.kind, Support.start_date).where(
            Support.student_id.in_(ids), Support.start_date <= today
        )
    ):
        starts.setdefault(kind, np.full(len(ids), np.nan))
        ever.setdefault(kind, np.zeros(len(ids), dtype=bool))
        ever[kind][row[sid]] = True
        offset = (began - first).days
        if 0 <= offset < days:
            starts[kind][row[sid]] = float(offset)
    section_of: dict[int, int] = {}
    for sid, sec in session.execute(
        select(Enrollment.user_id, Enrollment.section_id)
        .where(Enrollment.user_id.in_(ids), Enrollment.role == "student")
        .order_by(Enrollment.section_id)
    ):
        section_of.setdefault(sid, sec)
    return SupportPanel(
        students=ids, first_day=first, mastery=mastery, starts=starts, ever=ever,
        section=[section_of.get(s, 0) for s in ids],
    )  # fmt: skip


@dataclass(frozen=True)
class ContentTable:
    """Content efficacy of a course's items and of its steps' hints."""

    item_keys: list[str]
    item_titles: list[str]
    items: Efficacy
    step_keys: list[str]
    hints: Efficacy
    attempts: int


def content_table(session: Session, live: LiveCourse, *, min_uses: int = 20) -> ContentTable:
    """Learning gain per item, and per step's hints (attempts after a hint), from the attempts
    on the course under the live model's parameters."""
    index = {int(c): i for i, c in enumerate(live.competency_ids)}
    items = session.execute(
        select(ItemRow.id, ItemRow.key, ItemRow.title)
        .where(ItemRow.framework_id == live.framework_id)
        .order_by(ItemRow.key)
    ).all()
    item_row = {i: k for k, (i, _, _) in enumerate(items)}
    steps = session.execute(
        select(StepRow.id, StepRow.key)
        .join(ItemRow, ItemRow.id == StepRow.item_id)
        .where(ItemRow.framework_id == live.framework_id)
        .order_by(StepRow.key)
    ).all()
    step_row = {i: k for k, (i, _) in enumerate(steps)}
    rows = session.execute(
        select(
            Attempt.student_id, StepAlignment.competency_id, StepRow.item_id, Attempt.step_id,
            Attempt.correct, Attempt.hints_used,
        )
        .join(StepRow, StepRow.id == Attempt.step_id)
        .join(StepAlignment, StepAlignment.step_id == Attempt.step_id)
        .where(
            StepAlignment.competency_id.in_(list(index)), Attempt.kind != "worked_example"
        )
        .order_by(Attempt.student_id, Attempt.timestamp, Attempt.id)
    ).all()  # fmt: skip
    n = len(live.competency_ids)
    p = live.course.params
    init, learn, guess, slip = (
        np.broadcast_to(np.asarray(getattr(p, name), dtype=float), (n,)).copy()
        for name in ("p_init", "p_learn", "p_guess", "p_slip")
    )
    student = np.array([r[0] for r in rows], dtype=np.int64)
    competency = np.array([index[r[1]] for r in rows], dtype=np.int64)
    hinted = np.array([r[5] > 0 for r in rows], dtype=bool)
    correct = np.array([bool(r[4]) for r in rows], dtype=float) * ~hinted
    item = np.array([item_row.get(r[2], -1) for r in rows], dtype=np.int64)
    step = np.array([step_row.get(r[3], -1) for r in rows], dtype=np.int64)
    by_item = content_efficacy(
        student, competency, item, correct, p_init=init, p_learn=learn, p_guess=guess,
        p_slip=slip, n_units=len(items), min_uses=min_uses,
    )  # fmt: skip
    by_hint = content_efficacy(
        student, competency, np.where(hinted, step, -1), correct, n_units=len(steps),
        p_init=init, p_learn=learn, p_guess=guess, p_slip=slip, min_uses=min_uses,
    )  # fmt: skip
    return ContentTable(
        item_keys=[k for _, k, _ in items], item_titles=[t for _, _, t in items],
        items=by_item, step_keys=[k for _, k in steps], hints=by_hint, attempts=len(rows),
    )  # fmt: skip
