"""The student page: profile, strengths and needs, goals, supports, assignments, recent work."""

from __future__ import annotations

import datetime as dt

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
    MasteryEvent,
    Profile,
    Section,
    StepAlignment,
    StepRow,
    Support,
    User,
)
from learnway.web._catalog import Catalog
from learnway.web._context import WebContext
from learnway.web._learning import (
    competency_state,
    course_for,
    goals_view,
    mastery_grid,
    person,
    recommendation_list,
)
from learnway.web._models import Assignment
from learnway.web._schemas import (
    AccommodationOut,
    AssignmentOut,
    AttemptOut,
    FamilyOut,
    StudentOut,
    SupportOut,
    WeekTopic,
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


WEEK_DAYS = 7


def family_view(session: Session, context: WebContext, student: User) -> FamilyOut:
    """What a guardian wants to know about the last week: what their child worked on, what
    they mastered, what is next and how to help, in plain words."""
    _, catalog = course_for(session, context, student)
    live, _ = context.live(session, catalog.framework_id)
    now = dt.datetime.now(dt.UTC)
    since = now - dt.timedelta(days=WEEK_DAYS)
    rows = session.execute(
        select(Attempt.id, Attempt.timestamp, StepAlignment.competency_id)
        .join(StepAlignment, StepAlignment.step_id == Attempt.step_id)
        .where(Attempt.student_id == student.id, Attempt.timestamp >= since)
    ).all()
    per_competency: dict[int, set[str]] = {}
    for attempt_id, _, competency_id in rows:
        per_competency.setdefault(competency_id, set()).add(attempt_id)
    worked = sorted(
        (
            WeekTopic(title=catalog.titles[catalog.column_of_id[c]], problems=len(ids))
            for c, ids in per_competency.items()
            if c in catalog.column_of_id
        ),
        key=lambda t: -t.problems,
    )
    mastered_ids = session.scalars(
        select(MasteryEvent.competency_id)
        .where(
            MasteryEvent.student_id == student.id,
            MasteryEvent.model_version == live.version,
            MasteryEvent.mastered_change > 0,
            MasteryEvent.at >= since,
        )
        .order_by(MasteryEvent.at)
    ).all()
    mastered = list(
        dict.fromkeys(
            catalog.titles[catalog.column_of_id[c]]
            for c in mastered_ids
            if c in catalog.column_of_id
        )
    )
    following = [r.competency_title for r in recommendation_list(session, context, student)][:3]
    name = student.given_name
    days = len({at.date() for _, at, _ in rows})
    help_text = [
        f"Ask {name} to show you one problem from this week and explain each step to you.",
        "Short practice most days helps more than one long session: ten to fifteen minutes "
        "is plenty.",
        f"When a problem is hard, encourage {name} to ask for a hint and then say the hint "
        "in their own words.",
    ]
    if following:
        help_text.insert(
            0, f"Next, {name} will learn to {_lower_first(following[0])}. Ask how it is going."
        )
    grid = mastery_grid(session, context, catalog, [student.id])
    if (grid.status[0] == "stuck").any():
        help_text.append(
            f"{name} has found some work hard lately; the teacher can see this and will help. "
            "Praise the effort, not only right answers."
        )
    return FamilyOut(
        student=person(student),
        since=since.date(),
        problems=len({a for a, _, _ in rows}),
        days=days,
        worked_on=worked[:6],
        mastered=mastered,
        next=following,
        goals=goals_view(session, context, student).goals,
        help=help_text,
    )


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text
