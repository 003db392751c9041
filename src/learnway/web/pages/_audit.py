"""The administrator's page of the audit trail, with its CSV and JSON exports."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from learnway.web._deps import Leader, SessionDep
from learnway.web.api._audit import Format, PersonQuery, StudentQuery, export, read_audit
from learnway.web.pages._render import render

router = APIRouter()


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    user: Leader,
    session: SessionDep,
    student: StudentQuery = None,
    person: PersonQuery = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    format: Format | None = None,
) -> Response:
    rows = read_audit(session, user, student=student, person=person, since=since, until=until)
    if format is not None:
        return export(rows, format)
    query = request.url.query
    return render(
        request, "audit.html", title="Audit trail", rows=rows[:500], total=len(rows),
        student=student, person=person or "", since=since, until=until,
        export_query=("&" + query) if query else "",
    )  # fmt: skip
