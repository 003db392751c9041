"""Placement checks in the store: who is asked, the questions, the answers, the starting belief.

A student new to a course (no evidence in it) is asked to take the placement check the first
time they open their path; a teacher can ask again ("place again"). The check is the adaptive
:class:`learnway.paths.Placement` with :data:`learnway.paths._placement.CHECK` (10 to 20
questions). Each answer is stored as an attempt of kind ``placement`` through
:func:`learnway.store.record_practice` (a check, not practice: it moves the answered
competency's estimate without a learning step). When the check ends, its result is stored as
the student's starting belief (``placements.priors``: likely known where the check is sure,
a raised prior where it is not, never mastery) and the student's state is replayed from it:
every replay starts from the latest finished check (:func:`starting_state`), so the state stays
what the attempt log and the check say.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from learnway.paths import LearnerState, Placement
from learnway.paths._placement import CHECK
from learnway.store._schema import Attempt, CompetencyRow, StepAlignment, StepRow
from learnway.store._schema import Placement as PlacementRow

OPEN = ("requested", "active")


@dataclass(frozen=True)
class Question:
    """The next question of a check: the competency it probes and the step that asks it."""

    competency: str
    step_id: int
    number: int
    at_most: int


@dataclass(frozen=True)
class PlacementSummary:
    """Where a student stands with placement in one course, for a teacher's list."""

    student_id: int
    status: str
    questions: int
    position: int | None
    total: int
    placed_at: str | None
    finished_at: dt.datetime | None


def check_for(course: Any) -> Placement:
    """The placement check of a course (its graph and knowledge-tracing parameters)."""
    return Placement(course.graph, course.params, **CHECK)


def latest(session: Session, student_id: int, framework_id: int) -> PlacementRow | None:
    return session.scalar(
        select(PlacementRow)
        .where(PlacementRow.student_id == student_id, PlacementRow.framework_id == framework_id)
        .order_by(PlacementRow.id.desc())
        .limit(1)
    )


def has_evidence(session: Session, student_id: int, framework_id: int) -> bool:
    """Whether the student has any attempt on a step of this course."""
    found = session.scalar(
        select(Attempt.id)
        .join(StepAlignment, StepAlignment.step_id == Attempt.step_id)
        .join(CompetencyRow, CompetencyRow.id == StepAlignment.competency_id)
        .where(Attempt.student_id == student_id, CompetencyRow.framework_id == framework_id)
        .limit(1)
    )
    return found is not None


def needs_placement(session: Session, student_id: int, framework_id: int) -> bool:
    """A check is due: one was asked for (or is under way), or the student is new to the
    course (no check yet and no evidence)."""
    row = latest(session, student_id, framework_id)
    if row is not None:
        return row.status in OPEN
    return not has_evidence(session, student_id, framework_id)


def request_placement(
    session: Session, *, student_id: int, framework_id: int, requested_by: int | None
) -> PlacementRow:
    """Ask for a check (a teacher's "place again", or a student starting one): the open one
    if there is one, else a new one."""
    row = latest(session, student_id, framework_id)
    if row is not None and row.status in OPEN:
        if requested_by is not None and row.requested_by_id is None:
            row.requested_by_id = requested_by
        return row
    row = PlacementRow(
        student_id=student_id,
        framework_id=framework_id,
        status="requested",
        requested_by_id=requested_by,
        created_at=dt.datetime.now(dt.UTC),
        answers=[],
    )
    session.add(row)
    session.flush()
    return row


def skip_placement(session: Session, *, student_id: int, framework_id: int) -> PlacementRow:
    """The student starts without the check (they may take it later from their path)."""
    row = request_placement(
        session, student_id=student_id, framework_id=framework_id, requested_by=None
    )
    row.status = "skipped"
    row.pending_step_id = row.pending_competency = None
    row.finished_at = dt.datetime.now(dt.UTC)
    return row


def posterior_of(place: Placement, row: PlacementRow) -> NDArray[np.float64]:
    """The check's belief over positions after the answers given so far (one row)."""
    posterior = place.start(1)
    index = place.graph.index
    for answer in row.answers:
        c = index.get(str(answer["competency"]))
        if c is not None:
            posterior = place.update(posterior, [c], [bool(answer["correct"])])
    return posterior


def next_question(session: Session, course: Any, row: PlacementRow) -> Question | None:
    """The question to ask now (the pending one, or the most informative next), or ``None``
    when the check is done."""
    if row.status not in OPEN:
        return None
    place = check_for(course)
    asked_n = len(row.answers)
    if row.pending_step_id is not None and row.pending_competency is not None:
        return Question(row.pending_competency, row.pending_step_id, asked_n + 1, CHECK_MAX)
    posterior = posterior_of(place, row)
    if bool(place.done(posterior, [asked_n])[0]):
        return None
    asked = np.zeros((1, course.n), dtype=bool)
    for answer in row.answers:
        c = place.graph.index.get(str(answer["competency"]))
        if c is not None:
            asked[0, c] = True
    without_step = _without_steps(session, course, row.framework_id)
    asked[0, without_step] = True
    if asked.all():
        return None
    c = int(place.choose(posterior, asked)[0])
    code = course.graph.codes[c]
    step_id = _step_for(session, row, code)
    if step_id is None:
        return None
    row.status = "active"
    row.pending_competency, row.pending_step_id = code, step_id
    return Question(code, step_id, asked_n + 1, CHECK_MAX)


CHECK_MAX = int(CHECK["max_questions"])


def _without_steps(session: Session, course: Any, framework_id: int) -> NDArray[np.bool_]:
    with_steps = set(
        session.scalars(
            select(CompetencyRow.code)
            .join(StepAlignment, StepAlignment.competency_id == CompetencyRow.id)
            .where(CompetencyRow.framework_id == framework_id)
            .distinct()
        )
    )
    return np.array([code not in with_steps for code in course.graph.codes], dtype=bool)


def _step_for(session: Session, row: PlacementRow, code: str) -> int | None:
    """A step of the competency (the first of its item, which stands on its own), preferring
    one the student has not tried; the choice is stable for a given check."""
    steps = session.scalars(
        select(StepRow.id)
        .join(StepAlignment, StepAlignment.step_id == StepRow.id)
        .join(CompetencyRow, CompetencyRow.id == StepAlignment.competency_id)
        .where(
            CompetencyRow.code == code,
            CompetencyRow.framework_id == row.framework_id,
            StepRow.position == 0,
        )
        .order_by(StepRow.id)
    ).all()
    if not steps:
        return None
    tried = set(
        session.scalars(
            select(Attempt.step_id).where(
                Attempt.student_id == row.student_id, Attempt.step_id.in_(steps)
            )
        )
    )
    fresh = [s for s in steps if s not in tried] or list(steps)
    return int(fresh[(row.id * 7919 + len(row.answers)) % len(fresh)])


def record_answer(row: PlacementRow, *, step_id: int, correct: bool, attempt_id: str) -> None:
    """Note the answer to the pending question (the attempt is stored by the caller)."""
    if row.pending_step_id != step_id or row.pending_competency is None:
        raise ValueError("this is not the question the check is asking")
    row.answers = [
        *row.answers,
        {
            "competency": row.pending_competency,
            "step": step_id,
            "correct": bool(correct),
            "attempt": attempt_id,
        },
    ]
    row.pending_step_id = row.pending_competency = None


def finish(session: Session, live: Any, row: PlacementRow, *, now: dt.datetime) -> PlacementRow:
    """End the check: store its starting belief and rebuild the student's state from it."""
    from learnway.store._state import replay_students

    course = live.course
    place = check_for(course)
    posterior = posterior_of(place, row)
    belief, evidence = place.starting_belief(posterior, course.params, course.threshold)
    prior = course.params.p_init
    moved = (belief[0] != prior) | (evidence[0] > 0)
    row.priors = {
        course.graph.codes[c]: [round(float(belief[0, c]), 6), float(evidence[0, c])]
        for c in np.nonzero(moved)[0]
    }
    row.position = int(place.interval(posterior)[0][0])
    row.status = "done"
    row.finished_at = now
    row.pending_step_id = row.pending_competency = None
    session.flush()
    replay_students(session, live, [row.student_id], cause="placement", now=now)
    return row


def starting_state(
    session: Session, live: Any, student_ids: Sequence[int]
) -> tuple[LearnerState, NDArray[np.bool_]]:
    """The state a replay of ``student_ids`` starts from: the content's priors, and where a
    student has finished a placement check, the starting belief of the latest one. Returns it
    with the cells the checks set (to be written even without evidence)."""
    course = live.course
    state = LearnerState.new(len(student_ids), course.params)
    placed = np.zeros(state.shape, dtype=bool)
    if not student_ids:
        return state, placed
    newest = (
        select(func.max(PlacementRow.id))
        .where(
            PlacementRow.student_id.in_(list(student_ids)),
            PlacementRow.framework_id == live.framework_id,
            PlacementRow.status == "done",
        )
        .group_by(PlacementRow.student_id)
    )
    rows = session.execute(
        select(PlacementRow.student_id, PlacementRow.priors).where(PlacementRow.id.in_(newest))
    ).all()
    row_of = {sid: i for i, sid in enumerate(student_ids)}
    for student_id, priors in rows:
        r = row_of[student_id]
        for code, (p, evidence) in (priors or {}).items():
            c = course.graph.index.get(code)
            if c is not None:
                state.p_known[r, c] = p
                state.peak[r, c] = p
                state.evidence[r, c] = evidence
                placed[r, c] = True
    return state, placed


def placement_summaries(
    session: Session, live: Any, student_ids: Sequence[int]
) -> dict[int, PlacementSummary]:
    """The latest check of each student in this course, for a teacher's list (students with
    none are absent)."""
    if not student_ids:
        return {}
    course = live.course
    newest = (
        select(func.max(PlacementRow.id))
        .where(
            PlacementRow.student_id.in_(list(student_ids)),
            PlacementRow.framework_id == live.framework_id,
        )
        .group_by(PlacementRow.student_id)
    )
    out: dict[int, PlacementSummary] = {}
    for row in session.scalars(select(PlacementRow).where(PlacementRow.id.in_(newest))):
        placed_at = None
        if row.position is not None and course.n:
            order = course.graph.order
            at = order[min(row.position, course.n - 1)]
            placed_at = course.section[int(at)] or course.graph.codes[int(at)]
        out[row.student_id] = PlacementSummary(
            student_id=row.student_id,
            status=row.status,
            questions=len(row.answers),
            position=row.position,
            total=course.n,
            placed_at=placed_at,
            finished_at=row.finished_at,
        )
    return out


def placement_cells(session: Session, live: Any, student_ids: Sequence[int]) -> NDArray[np.bool_]:
    """``(students, competencies)``: where a student's only evidence on a competency comes
    from a placement check (its starting belief, or placement answers), so that views can show
    it as its own kind of evidence."""
    course = live.course
    out = np.zeros((len(student_ids), course.n), dtype=bool)
    if not student_ids:
        return out
    _, placed = starting_state(session, live, student_ids)
    out |= placed
    row_of = {sid: i for i, sid in enumerate(student_ids)}
    col_of = {int(cid): j for j, cid in enumerate(live.competency_ids)}
    kinds = session.execute(
        select(Attempt.student_id, StepAlignment.competency_id, Attempt.kind)
        .join(StepAlignment, StepAlignment.step_id == Attempt.step_id)
        .where(Attempt.student_id.in_(list(student_ids)))
        .distinct()
    ).all()
    answered = np.zeros_like(out)
    for student_id, competency_id, kind in kinds:
        c = col_of.get(int(competency_id))
        if c is None:
            continue
        if kind == "placement":
            out[row_of[student_id], c] = True
        else:
            answered[row_of[student_id], c] = True
    return out & ~answered
