"""The audit trail: who saw, changed, exported or deleted which student's data, and every
refused or probing request; read and exported by administrators (the record of disclosures
that a FERPA request asks for) and by ``learnway audit``.

Views are written where the data is reached (:mod:`learnway.web._access`). Refused requests
(401, 403 and 404 answers, and anonymous page visits sent to the sign-in form) are written
here, after the answer is made, in a short transaction of their own run off the event loop.
Neither stores any of the data itself: the route, the student's id, the status code.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session, aliased
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers

from learnway.store import transaction
from learnway.store._schema import Org, User
from learnway.web._access import RESOURCE
from learnway.web._csv import Cell, csv_text
from learnway.web._models import AuditEvent

DENIED = frozenset({401, 403, 404})
_NOT_PROBES = ("/static/", "/api/v1/tokens", "/login", "/lti/", "/favicon")
_STUDENT_IN_PATH = re.compile(r"/students/(\d{1,10})(?:/|$)")


class AuditTrail:
    """Pure ASGI: names the request being served for the audit records written while it is
    served (:data:`RESOURCE`), and records a refused or probing request once it is answered."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        RESOURCE.set(f"{method} {path}"[:200])
        answer: dict[str, Any] = {}

        async def sent(message: Any) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["location"] = Headers(raw=message.get("headers", [])).get("location", "")
            await send(message)

        await self.app(scope, receive, sent)
        status = answer.get("status", 500)
        anonymous_page = status in (302, 303) and answer["location"].startswith("/login?next=")
        if (status in DENIED or anonymous_page) and not path.startswith(_NOT_PROBES):
            viewer = scope.get("state", {}).get("viewer")
            await run_in_threadpool(
                record_denied,
                scope["app"].state.web.engine,
                actor_id=viewer.id if viewer is not None else None,
                resource=f"{method} {path}",
                status=401 if anonymous_page else status,
            )


def record_denied(engine: Any, *, actor_id: int | None, resource: str, status: int) -> None:
    """One refused request; the student it names, when there is such a student."""
    named = _STUDENT_IN_PATH.search(resource)
    with transaction(engine) as session:
        student_id = None
        if named and int(named.group(1)) < 2**31:
            student_id = session.scalar(
                select(User.id).where(User.id == int(named.group(1)), User.role == "student")
            )
        session.add(
            AuditEvent(
                actor_id=actor_id, student_id=student_id, action="denied",
                resource=resource[:255], status=status,
            )
        )  # fmt: skip


@dataclass(frozen=True)
class AuditRow:
    at: dt.datetime
    action: str
    resource: str
    status: int | None
    actor_id: int | None
    actor: str | None
    actor_role: str | None
    student_id: int | None
    student: str | None
    subject: str | None


COLUMNS = tuple(AuditRow.__dataclass_fields__)


def _oversees(viewer: User) -> Select[Any]:
    """Ids of the people whose records an administrator may read: those of their schools."""
    if viewer.role == "school_admin":
        schools = select(Org.id).where(Org.id == viewer.org_id)
    else:
        schools = select(Org.id).where(or_(Org.id == viewer.org_id, Org.parent_id == viewer.org_id))
    return select(User.id).where(User.org_id.in_(schools))


def audit_records(
    session: Session,
    *,
    student_id: int | None = None,
    actor_id: int | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    action: str | None = None,
    viewer: User | None = None,
    limit: int = 10_000,
) -> list[AuditRow]:
    """The audit trail, newest first, by student, by person, by date (``until`` included) and
    action; with ``viewer`` (an administrator), only records about or by people of their
    schools (a district administrator also sees anonymous probes)."""
    actor, student = aliased(User), aliased(User)
    query = (
        select(AuditEvent, actor, student)
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .outerjoin(student, student.id == AuditEvent.student_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    if student_id is not None:
        query = query.where(AuditEvent.student_id == student_id)
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    if since is not None:
        query = query.where(AuditEvent.at >= dt.datetime.combine(since, dt.time(), dt.UTC))
    if until is not None:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC)
        query = query.where(AuditEvent.at < end)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if viewer is not None:
        mine = _oversees(viewer)
        allowed: list[ColumnElement[bool]] = [
            AuditEvent.student_id.in_(mine),
            AuditEvent.actor_id.in_(mine),
        ]
        if viewer.role == "district_admin":
            allowed.append(and_(AuditEvent.student_id.is_(None), AuditEvent.actor_id.is_(None)))
        query = query.where(or_(*allowed))
    return [
        AuditRow(
            at=e.at,
            action=e.action,
            resource=e.resource,
            status=e.status,
            actor_id=e.actor_id,
            actor=a.username if a else None,
            actor_role=a.role if a else None,
            student_id=e.student_id,
            student=s.username if s else None,
            subject=e.subject,
        )
        for e, a, s in session.execute(query)
    ]


def _plain(value: object) -> Cell:
    """A value as a CSV cell: times in ISO 8601 (``csv_text`` escapes formula-leading text)."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)


def audit_csv(rows: list[AuditRow]) -> str:
    return csv_text(COLUMNS, ([_plain(getattr(row, c)) for c in COLUMNS] for row in rows))


def audit_json(rows: list[AuditRow]) -> list[dict[str, object]]:
    return [
        {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in asdict(r).items()}
        for r in rows
    ]
