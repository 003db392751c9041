"""From the database to the learner model and the planner, and back.

The store keeps the evidence (attempts); the learner state is derived from it by replaying a
student's attempts through :func:`learnway.paths.apply_attempts`. The ``mastery`` table is a
cache of that derived state for dashboards, rewritten whenever a student's evidence changes.
Times on the planner's clock are days since the Unix epoch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
from sqlalchemy import Select, delete, insert, select
from sqlalchemy.orm import Session

from learnway.frameworks import Competency, Framework
from learnway.paths import (
    CourseGraph,
    LearnerState,
    MasteryPolicy,
    Planner,
    Recommendation,
    Status,
    apply_attempts,
    mastery_status,
)
from learnway.store._attempts import AttemptIn, AttemptReport, record_attempts
from learnway.store._schema import (
    KT_PARAMETERS,
    Attempt,
    CompetencyFit,
    CompetencyRow,
    Course,
    Enrollment,
    FrameworkRow,
    ItemRow,
    Mastery,
    Prerequisite,
    Section,
    StepAlignment,
    StepRow,
)

SECONDS_PER_DAY = 86_400.0
STATUS_NAMES = {
    Status.NOT_STARTED: "not_started",
    Status.PRACTICING: "practicing",
    Status.MASTERED: "mastered",
    Status.DUE_FOR_REVIEW: "due_for_review",
    Status.STUCK: "stuck",
}


def day_of(moment: dt.datetime) -> float:
    """A timezone-aware time on the planner's clock (days since the epoch)."""
    return moment.timestamp() / SECONDS_PER_DAY


def moment_of(day: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(day * SECONDS_PER_DAY, tz=dt.UTC)


def load_framework(session: Session, framework_id: int) -> Framework:
    """Rebuild the validated framework stored under ``framework_id``, with the parameters fitted
    on the school's attempts where there are some (``competency_fits``), else the content's."""
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
                **{name: getattr(fits.get(row.id, row), name) for name in KT_PARAMETERS},
            )
            for row in rows
        ),
        prerequisites=tuple(sorted((code_of[a], code_of[b]) for a, b in edges)),
    )


def load_course(session: Session, framework_id: int) -> CourseGraph:
    """The planner's view of a stored course: its graph, steps and parameters."""
    framework = load_framework(session, framework_id)
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


def course_of_student(session: Session, student_id: int) -> int | None:
    """The framework of the first course the student is enrolled in, if any."""
    return session.scalar(
        select(Course.framework_id)
        .join(Section, Section.course_id == Course.id)
        .join(Enrollment, Enrollment.section_id == Section.id)
        .where(Enrollment.user_id == student_id, Enrollment.role == "student")
        .order_by(Section.id)
        .limit(1)
    )


def aligned_attempts() -> Select[int, str, bool, int, dt.datetime]:
    """Stored attempts, one row per competency their step is aligned to: student, competency
    code, correct, hints used and time, in time order (steps' competencies in course order)."""
    return (
        select(
            Attempt.student_id, CompetencyRow.code, Attempt.correct, Attempt.hints_used,
            Attempt.timestamp,
        )
        .join(StepAlignment, StepAlignment.step_id == Attempt.step_id)
        .join(CompetencyRow, CompetencyRow.id == StepAlignment.competency_id)
        .order_by(Attempt.timestamp, Attempt.id, CompetencyRow.sequence)
    )  # fmt: skip


def learner_state(
    session: Session,
    course: CourseGraph,
    student_ids: Sequence[int],
    *,
    policy: MasteryPolicy | None = None,
    until: dt.datetime | None = None,
) -> LearnerState:
    """The learner state of ``student_ids`` (rows in that order), replayed from their attempts."""
    policy = policy or course.policy()
    state = LearnerState.new(len(student_ids), course.params)
    if not student_ids:
        return state
    query = aligned_attempts().where(Attempt.student_id.in_(student_ids))
    if until is not None:
        query = query.where(Attempt.timestamp <= until)
    rows = session.execute(query).all()
    row_of = {student: i for i, student in enumerate(student_ids)}
    index = course.graph.index
    kept = [r for r in rows if r[1] in index]
    if not kept:
        return state
    students = np.array([row_of[r[0]] for r in kept], dtype=np.int64)
    competencies = np.array([index[r[1]] for r in kept], dtype=np.int64)
    correct = np.array([r[2] for r in kept], dtype=bool)
    hints = np.array([r[3] for r in kept], dtype=np.int64)
    days = np.array([day_of(r[4]) for r in kept])
    # Replay in rounds: round k holds every student's k-th observation, so each call to
    # apply_attempts sees at most one attempt per student and the order within a student holds.
    order = np.argsort(students, kind="stable")
    turn = np.empty_like(order)
    starts = np.r_[0, np.flatnonzero(np.diff(students[order])) + 1]
    counts = np.diff(np.r_[starts, order.size])
    turn[order] = np.arange(order.size) - np.repeat(starts, counts)
    for k in range(int(turn.max()) + 1):
        at = np.flatnonzero(turn == k)
        state = apply_attempts(
            state, students[at], competencies[at], correct[at], now=days[at],
            params=course.params, graph=course.graph, policy=policy, hints=hints[at],
        )  # fmt: skip
    return state


def refresh_mastery(
    session: Session,
    course: CourseGraph,
    framework_id: int,
    student_ids: Sequence[int],
    *,
    now: dt.datetime | None = None,
) -> LearnerState:
    """Rewrite the ``mastery`` rows of ``student_ids`` from their evidence; return their state."""
    policy = course.policy()
    state = learner_state(session, course, student_ids, policy=policy)
    moment = now or dt.datetime.now(dt.UTC)
    status = mastery_status(state, policy, day_of(moment))
    ids = dict(
        session.execute(
            select(CompetencyRow.code, CompetencyRow.id).where(
                CompetencyRow.framework_id == framework_id
            )
        ).all()
    )
    column_ids = np.array([ids[code] for code in course.graph.codes])
    session.execute(
        delete(Mastery).where(
            Mastery.student_id.in_(student_ids), Mastery.competency_id.in_(column_ids.tolist())
        )
    )
    seen_s, seen_c = np.nonzero(state.evidence > 0)
    rows = [
        {
            "student_id": student_ids[s],
            "competency_id": int(column_ids[c]),
            "p_mastery": float(state.p_known[s, c]),
            "evidence_count": int(state.attempts[s, c]),
            "last_evidence_at": (
                None if np.isnan(state.last_seen[s, c]) else moment_of(state.last_seen[s, c])
            ),
            "status": STATUS_NAMES[Status(int(status[s, c]))],
            "updated_at": moment,
        }
        for s, c in zip(seen_s.tolist(), seen_c.tolist(), strict=True)
    ]
    if rows:
        session.execute(insert(Mastery), rows)
    return state


def record_practice(
    session: Session,
    course: CourseGraph,
    framework_id: int,
    attempts: Sequence[AttemptIn],
    *,
    now: dt.datetime | None = None,
) -> AttemptReport:
    """Store attempts and update the mastery of every student who made a new one."""
    report = record_attempts(session, attempts)
    stored = set(report.stored)
    students = sorted({a.student_id for a in attempts if a.id in stored})
    if students:
        refresh_mastery(session, course, framework_id, students, now=now)
    return report


def recommend(
    session: Session,
    course: CourseGraph,
    student_id: int,
    *,
    goals: Sequence[str] = (),
    interests: dict[str, float] | None = None,
    deadline: dt.date | None = None,
    now: dt.datetime | None = None,
) -> list[Recommendation]:
    """The student's short ranked list of next activities, with reasons."""
    moment = now or dt.datetime.now(dt.UTC)
    state = learner_state(session, course, [student_id])
    planner = Planner(course.graph, course.bank, course.params, policy=course.policy())
    deadline_day = None
    if deadline is not None:
        deadline_day = day_of(dt.datetime.combine(deadline, dt.time(), tzinfo=dt.UTC))
    return planner.recommend(
        state, day_of(moment), goals=[g for g in goals if g in course.graph.index],
        interests=interests, deadline=deadline_day, origin=dt.date(1970, 1, 1),
    )  # fmt: skip
