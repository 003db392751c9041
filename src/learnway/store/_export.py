"""What the Ed-Fi export reads from the store: a course's competencies and its students' mastery."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from learnway.interop._edfi import CourseExport, MasteryRow, StandardRow
from learnway.store._progress import load_framework
from learnway.store._schema import CompetencyRow, FrameworkRow, Mastery, User


def mastery_export(
    session: Session, framework_id: int, *, subject: str = "Mathematics"
) -> CourseExport:
    """Every competency of the course and every stored mastery row on it, at this moment."""
    header = session.get(FrameworkRow, framework_id)
    if header is None:
        raise LookupError(f"no framework with id {framework_id}")
    framework = load_framework(session, framework_id)
    rows = session.execute(
        select(User.sourced_id, CompetencyRow.code, Mastery.p_mastery, Mastery.status)
        .join(User, User.id == Mastery.student_id)
        .join(CompetencyRow, CompetencyRow.id == Mastery.competency_id)
        .where(CompetencyRow.framework_id == framework_id)
        .order_by(User.sourced_id, CompetencyRow.code)
    ).all()
    return CourseExport(
        key=header.key,
        title=header.title,
        source=header.source,
        attribution=header.attribution,
        subject=subject,
        standards=[StandardRow(c.code, c.title, c.grade, c.parent) for c in framework.competencies],
        mastery=[MasteryRow(*row) for row in rows],
        exported_at=dt.datetime.now(dt.UTC),
    )
