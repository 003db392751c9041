"""A teacher's classes: heatmap, groups, assignments and pacing (needs: ``_needs``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd
from fastapi import HTTPException
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from learnway.paths import (
    CourseGraph,
    Planner,
    SchoolCalendar,
    Status,
    forecast_pacing,
    mastery_status,
    suggest_groups,
)
from learnway.paths._calendar import EVERY_DAY
from learnway.store import MASTERED_NAMES, day_of, load_state
from learnway.store import section_calendar as stored_calendar
from learnway.store._schema import (
    Activity,
    ActivityAlignment,
    Attempt,
    Course,
    Enrollment,
    Group,
    GroupMember,
    MasteryEvent,
    Section,
    User,
)
from learnway.store._schema import Placement as PlacementRow
from learnway.web._access import section_students, visible_sections
from learnway.web._catalog import Catalog
from learnway.web._context import WebContext
from learnway.web._learning import MasteryGrid, mastery_grid, person
from learnway.web._models import Assignment
from learnway.web._schemas import (
    GroupIn,
    GroupOut,
    GroupPatch,
    GroupsOut,
    HeatColumn,
    HeatmapOut,
    HeatRow,
    Link,
    PacingOut,
    PacingRow,
    SectionListOut,
    SectionOut,
)

RECENT_DAYS = 7
"""The section's recent work: the week before its latest attempt."""


def section_out(session: Session, section: Section) -> SectionOut:
    count = session.scalar(
        select(func.count()).where(
            Enrollment.section_id == section.id, Enrollment.role == "student"
        )
    )
    return SectionOut(
        id=section.id, title=section.title, class_code=section.class_code,
        students=count or 0, deadline=section.deadline,
    )  # fmt: skip


def sections_view(session: Session, user: User) -> SectionListOut:
    rows = session.scalars(
        select(Section).where(Section.id.in_(visible_sections(user))).order_by(Section.title)
    ).all()
    return SectionListOut(sections=[section_out(session, s) for s in rows])


def section_course(
    session: Session, context: WebContext, section: Section
) -> tuple[CourseGraph, Catalog]:
    framework_id = session.scalar(select(Course.framework_id).where(Course.id == section.course_id))
    if framework_id is None:
        raise HTTPException(404, f"Class {section.id} follows no framework.")
    return context.course(session, framework_id)


def heatmap_view(
    session: Session,
    context: WebContext,
    section: Section,
    *,
    unit: str | None,
    sort: str,
    likely_known: bool = True,
    open_current: bool = False,
) -> HeatmapOut:
    """The section's heatmap; without ``likely_known``, cells known only on credit from
    advanced work are shown as not started. With ``open_current`` and no ``unit``, it shows the
    unit of the section's recent work (:func:`current_unit`)."""
    _, catalog = section_course(session, context, section)
    students = section_students(session, section_id=section.id)
    grid = mastery_grid(session, context, catalog, [s.id for s in students])
    if not likely_known:
        credit = grid.status == "likely_known"
        grid.p[credit], grid.status[credit] = np.nan, "not_started"
    current = current_unit(catalog, grid)
    if unit is None and open_current:
        unit = current
    if unit:
        chosen = next((u for u in catalog.units if u.code == unit), None)
        if chosen is None:
            raise HTTPException(422, f"There is no unit {unit!r} in this course.")
        cols = list(chosen.members)
    else:
        cols = list(range(len(catalog.codes)))
    p = grid.p[:, cols]
    mean_p = np.nan_to_num(p, nan=0.0).mean(axis=1) if cols else np.zeros(len(students))
    mastered = np.isin(grid.status[:, cols], MASTERED_NAMES).sum(axis=1)
    order = list(range(len(students)))
    if sort == "mastered":
        order.sort(key=lambda i: (-mastered[i], students[i].family_name))
    elif sort == "mean":
        order.sort(key=lambda i: (mean_p[i], students[i].family_name))
    elif sort in catalog.index and catalog.index[sort] in cols:
        j = cols.index(catalog.index[sort])
        order.sort(key=lambda i: (np.nan_to_num(p[i, j], nan=-1.0), students[i].family_name))
    elif sort != "name":
        raise HTTPException(422, "Sort by name, mastered, mean or a competency code of the unit.")
    placed = placement_counts(session, catalog, [s.id for s in students])[:, cols].tolist()
    shown = np.round(p, 2).astype(object)  # whole arrays to lists at once, not cell by cell
    shown[np.isnan(p)] = None
    p_rows, evidence = shown.tolist(), grid.evidence[:, cols].tolist()
    status = grid.status[:, cols].tolist()
    rows = [
        HeatRow(
            student=person(students[i]),
            mastered=int(mastered[i]),
            mean_p=round(float(mean_p[i]), 3),
            p=p_rows[i],
            evidence=evidence[i],
            status=status[i],
            placement=placed[i],
        )
        for i in order
    ]
    return HeatmapOut(
        section=section_out(session, section),
        unit=unit or None,
        current_unit=current,
        units=[Link(label=u.title, href=u.code) for u in catalog.units],
        sort=sort,
        likely_known=likely_known,
        columns=[
            HeatColumn(code=catalog.codes[c], title=catalog.titles[c], unit=catalog.unit_of[c])
            for c in cols
        ],
        rows=rows,
    )


def placement_counts(session: Session, catalog: Catalog, student_ids: list[int]) -> np.ndarray:
    """Answers to a placement check per student (rows, in order) and competency (columns),
    from the students' checks (a row each, not a scan of their attempts)."""
    counts = np.zeros((len(student_ids), len(catalog.codes)), dtype=np.int64)
    if not student_ids:
        return counts
    row_of = {sid: i for i, sid in enumerate(student_ids)}
    for sid, answers in session.execute(
        select(PlacementRow.student_id, PlacementRow.answers).where(
            PlacementRow.student_id.in_(student_ids),
            PlacementRow.framework_id == catalog.framework_id,
        )
    ):
        for answer in answers or ():
            col = catalog.index.get(str(answer.get("competency")))
            if col is not None:
                counts[row_of[sid], col] += 1
    return counts


def current_unit(catalog: Catalog, grid: MasteryGrid) -> str | None:
    """The unit where the section's recent work is: the most students' evidence in the week
    before the section's latest attempt (None before any attempt)."""
    last = grid.last
    if not np.isfinite(last).any() or not catalog.units:
        return None
    recent = np.nan_to_num(last, nan=-np.inf) >= np.nanmax(last) - RECENT_DAYS
    per_column = recent.sum(axis=0)
    scores = [int(per_column[list(u.members)].sum()) if u.members else 0 for u in catalog.units]
    return catalog.units[int(np.argmax(scores))].code


def section_history(
    session: Session, context: WebContext, section: Section, *, points: int = 30
) -> list[tuple[dt.date, int]]:
    """Competencies mastered by the whole section at the end of each day with a change (at most
    ``points`` days, the last kept), read from the mastery events."""
    _, catalog = section_course(session, context, section)
    live, _ = context.live(session, catalog.framework_id)
    ids = [s.id for s in section_students(session, section_id=section.id)]
    if not ids:
        return []
    changes = session.execute(
        select(MasteryEvent.at, MasteryEvent.mastered_change)
        .where(
            MasteryEvent.student_id.in_(ids),
            MasteryEvent.model_version == live.version,
            MasteryEvent.mastered_change != 0,
            MasteryEvent.competency_id.in_(live.competency_ids.tolist()),
        )
        .order_by(MasteryEvent.at)
    ).all()
    by_day: dict[dt.date, int] = {}
    running = 0
    for at, change in changes:
        running += change
        by_day[at.date()] = running
    days = sorted(by_day)
    if len(days) > points:
        keep = np.unique(np.linspace(0, len(days) - 1, points).round().astype(int))
        days = [days[i] for i in keep]
    return [(d, by_day[d]) for d in days]


def _pacing_frame(
    session: Session,
    section: Section,
    students: list[User],
    grid: MasteryGrid,
    calendar: SchoolCalendar | None,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    today = dt.date.today()
    # each student's first attempt: one index probe per student, whatever the history's length
    first = (
        select(func.min(Attempt.timestamp))
        .where(Attempt.student_id == User.id)
        .correlate(User)
        .scalar_subquery()
    )
    firsts = {
        sid: at
        for sid, at in session.execute(
            select(User.id, first).where(User.id.in_([s.id for s in students]))
        )
        if at is not None
    }
    now = dt.datetime.now(dt.UTC)
    elapsed = np.array(
        [
            max((now - firsts[s.id]).total_seconds() / 86_400, 1.0) if s.id in firsts else 0.0
            for s in students
        ]
    )
    mastered = grid.mastered.astype(float)
    remaining = grid.p.shape[1] - mastered
    deadline = float((section.deadline - today).days) if section.deadline else 1e9
    if calendar is not None:  # the rate per school day, the forecast over school days ahead
        elapsed = np.maximum(calendar.school_days_between(-elapsed, 0.0), np.minimum(elapsed, 1))
    frame = forecast_pacing(
        mastered, remaining, elapsed, now=0.0, deadline=deadline, calendar=calendar
    )
    return mastered, remaining, frame


def section_calendar(session: Session, section: Section, today: dt.date) -> SchoolCalendar | None:
    """The section's practice weekdays, days off and breaks between terms, with today as day
    0 (None: practice every day)."""
    calendar = stored_calendar(session, section.id, origin=today)
    if calendar.weekdays == EVERY_DAY and not calendar.days_off:
        return None
    return calendar


def school_days_a_week(section: Section) -> int:
    return (section.practice_weekdays or "1111111").count("1")


def _day(today: dt.date, offset: float) -> dt.date | None:
    if not np.isfinite(offset) or offset > 3650:
        return None
    return today + dt.timedelta(days=float(offset))


def pacing_view(
    session: Session,
    context: WebContext,
    section: Section,
) -> PacingOut:
    """The section's pacing."""
    _, catalog = section_course(session, context, section)
    students = section_students(session, section_id=section.id)
    grid = mastery_grid(session, context, catalog, [s.id for s in students])
    rows = pacing_rows(session, section, students, grid)
    forecasts = sorted(r.forecast for r in rows if r.forecast is not None)
    return PacingOut(
        section=section_out(session, section),
        deadline=section.deadline,
        students=rows,
        at_risk=sum(r.at_risk for r in rows),
        median_forecast=forecasts[len(forecasts) // 2] if forecasts else None,
    )


def pacing_rows(
    session: Session, section: Section, students: list[User], grid: MasteryGrid
) -> list[PacingRow]:
    """Each student's pacing (in order), from their ``grid``."""
    today = dt.date.today()
    rows: list[PacingRow] = []
    if not students:
        return rows
    calendar = section_calendar(session, section, today)
    mastered, remaining, frame = _pacing_frame(session, section, students, grid, calendar)
    week = school_days_a_week(section) if calendar else 7
    rate, at_risk = frame["rate_per_day"].to_numpy(), frame["at_risk"].to_numpy()
    forecast, early, late = (frame[k].to_numpy() for k in ("forecast", "early", "late"))
    for i, s in enumerate(students):
        rows.append(
            PacingRow(
                student=person(s), mastered=int(mastered[i]), remaining=int(remaining[i]),
                rate_per_week=round(float(rate[i]) * week, 2),
                forecast=_day(today, forecast[i]), early=_day(today, early[i]),
                late=_day(today, late[i]), at_risk=bool(at_risk[i]),
            )
        )  # fmt: skip
    return rows


# --- groups and assignments -------------------------------------------------------------


def _saved_groups(session: Session, catalog: Catalog, section: Section) -> list[GroupOut]:
    groups = session.scalars(
        select(Group).where(Group.section_id == section.id).order_by(Group.created_at, Group.id)
    ).all()
    members = session.execute(
        select(GroupMember.group_id, User)
        .join(User, User.id == GroupMember.student_id)
        .where(GroupMember.group_id.in_([g.id for g in groups]))
        .order_by(User.family_name, User.given_name)
    ).all()
    by_group: dict[int, list[User]] = {}
    for gid, user in members:
        by_group.setdefault(gid, []).append(user)
    out = []
    for g in groups:
        col = catalog.column_of_id.get(g.competency_id or -1)
        code = catalog.codes[col] if col is not None else None
        out.append(
            GroupOut(
                id=g.id, name=g.name, kind="saved", competency=code,
                competency_title=catalog.title_of(code), reason=g.reason,
                students=[person(u) for u in by_group.get(g.id, [])],
            )
        )  # fmt: skip
    return out


def groups_view(session: Session, context: WebContext, section: Section) -> GroupsOut:
    _, catalog = section_course(session, context, section)
    live, _ = context.live(session, catalog.framework_id)
    course = live.course
    students = section_students(session, section_id=section.id)
    suggested: list[GroupOut] = []
    if students:
        state = load_state(session, live, [s.id for s in students])
        planner = Planner(course.graph, course.bank, course.params, policy=live.policy)
        now = day_of(dt.datetime.now(dt.UTC))
        by_id = {str(s.id): s for s in students}
        status = mastery_status(state, live.policy, now)
        stuck_of = {
            str(s.id): [catalog.titles[c] for c in np.flatnonzero(status[i] == Status.STUCK)]
            for i, s in enumerate(students)
        }
        for g in suggest_groups(planner, state, now, students=list(by_id)):
            title = catalog.title_of(g.competency)
            text = (
                g.explanation.replace(g.competency, title)
                if g.competency and title
                else g.explanation
            )
            if g.kind == "independent":
                independent = [k for k in g.students if not stuck_of.get(k)]
                with_me = [k for k in g.students if stuck_of.get(k)]
                if with_me:
                    suggested.append(_with_me(with_me, by_id, stuck_of))
                if not independent:
                    continue
                g = replace(g, students=tuple(independent))
            suggested.append(
                GroupOut(
                    id=None, name=f"{title}" if title else "Independent practice",
                    kind=g.kind, competency=g.competency, competency_title=title,
                    reason=text, students=[person(by_id[k]) for k in g.students],
                )
            )  # fmt: skip
    return GroupsOut(
        section=section_out(session, section),
        suggested=suggested,
        saved=_saved_groups(session, catalog, section),
        activities=[
            Link(label=title, href=key)
            for key, title in session.execute(
                select(Activity.key, Activity.title)
                .where(
                    Activity.id.in_(
                        select(ActivityAlignment.activity_id).where(
                            ActivityAlignment.competency_id.in_(list(catalog.ids))
                        )
                    )
                )
                .order_by(Activity.id)
            ).all()
        ],
    )


def _with_me(keys: list[str], by_id: dict[str, User], stuck_of: dict[str, list[str]]) -> GroupOut:
    """Stuck students are never left to practise alone: they work with the teacher."""
    parts = [f"{by_id[k].given_name} on {stuck_of[k][0]}" for k in keys]
    return GroupOut(
        id=None, name="Work with me: stuck", kind="with_teacher", competency=None,
        competency_title=None,
        reason=f"Stuck, so not left to practise alone: {'; '.join(parts)}. "
        "Sit with them, or assign a prerequisite from Who needs me today.",
        students=[person(by_id[k]) for k in keys],
    )  # fmt: skip


def _members(session: Session, section: Section, student_ids: list[int]) -> list[int]:
    enrolled = {s.id for s in section_students(session, section_id=section.id)}
    strangers = sorted(set(student_ids) - enrolled)
    if strangers:
        raise HTTPException(422, f"Not students of this class: {', '.join(map(str, strangers))}.")
    return sorted(set(student_ids))


def create_group(
    session: Session, context: WebContext, *, section: Section, actor: User, group: GroupIn
) -> Group:
    _, catalog = section_course(session, context, section)
    members = _members(session, section, group.student_ids)
    competency_id = None
    if group.competency:
        col = catalog.index.get(group.competency)
        if col is None:
            raise HTTPException(422, f"There is no competency {group.competency!r} in this course.")
        competency_id = catalog.ids[col]
    row = Group(
        section_id=section.id, name=group.name.strip(), reason=group.reason,
        competency_id=competency_id, created_by_id=actor.id,
    )  # fmt: skip
    session.add(row)
    session.flush()
    session.add_all(GroupMember(group_id=row.id, student_id=s) for s in members)
    session.flush()
    return row


def update_group(session: Session, *, group: Group, section: Section, patch: GroupPatch) -> None:
    if patch.name is not None:
        group.name = patch.name.strip()
    if patch.student_ids is not None:
        members = _members(session, section, patch.student_ids)
        session.execute(delete(GroupMember).where(GroupMember.group_id == group.id))
        session.add_all(GroupMember(group_id=group.id, student_id=s) for s in members)
    session.flush()


def delete_group(session: Session, *, group: Group) -> None:
    session.execute(delete(GroupMember).where(GroupMember.group_id == group.id))
    session.execute(update(Assignment).where(Assignment.group_id == group.id).values(group_id=None))
    session.delete(group)
    session.flush()


def group_member_ids(session: Session, group: Group) -> list[int]:
    return list(
        session.scalars(select(GroupMember.student_id).where(GroupMember.group_id == group.id))
    )


def assign(
    session: Session,
    *,
    catalog: Catalog,
    actor: User,
    student_ids: list[int],
    group: Group | None,
    competency: str | None,
    activity: str | None,
    note: str,
    due_on: dt.date | None,
) -> list[Assignment]:
    if not competency and not activity:
        raise HTTPException(422, "Choose a competency or an activity to assign.")
    competency_id = activity_id = None
    if competency:
        col = catalog.index.get(competency)
        if col is None:
            raise HTTPException(422, f"There is no competency {competency!r} in this course.")
        competency_id = catalog.ids[col]
    if activity:
        activity_id = session.scalar(select(Activity.id).where(Activity.key == activity))
        if activity_id is None:
            raise HTTPException(422, f"There is no activity {activity!r}.")
    if not student_ids:
        raise HTTPException(422, "The group has no students.")
    rows = [
        Assignment(
            student_id=s, group_id=group.id if group else None, competency_id=competency_id,
            activity_id=activity_id, note=note.strip(), due_on=due_on, assigned_by_id=actor.id,
        )
        for s in student_ids
    ]  # fmt: skip
    session.add_all(rows)
    session.flush()
    return rows
