"""From the database to the learner model and the planner: a stored course as the planner's
graph, the stored evidence in the learner models' order, and a replay of it.

The live state that requests read is kept by :mod:`learnway.store._state`; a replay
(:func:`learner_state`) is for background work, calibration and checks. Times on the planner's
clock are days since the Unix epoch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from learnway.frameworks import Competency, Framework
from learnway.paths import CourseGraph, LearnerState, MasteryPolicy, replay_attempts
from learnway.store._schema import (
    KT_PARAMETERS,
    Attempt,
    CompetencyFit,
    CompetencyRow,
    Course,
    Enrollment,
    FrameworkRow,
    ItemRow,
    LearnerModelRow,
    Prerequisite,
    Section,
    StepAlignment,
    StepRow,
)

SECONDS_PER_DAY = 86_400.0


def day_of(moment: dt.datetime) -> float:
    """A timezone-aware time on the planner's clock (days since the epoch)."""
    return moment.timestamp() / SECONDS_PER_DAY


def moment_of(day: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(day * SECONDS_PER_DAY, tz=dt.UTC)


def load_framework(
    session: Session, framework_id: int, *, params: Mapping[str, Mapping[str, Any]] | None = None
) -> Framework:
    """Rebuild the validated framework stored under ``framework_id``, with the parameters fitted
    on the school's attempts where there are some (``competency_fits``, or ``params`` by
    competency code where given), else the content's."""
    header = session.get(FrameworkRow, framework_id)
    if header is None:
        raise LookupError(f"no framework with id {framework_id}")
    rows = session.scalars(
        select(CompetencyRow)
        .where(CompetencyRow.framework_id == framework_id)
        .order_by(CompetencyRow.sequence)
    ).all()
    code_of = {row.id: row.code for row in rows}
    fits = {
        fit.competency_id: fit
        for fit in session.scalars(
            select(CompetencyFit)
            .join(CompetencyRow, CompetencyRow.id == CompetencyFit.competency_id)
            .where(CompetencyRow.framework_id == framework_id)
        )
    }
    edges = session.execute(
        select(Prerequisite.before_id, Prerequisite.after_id).where(
            Prerequisite.after_id.in_(
                select(CompetencyRow.id).where(CompetencyRow.framework_id == framework_id)
            )
        )
    ).all()
    return Framework.build(
        origin=f"database framework {header.key}",
        key=header.key,
        title=header.title,
        source=header.source,
        license=header.license,
        attribution=header.attribution,
        competencies=tuple(
            Competency(
                code=row.code,
                title=row.title,
                description=row.description,
                kind=row.kind,
                grade=row.grade,
                parent=code_of.get(row.parent_id) if row.parent_id else None,
                sequence=row.sequence,
                mastery_threshold=row.mastery_threshold,
                **(
                    {name: params[row.code][name] for name in KT_PARAMETERS}
                    if params is not None and row.code in params
                    else {name: getattr(fits.get(row.id, row), name) for name in KT_PARAMETERS}
                ),
            )
            for row in rows
        ),
        prerequisites=tuple(sorted((code_of[a], code_of[b]) for a, b in edges)),
    )


def load_course(
    session: Session, framework_id: int, *, params: Mapping[str, Mapping[str, Any]] | None = None
) -> CourseGraph:
    """The planner's view of a stored course: its graph, steps and parameters."""
    framework = load_framework(session, framework_id, params=params)
    rows = session.execute(
        select(StepRow.key, ItemRow.key, CompetencyRow.code)
        .join(ItemRow, StepRow.item_id == ItemRow.id)
        .join(StepAlignment, StepAlignment.step_id == StepRow.id)
        .join(CompetencyRow, CompetencyRow.id == StepAlignment.competency_id)
        .where(ItemRow.framework_id == framework_id)
        .order_by(ItemRow.key, StepRow.position, CompetencyRow.sequence)
    ).all()
    steps: dict[str, tuple[str, list[str]]] = {}
    for step, item, code in rows:
        steps.setdefault(step, (item, []))[1].append(code)
    return CourseGraph.from_framework(
        framework, steps=[(step, item, codes) for step, (item, codes) in steps.items()]
    )


def _first_course(*columns: Any) -> Select[Any]:
    """The framework of the first course of the student ``student`` (a bound parameter)."""
    return (
        select(Course.framework_id, *columns)
        .join(Section, Section.course_id == Course.id)
        .join(Enrollment, Enrollment.section_id == Section.id)
        .where(Enrollment.user_id == bindparam("student"), Enrollment.role == "student")
        .order_by(Section.id)
        .limit(1)
    )


_COURSE = _first_course()
_LIVE_COURSE = _first_course(
    select(LearnerModelRow.id)
    .where(LearnerModelRow.framework_id == Course.framework_id,
           LearnerModelRow.status == "active")
    .order_by(LearnerModelRow.id.desc())
    .limit(1)
    .scalar_subquery()
)  # fmt: skip


def course_of_student(session: Session, student_id: int) -> int | None:
    """The framework of the first course the student is enrolled in, if any."""
    return session.scalar(_COURSE, {"student": student_id})


def live_course_of_student(session: Session, student_id: int) -> tuple[int, int] | None:
    """The framework of the student's first course and its live model version
    (:func:`learnway.store.active_version`), in one read; None without a course."""
    row = session.execute(_LIVE_COURSE, {"student": student_id}).first()
    if row is None or row[0] is None:
        return None
    return int(row[0]), int(row[1] or 0)


def aligned_attempts() -> Select[int, str, bool, int, dt.datetime, str, str]:
    """Stored attempts, one row per competency their step is aligned to: student, competency
    code, correct, hints used, time, attempt id and kind of evidence, in time order (steps'
    competencies in course order)."""
    return (
        select(
            Attempt.student_id, CompetencyRow.code, Attempt.correct, Attempt.hints_used,
            Attempt.timestamp, Attempt.id, Attempt.kind,
        )
        .join(StepAlignment, StepAlignment.step_id == Attempt.step_id)
        .join(CompetencyRow, CompetencyRow.id == StepAlignment.competency_id)
        .order_by(Attempt.timestamp, Attempt.id, CompetencyRow.sequence)
    )  # fmt: skip


@dataclass(frozen=True)
class Evidence:
    """Stored attempts of some students as the learner state's arrays (one entry per aligned
    competency of the course, in time order): row of the student, competency index, correct,
    hints, day and attempt id."""

    students: NDArray[np.int64]
    competencies: NDArray[np.int64]
    correct: NDArray[np.bool_]
    hints: NDArray[np.int64]
    days: NDArray[np.float64]
    attempt_ids: list[str]
    kinds: NDArray[np.object_]


def evidence_of(
    session: Session,
    course: CourseGraph,
    student_ids: Sequence[int],
    *,
    until: dt.datetime | None = None,
) -> Evidence:
    query = aligned_attempts().where(Attempt.student_id.in_(student_ids))
    if until is not None:
        query = query.where(Attempt.timestamp <= until)
    rows = session.execute(query).all() if student_ids else []
    row_of = {student: i for i, student in enumerate(student_ids)}
    index = course.graph.index
    kept = [r for r in rows if r[1] in index]
    return Evidence(
        students=np.array([row_of[r[0]] for r in kept], dtype=np.int64),
        competencies=np.array([index[r[1]] for r in kept], dtype=np.int64),
        correct=np.array([r[2] for r in kept], dtype=bool),
        hints=np.array([r[3] for r in kept], dtype=np.int64),
        days=np.array([day_of(r[4]) for r in kept], dtype=np.float64),
        attempt_ids=[r[5] for r in kept],
        kinds=np.array([r[6] for r in kept], dtype=object),
    )


def learner_state(
    session: Session,
    course: CourseGraph,
    student_ids: Sequence[int],
    *,
    policy: MasteryPolicy | None = None,
    until: dt.datetime | None = None,
    on_round: Callable[[NDArray[np.int64], LearnerState, LearnerState], None] | None = None,
    start: LearnerState | None = None,
) -> LearnerState:
    """The learner state of ``student_ids`` (rows in that order), replayed from their attempts
    (from ``start``, else the content's priors): work that grows with the history, for
    background jobs, calibration and checks only."""
    policy = policy or course.policy()
    ev = evidence_of(session, course, student_ids, until=until)
    return replay_attempts(
        start or LearnerState.new(len(student_ids), course.params), ev.students, ev.competencies,
        ev.correct, now=ev.days, params=course.params, graph=course.graph, policy=policy,
        hints=ev.hints, kind=ev.kinds, on_round=on_round,
    )  # fmt: skip
