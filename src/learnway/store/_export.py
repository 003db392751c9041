"""What the Ed-Fi export reads from the store: a course's competencies and its students' mastery,
each student under the id the district's Ed-Fi system knows them by."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from learnway._errors import InputError, Problem
from learnway.interop._edfi import CourseExport, MasteryRow, StandardRow
from learnway.store._progress import load_framework
from learnway.store._schema import CompetencyRow, FrameworkRow, Mastery, User, UserIdentifier
from learnway.store._state import active_version

log = logging.getLogger(__name__)
STUDENT_IDS = ("sourcedId", "identifier", "userIds:<type>")


def mastery_export(
    session: Session,
    framework_id: int,
    *,
    subject: str = "Mathematics",
    student_id: str = "sourcedId",
) -> CourseExport:
    """Every competency of the course and every stored mastery row on it, at this moment.

    ``student_id`` says which of a student's ids Ed-Fi knows them by: ``sourcedId`` (the
    roster's), ``identifier`` (the roster's ``identifier``, often the state student number) or
    ``userIds:<type>`` (the ``userIds`` entry of that type, e.g. ``userIds:SIS``). A student with
    mastery but no such id is an :class:`~learnway.InputError`, naming each.
    """
    header = session.get(FrameworkRow, framework_id)
    if header is None:
        raise LookupError(f"no framework with id {framework_id}")
    framework = load_framework(session, framework_id)
    rows = session.execute(
        select(User.id, User.sourced_id, CompetencyRow.code, Mastery.p_mastery, Mastery.status)
        .join(User, User.id == Mastery.student_id)
        .join(CompetencyRow, CompetencyRow.id == Mastery.competency_id)
        .where(
            CompetencyRow.framework_id == framework_id,
            Mastery.model_version == active_version(session, framework_id),
        )
        .order_by(User.sourced_id, CompetencyRow.code)
    ).all()
    known = _student_ids(session, student_id, {row[0] for row in rows})
    missing = sorted({sourced for user, sourced, *_ in rows if user not in known})
    if missing:
        raise InputError([
            Problem(header.key, f"student {sourced}", f"has no {student_id} to export to Ed-Fi")
            for sourced in missing
        ])  # fmt: skip
    export = CourseExport(
        key=header.key,
        title=header.title,
        source=header.source,
        attribution=header.attribution,
        subject=subject,
        standards=[StandardRow(c.code, c.title, c.grade, c.parent) for c in framework.competencies],
        mastery=[MasteryRow(known[row[0]], row[2], row[3], row[4]) for row in rows],
        exported_at=dt.datetime.now(dt.UTC),
    )
    log.info("read %d mastery rows of %s (students by %s)", len(rows), header.key, student_id)
    return export


def _student_ids(session: Session, student_id: str, users: set[int]) -> dict[int, str]:
    """The chosen id of each of ``users`` that has one."""
    key: Any
    value: Any
    where: list[Any]
    if student_id == "sourcedId":
        key, value, where = User.id, User.sourced_id, []
    elif student_id == "identifier":
        key, value, where = User.id, User.identifier, [User.identifier.is_not(None)]
    elif student_id.startswith("userIds:") and student_id != "userIds:":
        kind = student_id.removeprefix("userIds:")
        key, value = UserIdentifier.user_id, UserIdentifier.identifier
        where = [UserIdentifier.type == kind]
    else:
        raise ValueError(f"student_id={student_id!r}: use one of {', '.join(STUDENT_IDS)}")
    query = select(key, value).where(*where).order_by(value)
    found: dict[int, str] = {}
    for user, found_id in session.execute(query):
        if user in users and found_id:
            found.setdefault(user, found_id)  # the first (smallest) of several of one type
    return found
