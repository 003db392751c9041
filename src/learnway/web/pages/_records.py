"""A student's record as a download, and its deletion by an administrator (pages)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query
from fastapi.responses import RedirectResponse, Response

from learnway.store._erase import erase_student
from learnway.web._access import open_student
from learnway.web._deps import ContextDep, Id, Leader, SessionDep
from learnway.web.api._records import Format, RecordReader, record_response

router = APIRouter()


@router.get("/students/{student_id}/record")
def record_download(
    student_id: Id,
    user: RecordReader,
    session: SessionDep,
    format: Annotated[Format, Query()] = "json",
) -> Response:
    return record_response(session, actor=user, student_id=student_id, format=format)


@router.post("/students/{student_id}/delete")
def delete_student(
    student_id: Id,
    user: Leader,
    session: SessionDep,
    context: ContextDep,
    confirm: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    if confirm != "delete":
        raise HTTPException(422, 'Type "delete" to confirm that every record goes.')
    open_student(session, actor=user, student_id=student_id, resource="delete", action="delete")
    erase_student(
        session, student_id=student_id, secret=context.settings.secret_key, actor_id=user.id,
        resource=f"POST /students/{student_id}/delete",
    )  # fmt: skip
    return RedirectResponse("/audit", 303)
