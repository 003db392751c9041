"""The audit trail for administrators: by student, by person, by date; JSON or CSV."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from learnway.store._schema import User
from learnway.web._audit import AuditRow, audit_csv, audit_json, audit_records
from learnway.web._csv import CSV_MEDIA_TYPE
from learnway.web._deps import Leader, SessionDep
from learnway.web._schemas import MAX_NAME
from learnway.web.api._records import JSON_OR_CSV

router = APIRouter(tags=["audit"])

StudentQuery = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="a student's id")]
PersonQuery = Annotated[str | None, Query(max_length=MAX_NAME, description="who acted: username")]
Format = Literal["json", "csv"]


def read_audit(
    session: Session,
    user: User,
    *,
    student: int | None,
    person: str | None,
    since: dt.date | None,
    until: dt.date | None,
) -> list[AuditRow]:
    actor_id = None
    if person:
        actor_id = session.scalar(select(User.id).where(User.username == person))
        if actor_id is None:
            raise HTTPException(404, f"There is no person named {person!r}.")
    return audit_records(
        session, student_id=student, actor_id=actor_id, since=since, until=until, viewer=user,
        limit=10_000,
    )  # fmt: skip


def export(rows: list[AuditRow], format: Format) -> Response:
    if format == "csv":
        return Response(
            audit_csv(rows),
            media_type=CSV_MEDIA_TYPE,
            headers={"content-disposition": 'attachment; filename="audit.csv"'},
        )
    return JSONResponse({"records": audit_json(rows)})


@router.get("/audit", response_class=JSONResponse, responses=JSON_OR_CSV)
def get_audit(
    user: Leader,
    session: SessionDep,
    student: StudentQuery = None,
    person: PersonQuery = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    format: Format = "json",
) -> Response:
    """Who viewed, changed, exported or deleted which student's data, and every refused
    request, newest first (at most 10,000 records): by student, person and date."""
    rows = read_audit(session, user, student=student, person=person, since=since, until=until)
    return export(rows, format)
