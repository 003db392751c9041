"""The student page: profile, strengths and needs, goals, supports, assignments, recent work."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from learnway.store import MASTERED_NAMES
from learnway.store._schema import (
    Accommodation,
    Activity,
    Attempt,
    Enrollment,
    Group,
    ItemRow,
    Profile,
    Section,
    StepRow,
    Support,
    User,
)
from learnway.web._catalog import Catalog
from learnway.web._context import WebContext
from learnway.web._learning import competency_state, course_for, goals_view, mastery_grid, person
from learnway.web._models import Assignment
from learnway.web._schemas import (
    AccommodationOut,
    AssignmentOut,
    AttemptOut,
    StudentOut,
    SupportOut,
)


def assignment_out(session: Session, catalog: Catalog, a: Assignment) -> AssignmentOut:
    col = catalog.column_of_id.get(a.competency_id or -1)
    code = catalog.codes[col] if col is not None else None
    activity = session.get(Activity, a.activity_id) if a.activity_id else None
    group = session.get(Group, a.group_id) if a.group_id else None
    return AssignmentOut(
        id=a.id, competency=code, competency_title=catalog.title_of(code),
        activity=activity.title if activity else None, note=a.note, due_on=a.due_on,
        status=a.status, group=group.name if group else None,
        activity_url=activity.url if activity else None,
    )  # fmt: skip


def assignments_of(session: Session, catalog: Catalog, student: User) -> list[AssignmentOut]:
    rows = session.scalars(
        select(Assignment)
        .where(Assignment.student_id == student.id, Assignment.status == "open")
        .order_by(Assignment.created_at.desc(), Assignment.id.desc())
    ).all()
    return [assignment_out(session, catalog, a) for a in rows]


def student_page(session: Session, context: WebContext, student: User) -> StudentOut:
    _, catalog = course_for(session, context, student)
    grid = mastery_grid(session, context, catalog, [student.id])
    seen = np.flatnonzero(grid.evidence[0] > 0)
    by_p = sorted(seen.tolist(), key=lambda c: -float(np.nan_to_num(grid.p[0, c])))
    strengths = [
        competency_state(catalog, grid, 0, c) for c in by_p if grid.status[0, c] in MASTERED_NAMES
    ]
    needs = [
        competency_state(catalog, grid, 0, c)
        for c in reversed(by_p)
        if grid.status[0, c] in ("stuck", "due_for_review", "practicing")
    ]
    needs.sort(key=lambda s: (s.status != "stuck", s.p_mastery or 0.0))
    profile = session.get(Profile, student.id)
    sections = session.scalars(
        select(Section.title)
        .join(Enrollment, Enrollment.section_id == Section.id)
        .where(Enrollment.user_id == student.id, Enrollment.role == "student")
        .order_by(Section.title)
    ).all()
    attempts = session.execute(
        select(Attempt.timestamp, ItemRow.key, ItemRow.title, Attempt.correct, Attempt.hints_used)
        .join(StepRow, StepRow.id == Attempt.step_id)
        .join(ItemRow, ItemRow.id == StepRow.item_id)
        .where(Attempt.student_id == student.id)
        .order_by(Attempt.timestamp.desc(), Attempt.id.desc())
        .limit(10)
    ).all()
    supports = session.scalars(
        select(Support).where(Support.student_id == student.id).order_by(Support.start_date)
    ).all()
    accommodations = session.scalars(
        select(Accommodation).where(Accommodation.student_id == student.id)
    ).all()
    return StudentOut(
        student=person(student),
        sections=list(sections),
        interests=[str(i) for i in (profile.interests if profile else [])],
        about=profile.about if profile else "",
        strengths=strengths[:8],
        needs=needs[:8],
        goals=goals_view(session, context, student).goals,
        supports=[
            SupportOut(
                kind=s.kind, provider=s.provider, start_date=s.start_date, end_date=s.end_date
            )
            for s in supports
        ],
        accommodations=[
            AccommodationOut(kind=a.kind, description=a.description) for a in accommodations
        ],
        assignments=assignments_of(session, catalog, student),
        recent_attempts=[
            AttemptOut(at=at, item=key, item_title=title, correct=ok, hints_used=hints)
            for at, key, title, ok, hints in attempts
        ],
        mastered=int(grid.mastered[0]),
        total=len(catalog.codes),
    )
