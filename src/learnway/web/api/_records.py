"""A student's whole record, for them, their guardians and administrators (JSON or CSV), and
its deletion on request by an administrator."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from learnway.store._erase import erase_student, student_record
from learnway.store._schema import User
from learnway.web._access import open_student
from learnway.web._csv import CSV_MEDIA_TYPE, Cell, csv_response
from learnway.web._deps import ContextDep, Id, Leader, Roles, SessionDep
from learnway.web._schemas import ErasureOut, Problem

router = APIRouter(tags=["records"], responses={404: {"model": Problem}})

RECORD_READERS = Roles("student", "guardian", "school_admin", "district_admin")
RecordReader = Annotated[User, Depends(RECORD_READERS)]
Format = Literal["json", "csv"]
JSON_OR_CSV: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/json": {}, CSV_MEDIA_TYPE.split(";")[0]: {}},
        "description": "JSON or CSV",
    }
}


def _plain(value: object) -> Cell:
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)


def record_rows(record: dict[str, list[dict[str, Any]]]) -> list[list[Cell]]:
    """One line per stored value: table, row number, column, value."""
    return [
        [table, n, column, _plain(value)]
        for table, rows in record.items()
        for n, row in enumerate(rows, 1)
        for column, value in row.items()
    ]


def record_response(session: Session, *, actor: User, student_id: int, format: Format) -> Response:
    student = open_student(
        session, actor=actor, student_id=student_id, resource="record", action="export"
    )
    record = student_record(session, student_id=student.id)
    name = f"learnway-record-{student.id}"
    if format == "csv":
        return csv_response(f"{name}.csv", ["table", "row", "column", "value"], record_rows(record))
    return JSONResponse(
        {"student_id": student.id, "record": record},
        headers={"Content-Disposition": f'attachment; filename="{name}.json"'},
    )


@router.get("/students/{student_id}/record", response_class=JSONResponse, responses=JSON_OR_CSV)
def get_record(
    student_id: Id,
    user: RecordReader,
    session: SessionDep,
    format: Annotated[Format, Query()] = "json",
) -> Response:
    """Everything Learnway stores about a student, by table (their own download, a guardian's,
    or an administrator's answering a request): JSON, or CSV with one line per value."""
    return record_response(session, actor=user, student_id=student_id, format=format)


@router.delete("/students/{student_id}", response_model=ErasureOut)
def delete_student(
    student_id: Id, user: Leader, session: SessionDep, context: ContextDep
) -> ErasureOut:
    """Delete every piece of a student's data (attempts, learner state, profile, goals,
    supports, demographics, guardianships, groups, sign-ins, audit views), in one transaction;
    only an audit record of the deletion remains."""
    open_student(session, actor=user, student_id=student_id, resource="delete", action="delete")
    report = erase_student(
        session, student_id=student_id, secret=context.settings.secret_key, actor_id=user.id,
        resource=f"DELETE /api/v1/students/{student_id}",
    )  # fmt: skip
    return ErasureOut(deleted=report.deleted, emptied=report.emptied, subject=report.subject)
