"""Practice: real items step by step, answer checking, hints on request, mastery at once."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from fastapi import HTTPException
from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.orm import Session

from learnway.content import AnswerCheck, AnswerTooLarge, CheckerBusy, NeedsWorker
from learnway.store import (
    AttemptIn,
    WouldWait,
    columns_of_steps,
    hint_limit,
    item_variant,
    record_practice,
    wait_limit,
)
from learnway.store._schema import (
    Attempt,
    CompetencyRow,
    HintRow,
    ItemRow,
    StepAlignment,
    StepRow,
    User,
)
from learnway.web._catalog import STATUS_LABELS
from learnway.web._context import StepFacts, WebContext
from learnway.web._evidence import hints_shown, record_hints_shown, scoped_attempt_id
from learnway.web._learning import live_of, mastery_grid, shown_p
from learnway.web._models import AuditEvent
from learnway.web._schemas import (
    AnswerIn,
    AnswerOut,
    HintOut,
    HintsOut,
    ItemOut,
    MasteryChange,
    StepOut,
)

TOO_LARGE = (
    "This answer is too large to check, so it was not recorded. Write it in a simpler form "
    "and try again."
)
BUSY = "Your answer could not be checked just now and was not recorded; try again in a moment."


class NeedsChecker(WouldWait):
    """Under ``store.without_waiting``: the response needs a checker's worker process
    (:func:`check_response_async`, with the student and step given here)."""

    def __init__(self, student_id: int, step: StepFacts) -> None:
        super().__init__("the answer needs a checker's worker process")
        self.student_id, self.step = student_id, step


def _item(session: Session, item_key: str) -> ItemRow:
    item = session.scalar(select(ItemRow).where(ItemRow.key == item_key))
    if item is None:
        raise HTTPException(404, f"There is no item {item_key!r}.")
    return item


def step_of(session: Session, step_id: int) -> StepRow:
    step = session.get(StepRow, step_id)
    if step is None:
        raise HTTPException(404, f"There is no step {step_id}.")
    return step


def item_view(session: Session, item_key: str) -> ItemOut:
    item = _item(session, item_key)
    hint_counts: dict[int, int] = {}
    for step_id in session.scalars(
        select(HintRow.step_id)
        .join(StepRow, StepRow.id == HintRow.step_id)
        .where(StepRow.item_id == item.id)
    ):
        hint_counts[step_id] = hint_counts.get(step_id, 0) + 1
    codes = session.scalars(
        select(CompetencyRow.title)
        .join(StepAlignment, StepAlignment.competency_id == CompetencyRow.id)
        .join(StepRow, StepRow.id == StepAlignment.step_id)
        .where(StepRow.item_id == item.id)
        .distinct()
    ).all()
    return ItemOut(
        key=item.key,
        title=item.title,
        body=item.body,
        attribution=item.attribution,
        license=item.license,
        competencies=sorted(codes),
        steps=[
            StepOut(
                id=s.id,
                key=s.key,
                position=s.position,
                prompt=s.prompt,
                body=s.body,
                problem_type=s.problem_type,
                choices=[str(c) for c in s.choices],
                hints_available=hint_counts.get(s.id, 0),
            )
            for s in item.steps
        ],
    )


def hints_view(
    session: Session, *, step_id: int, shown: int, student_id: int | None = None
) -> HintsOut:
    """The first ``shown`` hints of a step (scaffolds come with their answer); shown to a
    student, they are recorded as evidence (:func:`learnway.web._evidence.hints_shown`)."""
    step_of(session, step_id)
    rows = session.scalars(
        select(HintRow).where(HintRow.step_id == step_id).order_by(HintRow.position)
    ).all()
    if shown < 0:
        raise HTTPException(422, "The number of hints must not be negative.")
    if student_id is not None:
        limit = hint_limit(session, student_id=student_id, now=dt.datetime.now(dt.UTC))
        rows = rows if limit is None else rows[:limit]  # a hint-style experiment's condition
        record_hints_shown(
            session, student_id=student_id, step_id=step_id, shown=min(shown, len(rows))
        )
    return HintsOut(
        step=step_id,
        available=len(rows),
        hints=[
            HintOut(
                position=h.position,
                kind=h.kind,
                title=h.title,
                text=h.text,
                answer=str(h.answers[0]) if h.kind == "scaffold" and h.answers else None,
            )
            for h in rows[:shown]
        ],
    )


def item_for_competency(session: Session, *, student: User, code: str, framework_id: int) -> str:
    """An item practising ``code``, preferring one the student has not tried yet."""
    keys = session.execute(
        select(ItemRow.key, StepRow.id)
        .join(StepRow, StepRow.item_id == ItemRow.id)
        .join(StepAlignment, StepAlignment.step_id == StepRow.id)
        .join(CompetencyRow, CompetencyRow.id == StepAlignment.competency_id)
        .where(CompetencyRow.code == code, CompetencyRow.framework_id == framework_id)
        .order_by(ItemRow.key)
    ).all()
    if not keys:
        raise HTTPException(404, f"There is no practice for competency {code!r} yet.")
    tried = set(
        session.scalars(
            select(Attempt.step_id).where(
                Attempt.student_id == student.id, Attempt.step_id.in_([s for _, s in keys])
            )
        )
    )
    fresh = [k for k, s in keys if s not in tried]
    chosen = (fresh or [k for k, _ in keys])[0]
    # a content-variant experiment on this item shows the student their condition's variant
    return item_variant(
        session, student_id=student.id, item_key=chosen, now=dt.datetime.now(dt.UTC)
    )


def step_facts(session: Session, context: WebContext, step_id: int) -> StepFacts:
    """The step's facts, read from the database the first time only (404 for no step)."""
    facts = context.steps.get(step_id)
    if facts is None:
        step = step_of(session, step_id)
        following = session.scalar(
            select(StepRow.id)
            .where(StepRow.item_id == step.item_id, StepRow.position > step.position)
            .order_by(StepRow.position)
        )
        facts = context.steps[step_id] = StepFacts(
            id=step.id, item_id=step.item_id, answer_type=step.answer_type,
            problem_type=step.problem_type, answers=tuple(str(a) for a in step.answers),
            choices=tuple(str(c) for c in step.choices), following=following,
        )  # fmt: skip
    return facts


def check_response(
    session: Session, context: WebContext, *, student_id: int, step_id: int, response: str
) -> AnswerCheck:
    """The verdict on a response, from the application's bounded checker.

    Call it before the request writes anything: a check may take up to its time limit, and
    meanwhile the request must hold no write lock (SQLite has one for the whole database). An
    answer too large to check, or one that finds every checker busy, is refused here, before
    anything is recorded; the student may answer again. Under ``store.without_waiting`` a
    response that needs a worker process raises :class:`NeedsChecker`
    (:func:`check_response_async` checks it)."""
    step = step_facts(session, context, step_id)
    with _refusals():
        try:
            return context.checker.check(
                key=student_id, wait=wait_limit() is None, **_check_of(step, response)
            )
        except NeedsWorker:
            raise NeedsChecker(student_id, step) from None


async def check_response_async(
    context: WebContext, *, student_id: int, step: StepFacts, response: str
) -> AnswerCheck:
    """:func:`check_response` on the event loop, which serves other requests meanwhile."""
    with _refusals():
        return await context.checker.check_async(key=student_id, **_check_of(step, response))


def _check_of(step: StepFacts, response: str) -> dict[str, Any]:
    return {"answer_type": step.answer_type, "problem_type": step.problem_type,
            "expected": list(step.answers), "response": response,
            "choices": list(step.choices) or None}  # fmt: skip


@contextmanager
def _refusals() -> Iterator[None]:
    """A check that cannot be done, refused with its reason (nothing is recorded)."""
    try:
        yield
    except AnswerTooLarge as exc:
        raise HTTPException(422, TOO_LARGE) from exc
    except CheckerBusy as exc:
        raise HTTPException(429, BUSY, headers={"Retry-After": "2"}) from exc
    except ValueError as exc:
        raise HTTPException(422, f"The answer could not be read: {exc}") from exc


_EARLIER = select(
    Attempt.student_id,
    Attempt.step_id,
    Attempt.response,
    Attempt.hints_used,
    Attempt.timestamp,
    Attempt.duration_s,
).where(Attempt.id == bindparam("id"))
"""What an answer needs of an earlier attempt with its id (an answer sent again)."""
_AUDIT_EVENTS: Table = AuditEvent.__table__  # type: ignore[assignment]
_AUDIT = insert(_AUDIT_EVENTS)  # into the table, not the entity: no ORM bulk insert around it


def submit_answer(
    session: Session,
    context: WebContext,
    *,
    student: User,
    step_id: int,
    answer: AnswerIn,
    verdict: AnswerCheck,
    access: dict[str, Any],
) -> AnswerOut:
    """Store the attempt of a checked response (``check_response``) and update mastery.

    Everything the answer needs is read and computed first, with nothing pending written: on
    SQLite the first write takes the database's one write lock until the transaction commits,
    so the writes come last, together (the attempt, the state, its events, ``access``: the
    audit record of the request, from ``web._access.audit_record``), and are committed at
    once, before the answer's response is built. The change of mastery shown is the one the
    update made (no second read of the student's state)."""
    if not context.answer_writers.acquire(timeout=wait_limit()):
        raise WouldWait("this process stores as many answers at once as it may")
    try:  # a few answers stored at once per process
        step = step_facts(session, context, step_id)
        stored_id = scoped_attempt_id(student.id, answer.attempt_id) if answer.attempt_id else None
        earlier = session.execute(_EARLIER, {"id": stored_id}).first() if stored_id else None
        if earlier is not None:
            same = (earlier.student_id, earlier.step_id, earlier.response) == (
                student.id, step.id, answer.response,
            )  # fmt: skip
            if not same:
                raise HTTPException(
                    422, f"The attempt was refused: you already used id {answer.attempt_id} "
                    "for another answer.",
                )  # fmt: skip
        correct, reason = verdict.correct, verdict.reason
        live, catalog = live_of(session, context, student)
        aligned = columns_of_steps(session, live, {step.id}).get(step.id, ())
        hints = (
            earlier.hints_used
            if earlier
            else hints_shown(session, student_id=student.id, step_id=step.id)
        )
        attempt = AttemptIn(
            id=stored_id or f"web-{uuid.uuid4().hex}",
            student_id=student.id,
            step_id=step.id,
            correct=correct,
            timestamp=earlier.timestamp if earlier else dt.datetime.now(dt.UTC),
            source="web",
            score=1.0 if correct else 0.0,
            hints_used=hints,
            duration_s=earlier.duration_s if earlier else answer.duration_s,
            response=answer.response,
            kind=answer.kind,
        )
        report = record_practice(
            session, live.course, live.framework_id, [attempt], live=live, known=True
        )
        if report.refused:
            raise HTTPException(422, f"The attempt was refused: {report.refused[0].message}")
        session.execute(_AUDIT, [access])
        session.commit()
    finally:
        context.answer_writers.release()
    change = report.changes.get(student.id)  # none: a duplicate, or queued for a replay
    after = mastery_grid(session, context, catalog, [student.id],
                         state=change.after if change else None, live=live)  # fmt: skip
    before = shown_p(change.before) if change else after.p
    changes = []
    for col in aligned:
        b, a = before[0, col], after.p[0, col]
        status = str(after.status[0, col])
        changes.append(
            MasteryChange(
                competency=catalog.codes[col],
                title=catalog.titles[col],
                before=None if np.isnan(b) else round(float(b), 3),
                after=None if np.isnan(a) else round(float(a), 3),
                status=status,
                status_label=STATUS_LABELS[status],
            )
        )
    return AnswerOut(
        step=step.id,
        correct=correct,
        reason=reason,
        recorded=bool(report.stored),
        duplicate=bool(report.duplicates),
        mastery=changes,
        next_step=step.following if correct else None,
    )
