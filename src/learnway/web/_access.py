"""Authorization in the data access: which students and sections a user may reach.

Reach follows the roster as it stands today: a teacher reaches a class only while their own
enrollment in it is current (begun, not ended), and its students only while theirs are; a
disabled student (the roster's ``enabledUser`` false, or ``tobedeleted``) is reached by no one.

Every read or write of an individual student's data goes through :func:`open_student`, which
refuses a student the user may not see with the same 404 as an unknown id (so that ids of
other schools' students cannot be probed) and writes an audit record; views of many students
at once (a class's heatmap, a report) record each student shown with :func:`audit_many`. Lists
are filtered in SQL by :func:`visible_students` and :func:`visible_sections`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any

from fastapi import HTTPException
from sqlalchemy import ColumnElement, Select, and_, insert, literal, or_, select
from sqlalchemy.orm import Session

from learnway.store._schema import Enrollment, Group, Guardianship, Org, Section, User
from learnway.web._models import AuditEvent


def current_enrollment(today: dt.date | None = None) -> ColumnElement[bool]:
    """An enrollment that has begun and not ended (its dates, where it has them)."""
    day = today or dt.datetime.now(dt.UTC).date()
    return and_(
        or_(Enrollment.begin_date.is_(None), Enrollment.begin_date <= day),
        or_(Enrollment.end_date.is_(None), Enrollment.end_date >= day),
    )


def _taught_sections(user: User) -> Select[Any]:
    return select(Enrollment.section_id).where(
        Enrollment.user_id == user.id,
        Enrollment.role.in_(("teacher", "aide")),
        current_enrollment(),
    )


def _enabled_students() -> Select[Any]:
    return select(User.id).where(User.role == "student", User.enabled)


def _schools_of(user: User) -> Select[Any]:
    """The schools an administrator oversees: their own, or every school of their district."""
    if user.role == "school_admin":
        return select(literal(user.org_id))
    return select(Org.id).where(or_(Org.id == user.org_id, Org.parent_id == user.org_id))


def visible_students(user: User, *, disabled_too: bool = False) -> Select[Any]:
    """Ids of the (enabled) students ``user`` may see, as a subquery; ``disabled_too`` (for
    an administrator deleting or exporting a record on request) adds their disabled students."""
    if not user.enabled:
        return select(literal(-1)).where(literal(False))
    if disabled_too and user.role in ("school_admin", "district_admin"):
        return select(User.id).where(User.role == "student", User.org_id.in_(_schools_of(user)))
    if user.role == "student":
        return select(User.id).where(User.id == user.id, User.enabled)
    if user.role == "guardian":
        return select(Guardianship.student_id).where(
            Guardianship.guardian_id == user.id,
            Guardianship.student_id.in_(_enabled_students()),
        )
    if user.role == "teacher":
        return select(Enrollment.user_id).where(
            Enrollment.role == "student",
            Enrollment.section_id.in_(_taught_sections(user)),
            current_enrollment(),
            Enrollment.user_id.in_(_enabled_students()),
        )
    if user.role in ("school_admin", "district_admin"):
        enrolled = select(Enrollment.user_id).where(
            Enrollment.role == "student",
            current_enrollment(),
            Enrollment.section_id.in_(
                select(Section.id).where(Section.school_id.in_(_schools_of(user)))
            ),
        )
        return select(User.id).where(
            User.role == "student",
            User.enabled,
            or_(User.org_id.in_(_schools_of(user)), User.id.in_(enrolled)),
        )
    return select(literal(-1)).where(literal(False))


def visible_sections(user: User) -> Select[Any]:
    """Ids of the sections ``user`` may see as a class (teachers and administrators)."""
    if not user.enabled:
        return select(literal(-1)).where(literal(False))
    if user.role == "teacher":
        return _taught_sections(user)
    if user.role in ("school_admin", "district_admin"):
        return select(Section.id).where(Section.school_id.in_(_schools_of(user)))
    return select(literal(-1)).where(literal(False))


RESOURCE: ContextVar[str] = ContextVar("learnway_audit_resource", default="")
"""The request being served (method and path), set by the audit middleware (web._audit)."""


def audit_resource(named: str) -> str:
    """The route being served, with what it showed (``named``), for an audit record."""
    route = RESOURCE.get()
    return (f"{route} ({named})" if route and named else route or named)[:255]


def audit(
    session: Session, *, actor: User, student_id: int, resource: str, change: bool = False,
    action: str | None = None,
) -> None:  # fmt: skip
    """Record that ``actor`` viewed (or changed, exported) one student's data through
    ``resource`` (the route, never the data), written with the session's next flush."""
    session.add(AuditEvent(**audit_record(actor=actor, student_id=student_id, resource=resource,
                                          change=change, action=action)))  # fmt: skip


def audit_record(
    *, actor: User, student_id: int, resource: str, change: bool = False,
    action: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The row :func:`audit` writes, for a caller that inserts it with its own writes
    (``insert(AuditEvent)``)."""
    return {
        "at": dt.datetime.now(dt.UTC),
        "actor_id": actor.id,
        "student_id": student_id,
        "action": action or ("change" if change else "view"),
        "resource": audit_resource(resource),
    }


def audit_many(session: Session, *, actor: User, student_ids: Iterable[int], resource: str) -> None:
    """Record a view that showed several students (a class's heatmap, a report, a list)."""
    now = dt.datetime.now(dt.UTC)
    rows = [
        {"at": now, "actor_id": actor.id, "student_id": sid, "action": "view",
         "resource": audit_resource(resource)}
        for sid in sorted(set(student_ids))
    ]  # fmt: skip
    if rows:
        session.execute(insert(AuditEvent), rows)


def open_student(
    session: Session,
    *,
    actor: User,
    student_id: int,
    resource: str,
    change: bool = False,
    action: str | None = None,
    audited: bool = True,
) -> User:
    """The student with this id if ``actor`` may see them (and change, with ``change``);
    records the access in the audit log (as ``action`` when given: ``export``, ``delete``),
    unless the caller writes that record itself (``audited`` false: :func:`audit_record`).
    Otherwise 404, as for an unknown id."""
    disabled_too = action in ("export", "delete")
    if actor.role == "student" and actor.id == student_id and actor.enabled:
        student: User | None = actor  # a student's own data: what visible_students gives them
    else:
        student = session.scalar(
            select(User).where(
                User.id == student_id,
                User.role == "student",
                User.id.in_(visible_students(actor, disabled_too=disabled_too)),
            )
        )
    if student is None:
        raise HTTPException(404, f"There is no student {student_id} that you can see.")
    if change and actor.role not in ("student", "teacher"):
        raise HTTPException(403, "Only the student and their teachers can change this.")
    if audited:
        audit(
            session, actor=actor, student_id=student.id, resource=resource, change=change,
            action=action,
        )  # fmt: skip
    return student


def open_section(session: Session, *, actor: User, section_id: int) -> Section:
    section = session.scalar(
        select(Section).where(Section.id == section_id, Section.id.in_(visible_sections(actor)))
    )
    if section is None:
        raise HTTPException(404, f"There is no class {section_id} that you can see.")
    section_students(session, section_id=section.id, actor=actor, resource="class")
    return section


def open_group(session: Session, *, actor: User, group_id: int) -> tuple[Group, Section]:
    row = session.execute(
        select(Group, Section)
        .join(Section, Section.id == Group.section_id)
        .where(Group.id == group_id, Section.id.in_(visible_sections(actor)))
    ).first()
    if row is None:
        raise HTTPException(404, f"There is no group {group_id} that you can see.")
    section_students(session, section_id=row[1].id, actor=actor, resource="group's class")
    return row[0], row[1]


def section_students(
    session: Session, *, section_id: int, actor: User | None = None, resource: str = ""
) -> list[User]:
    """The (enabled) students currently enrolled in a section the caller has already opened,
    by family name; with ``actor``, the view of each is recorded in the audit trail."""
    students = list(
        session.scalars(
            select(User)
            .join(Enrollment, and_(Enrollment.user_id == User.id, Enrollment.role == "student"))
            .where(Enrollment.section_id == section_id, current_enrollment(), User.enabled)
            .order_by(User.family_name, User.given_name, User.id)
        )
    )
    if actor is not None:
        audit_many(
            session, actor=actor, student_ids=[s.id for s in students],
            resource=resource or f"section {section_id}",
        )  # fmt: skip
    return students
