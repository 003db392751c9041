"""Practice: items with their steps, hints on request, answers checked and recorded."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from learnway.content import AnswerCheck
from learnway.store import transaction
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
from learnway.web._practice import check_response, hints_view, item_view, submit_answer
from learnway.web._schemas import AnswerIn, AnswerOut, HintsOut, ItemOut, Problem

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
    checked, and the evidence informs learning without counting as right or wrong."""
    return await run_in_threadpool(_answer, context, credentials, step_id, answer)


def _answer(
    context: WebContext, credentials: Credentials, step_id: int, answer: AnswerIn
) -> AnswerOut:
    """The whole answer in one worker thread: sign-in, check, storage, in one transaction."""
    with transaction(context.engine) as session:
        user = credentials.user(session, context)
        return answer_attempt(session, context, user=user, step_id=step_id, answer=answer)


def answer_attempt(
    session: Session, context: WebContext, *, user: User, step_id: int, answer: AnswerIn
) -> AnswerOut:
    """A signed-in student's answer (the API's and the practice page's)."""
    if answer.kind == "worked_example":
        verdict = AnswerCheck(False, "Worked example studied.")
    else:  # first: no write of this request waits on the check
        verdict = check_response(
            session, context, student_id=user.id, step_id=step_id, response=answer.response
        )
    student = open_student(session, actor=user, student_id=user.id, resource="attempt",
                           change=True, audited=False)  # fmt: skip
    access = audit_record(actor=user, student_id=student.id, resource="attempt", change=True)
    return submit_answer(session, context, student=student, step_id=step_id, answer=answer,
                         verdict=verdict, access=access)  # fmt: skip
