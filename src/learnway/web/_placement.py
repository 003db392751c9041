"""The placement check as the pages and the API show it: the question asked now, the answer
checked and stored as placement evidence, and where the student was placed."""

from __future__ import annotations

import datetime as dt

import numpy as np
from fastapi import HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from learnway.store import AttemptIn, course_of_student, record_practice
from learnway.store._placement import (
    CHECK_MAX,
    finish,
    latest,
    needs_placement,
    next_question,
    record_answer,
    request_placement,
    skip_placement,
)
from learnway.store._schema import Attempt, ItemRow, Section, StepRow, User
from learnway.store._schema import Course as CourseRow
from learnway.web._context import WebContext
from learnway.web._learning import framework_of, person
from learnway.web._practice import check_response
from learnway.web._schemas import PersonOut


class PlacementQuestion(BaseModel):
    """One question of the check: a problem's first step (never its answer)."""

    number: int = Field(description="this question's number (1 for the first)")
    at_most: int = Field(description="the most questions the check asks")
    step: int = Field(description="the step to answer (its id)")
    item: str
    title: str
    body: str
    prompt: str
    step_body: str
    problem_type: str
    choices: list[str]
    attribution: str
    license: str


class PlacementResult(BaseModel):
    """Where the check placed the student."""

    position: int = Field(description="competencies, in course order, below the placement")
    total: int
    placed_at: str | None = Field(description="the unit where the student starts")
    likely_known: int = Field(description="competencies now likely known (to confirm in use)")
    to_check: int = Field(description="competencies the check was unsure of (practice decides)")


class PlacementOut(BaseModel):
    """A student's placement check in their course."""

    student: PersonOut
    status: str = Field(description="none, requested, active, done or skipped")
    due: bool = Field(description="the check is waiting for the student")
    answered: int
    question: PlacementQuestion | None = None
    result: PlacementResult | None = None
    last: bool | None = Field(default=None, description="whether the last answer was right")


class PlacementAnswerIn(BaseModel):
    """The answer to the question the check asks now."""

    step: int = Field(ge=1, description="the step of the question being answered")
    response: str = Field(min_length=1, max_length=2000)
    attempt_id: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")


def _question(session: Session, step_id: int, number: int) -> PlacementQuestion:
    step = session.get(StepRow, step_id)
    if step is None:
        raise HTTPException(404, f"There is no step {step_id}.")
    item = session.get(ItemRow, step.item_id)
    assert item is not None
    return PlacementQuestion(
        number=number, at_most=CHECK_MAX, step=step.id, item=item.key, title=item.title,
        body=item.body, prompt=step.prompt, step_body=step.body,
        problem_type=step.problem_type, choices=[str(c) for c in step.choices],
        attribution=item.attribution, license=item.license,
    )  # fmt: skip


def placement_view(
    session: Session,
    context: WebContext,
    student: User,
    *,
    advance: bool = True,
    last: bool | None = None,
) -> PlacementOut:
    """The student's check: the question to answer now, or the result. Only the student's
    own visit (``advance``) moves the check on (chooses the next question, or ends it)."""
    framework_id = framework_of(session, student)
    live, catalog = context.live(session, framework_id)
    row = latest(session, student.id, framework_id)
    due = needs_placement(session, student.id, framework_id)
    if row is None and due and advance:  # a student new to the course: the check begins
        row = request_placement(
            session, student_id=student.id, framework_id=framework_id, requested_by=None
        )
    out = PlacementOut(
        student=person(student), status=row.status if row else "none", due=due,
        answered=len(row.answers) if row else 0, last=last,
    )  # fmt: skip
    if row is not None and row.status in ("requested", "active") and not advance:
        return out
    if row is not None and row.status in ("requested", "active"):
        question = next_question(session, live.course, row)
        if question is None:
            finish(session, live, row, now=dt.datetime.now(dt.UTC))
        else:
            out.status = row.status
            out.question = _question(session, question.step_id, question.number)
            return out
    if row is not None and row.status == "done" and row.priors is not None:
        evidence = [e for _, e in row.priors.values()]
        at = None
        if row.position is not None and catalog.codes:
            order = live.course.graph.order
            code = live.course.graph.codes[int(order[min(row.position, len(order) - 1)])]
            unit = catalog.unit_of[catalog.index[code]]
            at = next((u.title for u in catalog.units if u.code == unit), None)
        out.status = "done"
        out.answered = len(row.answers)
        out.result = PlacementResult(
            position=int(row.position or 0), total=len(catalog.codes), placed_at=at,
            likely_known=sum(e > 0 for e in evidence),
            to_check=sum(e == 0 for e in evidence),
        )  # fmt: skip
    return out


def start(session: Session, context: WebContext, student: User, actor: User) -> PlacementOut:
    """Ask for a check: the student starts one (its first question comes back), or a teacher
    asks them to place again (the student's next visit to their path begins it)."""
    framework_id = framework_of(session, student)
    mine = actor.id == student.id
    request_placement(
        session, student_id=student.id, framework_id=framework_id,
        requested_by=None if mine else actor.id,
    )  # fmt: skip
    return placement_view(session, context, student, advance=mine)


def skip(session: Session, context: WebContext, student: User) -> PlacementOut:
    skip_placement(session, student_id=student.id, framework_id=framework_of(session, student))
    return placement_view(session, context, student)


def answer(
    session: Session, context: WebContext, student: User, given: PlacementAnswerIn
) -> PlacementOut:
    """Check the answer to the pending question, store it as placement evidence (an attempt
    of kind ``placement``), and move the check on."""
    framework_id = framework_of(session, student)
    live, _ = context.live(session, framework_id)
    row = latest(session, student.id, framework_id)
    if row is None or row.status not in ("requested", "active"):
        raise HTTPException(409, "There is no placement check under way.")
    question = next_question(session, live.course, row)
    if question is None or question.step_id != given.step:
        raise HTTPException(
            409, "This is not the question the check is asking now; reload the page."
        )
    verdict = check_response(
        session, context, student_id=student.id, step_id=given.step, response=given.response
    )
    attempt_id = f"placement-{row.id}-{len(row.answers) + 1}"
    if session.get(Attempt, attempt_id) is not None:
        raise HTTPException(409, "This question was already answered; reload the page.")
    course = live.course
    report = record_practice(
        session, course, framework_id,
        [AttemptIn(
            id=attempt_id, student_id=student.id, step_id=given.step, correct=verdict.correct,
            timestamp=dt.datetime.now(dt.UTC), source="web",
            score=1.0 if verdict.correct else 0.0, hints_used=0, response=given.response,
            kind="placement",
        )],
        live=live,
    )  # fmt: skip
    if report.refused:
        raise HTTPException(422, f"The answer was refused: {report.refused[0].message}")
    record_answer(row, step_id=given.step, correct=verdict.correct, attempt_id=attempt_id)
    return placement_view(session, context, student, last=verdict.correct)


def placement_column(
    session: Session, context: WebContext, framework_id: int, student_ids: list[int]
) -> dict[int, str]:
    """One line per student for a teacher's list: placed where, under way, asked, or not."""
    from learnway.store._placement import placement_summaries

    live, catalog = context.live(session, framework_id)
    summaries = placement_summaries(session, live, student_ids)
    out: dict[int, str] = {}
    for sid in student_ids:
        s = summaries.get(sid)
        if s is None:
            out[sid] = "not placed"
        elif s.status == "done":
            unit = next((u.title for u in catalog.units if u.code == s.placed_at), s.placed_at)
            out[sid] = f"placed at {unit} ({s.position} of {s.total})"
        elif s.status == "skipped":
            out[sid] = "skipped the check"
        elif s.status == "active":
            out[sid] = f"taking the check ({s.questions} answered)"
        else:
            out[sid] = "check asked for"
    return out


def placement_kinds(
    session: Session, context: WebContext, framework_id: int, student_ids: list[int]
) -> np.ndarray:
    """``(students, competencies)`` in the catalog's order: true where the only evidence is a
    placement check's, so that a view can show it as its own kind (``data-evidence``)."""
    from learnway.store._placement import placement_cells

    live, _ = context.live(session, framework_id)
    return placement_cells(session, live, student_ids)


def placement_due(session: Session, student: User) -> bool:
    """Whether the student's visit to their path should begin with the placement check (on by
    default for a student new to their course, and after a teacher's "place again")."""
    framework_id = course_of_student(session, student.id)
    return framework_id is not None and needs_placement(session, student.id, framework_id)


class PlacementRowOut(BaseModel):
    """One student of a section and where they stand with placement."""

    student: PersonOut
    status: str = Field(description="none, requested, active, done or skipped")
    text: str = Field(description="in words: placed where, under way, asked for, or not")
    position: int | None = None
    placed_at: str | None = Field(default=None, description="the unit where the student starts")


class SectionPlacementOut(BaseModel):
    """Who in a section has placed, and where."""

    section: int
    title: str
    students: list[PlacementRowOut]


def section_placement(
    session: Session, context: WebContext, section: Section, students: list[User]
) -> SectionPlacementOut:
    """The placement of each student of a section (its course's latest check of each)."""
    from learnway.store._placement import placement_summaries

    framework_id = session.scalar(
        select(CourseRow.framework_id).where(CourseRow.id == section.course_id)
    )
    rows: list[PlacementRowOut] = []
    if framework_id is not None:
        live, catalog = context.live(session, framework_id)
        ids = [s.id for s in students]
        summaries = placement_summaries(session, live, ids)
        words = placement_column(session, context, framework_id, ids)
        titles = {u.code: u.title for u in catalog.units}
        for student in students:
            summary = summaries.get(student.id)
            rows.append(
                PlacementRowOut(
                    student=person(student),
                    status=summary.status if summary else "none",
                    text=words[student.id],
                    position=summary.position if summary else None,
                    placed_at=titles.get(summary.placed_at or "", summary.placed_at)
                    if summary and summary.status == "done"
                    else None,
                )
            )
    return SectionPlacementOut(section=section.id, title=section.title, students=rows)
