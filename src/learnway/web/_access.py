"""Authorization in the data access: which students and sections a user may reach.

Every read or write of an individual student's data goes through :func:`open_student`, which
refuses a student the user may not see with the same 404 as an unknown id (so that ids of
other schools' students cannot be probed) and writes an audit record. Lists are filtered in
SQL by :func:`visible_students` and :func:`visible_sections`.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from sqlalchemy import Select, and_, literal, or_, select
from sqlalchemy.orm import Session

from learnway.store._schema import Enrollment, Group, Guardianship, Org, Section, User
from learnway.web._models import AuditEvent


def _taught_sections(user: User) -> Select[Any]:
    return select(Enrollment.section_id).where(
        Enrollment.user_id == user.id, Enrollment.role.in_(("teacher", "aide"))
    )


def _schools_of(user: User) -> Select[Any]:
    """The schools an administrator oversees: their own, or every school of their district."""
    if user.role == "school_admin":
        return select(literal(user.org_id))
    return select(Org.id).where(or_(Org.id == user.org_id, Org.parent_id == user.org_id))


def visible_students(user: User) -> Select[Any]:
    """Ids of the students ``user`` may see, as a subquery."""
    if user.role == "student":
        return select(literal(user.id))
    if user.role == "guardian":
        return select(Guardianship.student_id).where(Guardianship.guardian_id == user.id)
    if user.role == "teacher":
        return select(Enrollment.user_id).where(
            Enrollment.role == "student", Enrollment.section_id.in_(_taught_sections(user))
        )
    if user.role in ("school_admin", "district_admin"):
        enrolled = select(Enrollment.user_id).where(
            Enrollment.role == "student",
            Enrollment.section_id.in_(
                select(Section.id).where(Section.school_id.in_(_schools_of(user)))
            ),
        )
        return select(User.id).where(
            User.role == "student",
            or_(User.org_id.in_(_schools_of(user)), User.id.in_(enrolled)),
        )
    return select(literal(-1)).where(literal(False))


def visible_sections(user: User) -> Select[Any]:
    """Ids of the sections ``user`` may see as a class (teachers and administrators)."""
    if user.role == "teacher":
        return _taught_sections(user)
    if user.role in ("school_admin", "district_admin"):
        return select(Section.id).where(Section.school_id.in_(_schools_of(user)))
    return select(literal(-1)).where(literal(False))


def audit(session: Session, *, actor: User, student_id: int, resource: str, change: bool) -> None:
    session.add(
        AuditEvent(
            actor_id=actor.id,
            student_id=student_id,
            action="change" if change else "view",
            resource=resource[:255],
        )
    )


def open_student(
    session: Session, *, actor: User, student_id: int, resource: str, change: bool = False
) -> User:
    """The student with this id if ``actor`` may see them (and change, with ``change``);
    records the access in the audit log. Otherwise 404, as for an unknown id."""
    student = session.scalar(
        select(User).where(
            User.id == student_id,
            User.role == "student",
            User.id.in_(visible_students(actor)),
        )
    )
    if student is None:
        raise HTTPException(404, f"There is no student {student_id} that you can see.")
    if change and actor.role not in ("student", "teacher"):
        raise HTTPException(403, "Only the student and their teachers can change this.")
    audit(session, actor=actor, student_id=student.id, resource=resource, change=change)
    return student


def open_section(session: Session, *, actor: User, section_id: int) -> Section:
    section = session.scalar(
        select(Section).where(Section.id == section_id, Section.id.in_(visible_sections(actor)))
    )
    if section is None:
        raise HTTPException(404, f"There is no class {section_id} that you can see.")
    return section


def open_group(session: Session, *, actor: User, group_id: int) -> tuple[Group, Section]:
    row = session.execute(
        select(Group, Section)
        .join(Section, Section.id == Group.section_id)
        .where(Group.id == group_id, Section.id.in_(visible_sections(actor)))
    ).first()
    if row is None:
        raise HTTPException(404, f"There is no group {group_id} that you can see.")
    return row[0], row[1]


def section_students(session: Session, *, section_id: int) -> list[User]:
    """The students enrolled in a section the caller has already opened, by family name."""
    return list(
        session.scalars(
            select(User)
            .join(Enrollment, and_(Enrollment.user_id == User.id, Enrollment.role == "student"))
            .where(Enrollment.section_id == section_id)
            .order_by(User.family_name, User.given_name, User.id)
        )
    )
