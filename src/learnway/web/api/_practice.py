"""Practice: items with their steps, hints on request, answers checked and recorded."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from learnway.content import AnswerCheck
from learnway.store import WouldWait, transaction, without_waiting
from learnway.store._schema import User
from learnway.web._access import audit_record, open_student
from learnway.web._context import WebContext
from learnway.web._deps import (
    AnyUser,
    ContextDep,
    Credentials,
    Id,
    SessionDep,
    Student,
    StudentInRoute,
)
from learnway.web._practice import (
    NeedsChecker,
    check_response,
    check_response_async,
    hints_view,
    item_view,
    submit_answer,
)
from learnway.web._schemas import AnswerIn, AnswerOut, HintsOut, ItemOut, Problem

T = TypeVar("T")

router = APIRouter(tags=["practice"], responses={404: {"model": Problem}})


@router.get("/items/{item_key}", response_model=ItemOut)
def get_item(item_key: str, user: AnyUser, session: SessionDep) -> ItemOut:
    """A problem with its steps (never the answers), licence and attribution."""
    return item_view(session, item_key)


@router.get("/steps/{step_id}/hints", response_model=HintsOut)
def get_hints(
    step_id: Id,
    user: Student,
    session: SessionDep,
    shown: Annotated[int, Query(ge=0, le=50)] = 1,
) -> HintsOut:
    """The first ``shown`` hints of a step, recorded as seen (the attempt's ``hints_used``)."""
    return hints_view(session, step_id=step_id, shown=shown, student_id=user.id)


@router.post(
    "/steps/{step_id}/attempts",
    response_model=AnswerOut,
    responses={422: {"model": Problem}},
)
async def post_attempt(
    step_id: Id, answer: AnswerIn, credentials: StudentInRoute, context: ContextDep
) -> AnswerOut:
    """Answer a step: checked at once, stored (idempotent by ``attempt_id``), mastery updated.
    With ``kind`` ``worked_example`` the student studied the step's worked example: nothing is
    checked, and the evidence informs learning without counting as right or wrong.

    The answer is stored under ``store.without_waiting``, where nothing may wait for another
    writer or for a checker: on SQLite, whose statements are calls into a library in the
    process, here on the event loop (no handing over to a thread and back, which costs more
    than most answers take); on PostgreSQL, where every statement is a round trip, in one of the
    process's answer threads (``WebContext.answer_threads``). A response that needs symbolic
    checking is checked first, in a checker's worker process, while the loop serves other
    requests; an answer that would wait for its turn to write is stored in a worker thread of
    its own."""
    verdict = None
    for _ in range(2):  # the second time with the verdict of a symbolic check
        try:
            return await _in_place(context, _answer, credentials, step_id, answer, verdict)
        except NeedsChecker as needed:
            verdict = await check_response_async(
                context, student_id=needed.student_id, step=needed.step, response=answer.response
            )
        except WouldWait:
            break
    return await run_in_threadpool(_answer, context, credentials, step_id, answer, verdict)


async def _in_place(context: WebContext, work: Callable[..., T], *args: Any) -> T:
    """``work(context, *args)`` under ``store.without_waiting``: on the event loop on SQLite,
    in an answer thread on PostgreSQL."""

    def run() -> T:
        with without_waiting():
            return work(context, *args)

    if context.engine.dialect.name == "sqlite":
        return run()
    request = contextvars.copy_context()  # what the request set (its audit resource)
    return await asyncio.get_running_loop().run_in_executor(
        context.answer_threads, request.run, run
    )


def _answer(
    context: WebContext,
    credentials: Credentials,
    step_id: int,
    answer: AnswerIn,
    verdict: AnswerCheck | None = None,
) -> AnswerOut:
    """The whole answer: sign-in, check (unless ``verdict`` is given), storage, in one
    transaction."""
    with transaction(context.engine) as session:
        user = credentials.user(session, context)
        return answer_attempt(
            session, context, user=user, step_id=step_id, answer=answer, verdict=verdict
        )


def answer_attempt(
    session: Session,
    context: WebContext,
    *,
    user: User,
    step_id: int,
    answer: AnswerIn,
    verdict: AnswerCheck | None = None,
) -> AnswerOut:
    """A signed-in student's answer (the API's and the practice page's); ``verdict``: its
    check, when done already."""
    if answer.kind == "worked_example":
        verdict = AnswerCheck(False, "Worked example studied.")
    elif verdict is None:  # first: no write of this request waits on the check
        verdict = check_response(
            session, context, student_id=user.id, step_id=step_id, response=answer.response
        )
    student = open_student(session, actor=user, student_id=user.id, resource="attempt",
                           change=True, audited=False)  # fmt: skip
    access = audit_record(actor=user, student_id=student.id, resource="attempt", change=True)
    return submit_answer(session, context, student=student, step_id=step_id, answer=answer,
                         verdict=verdict, access=access)  # fmt: skip
