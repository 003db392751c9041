"""A student's data as the pages show it: path, recommendations, goals, growth, interests.

Every function takes a student already opened through :func:`learnway.web._access.open_student`
(authorized and audited) and returns the JSON shape the API serves and the page renders.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote

import numpy as np
from fastapi import HTTPException
from numpy.typing import NDArray
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from learnway.paths import (
    REASON_TEMPLATES,
    CourseGraph,
    LearnerState,
    Recommendation,
    SchoolCalendar,
    Status,
    forecast_pacing,
    mastery_status,
)
from learnway.store import (
    MASTERED_NAMES,
    STATUS_NAMES,
    LiveCourse,
    course_of_student,
    daily_growth,
    day_of,
    live_course_of_student,
    load_state,
    recommend,
    section_calendar,
    updating_students,
)
from learnway.store._schema import Attempt, Enrollment, Goal, Profile, Section, User
from learnway.web._catalog import INTERESTS, STATUS_LABELS, Catalog
from learnway.web._context import WebContext
from learnway.web._schemas import (
    CompetencyState,
    GoalIn,
    GoalOut,
    GoalPatch,
    GoalsOut,
    GrowthOut,
    GrowthPoint,
    InterestsOut,
    PathOut,
    PersonOut,
    ReasonOut,
    RecommendationOut,
    Unit,
)


def person(user: User) -> PersonOut:
    return PersonOut(
        id=user.id,
        username=user.username,
        name=f"{user.given_name} {user.family_name}",
        role=user.role,
        grade=user.grade,
    )


@dataclass(frozen=True)
class MasteryGrid:
    """The stored learner state of some students, as the pages show it, over the catalog's
    competencies. Statuses are those of the mastery rules now, as the planner sees them."""

    p: NDArray[np.float64]  # nan where there is no evidence
    evidence: NDArray[np.int64]  # the competency's own attempts
    status: NDArray[np.object_]
    last: NDArray[np.float64]  # day of last evidence, nan if none

    @property
    def mastered(self) -> NDArray[np.int64]:
        """Competencies mastered per student (review due counts: it was shown and is held)."""
        return np.isin(self.status, MASTERED_NAMES).sum(axis=1)


STATUS_TEXT = np.array([STATUS_NAMES[Status(k)] for k in range(len(Status))], dtype=object)


def mastery_grid(
    session: Session,
    context: WebContext,
    catalog: Catalog,
    student_ids: list[int],
    *,
    state: LearnerState | None = None,
    live: LiveCourse | None = None,
) -> MasteryGrid:
    """The students' grid, from their stored state (or ``state``, already read for them;
    ``live``: the course as the caller already holds it)."""
    live = live or context.live(session, catalog.framework_id)[0]
    state = load_state(session, live, student_ids) if state is None else state
    now = day_of(dt.datetime.now(dt.UTC))
    return MasteryGrid(
        p=shown_p(state),
        evidence=state.attempts.copy(),
        status=STATUS_TEXT[mastery_status(state, live.policy, now)],
        last=state.last_seen.copy(),
    )


def shown_p(state: LearnerState) -> NDArray[np.float64]:
    """The probabilities a grid shows: none (nan) where there is no evidence yet."""
    return np.where(state.evidence > 0, state.p_known, np.nan)


def framework_of(session: Session, student: User) -> int:
    framework_id = course_of_student(session, student.id)
    if framework_id is None:
        raise HTTPException(404, f"Student {student.id} is not enrolled in a course with a path.")
    return framework_id


def live_of(session: Session, context: WebContext, student: User) -> tuple[LiveCourse, Catalog]:
    """The student's course as the live path serves it, its model version read with it."""
    found = live_course_of_student(session, student.id)
    if found is None:
        raise HTTPException(404, f"Student {student.id} is not enrolled in a course with a path.")
    return context.live(session, found[0], version=found[1])


def course_for(session: Session, context: WebContext, student: User) -> tuple[CourseGraph, Catalog]:
    live, catalog = live_of(session, context, student)
    return live.course, catalog


def competency_state(catalog: Catalog, grid: MasteryGrid, row: int, col: int) -> CompetencyState:
    p = grid.p[row, col]
    status = str(grid.status[row, col])
    return CompetencyState(
        code=catalog.codes[col],
        title=catalog.titles[col],
        status=status,
        status_label=STATUS_LABELS[status],
        p_mastery=None if np.isnan(p) else round(float(p), 3),
        evidence=int(grid.evidence[row, col]),
    )


def path_view(session: Session, context: WebContext, student: User) -> PathOut:
    _, catalog = course_for(session, context, student)
    grid = mastery_grid(session, context, catalog, [student.id])
    units = []
    for unit in catalog.units:
        states = [competency_state(catalog, grid, 0, c) for c in unit.members]
        units.append(
            Unit(
                code=unit.code,
                title=unit.title,
                mastered=sum(s.status in MASTERED_NAMES for s in states),
                total=len(states),
                competencies=states,
            )
        )
    return PathOut(
        student=person(student),
        course=catalog.title,
        mastered=int(grid.mastered[0]),
        total=len(catalog.codes),
        units=units,
        updating=bool(updating_students(session, [student.id])),
    )


def _reason_text(code: str, params: dict[str, object], catalog: Catalog) -> str:
    shown = dict(params)
    for key in ("competency", "stuck_on", "goal", "next"):
        value = shown.get(key)
        if isinstance(value, str):
            shown[key] = catalog.title_of(value)
    try:
        return REASON_TEMPLATES[code].format(**shown)
    except (KeyError, ValueError, IndexError):
        return code.replace("_", " ")


def interest_weights(catalog: Catalog, interests: list[str]) -> dict[str, float]:
    weights: dict[str, float] = {}
    for interest in interests:
        for code, w in catalog.interest_weights.get(interest, {}).items():
            weights[code] = max(weights.get(code, 0.0), w)
    return weights


def student_interests(session: Session, student: User) -> list[str]:
    profile = session.get(Profile, student.id)
    return [str(i) for i in (profile.interests if profile else [])]


def active_goal_codes(session: Session, student: User, catalog: Catalog) -> list[str]:
    ids = session.scalars(
        select(Goal.competency_id).where(
            Goal.student_id == student.id, Goal.status == "active", Goal.competency_id.is_not(None)
        )
    ).all()
    return [catalog.codes[catalog.column_of_id[i]] for i in ids if i in catalog.column_of_id]


def student_deadline(session: Session, student: User) -> dt.date | None:
    return session.scalar(
        select(func.min(Section.deadline))
        .join(Enrollment, Enrollment.section_id == Section.id)
        .where(Enrollment.user_id == student.id, Enrollment.role == "student")
    )


def student_calendar(session: Session, student: User) -> SchoolCalendar | None:
    """The school calendar of the student's section with the nearest deadline (the first one
    without a deadline otherwise), on the live path's clock."""
    section_id = session.scalar(
        select(Section.id)
        .join(Enrollment, Enrollment.section_id == Section.id)
        .where(Enrollment.user_id == student.id, Enrollment.role == "student")
        .order_by(Section.deadline.is_(None), Section.deadline, Section.id)
        .limit(1)
    )
    return None if section_id is None else section_calendar(session, section_id)


def recommendation_list(
    session: Session, context: WebContext, student: User
) -> list[RecommendationOut]:
    live, catalog = live_of(session, context, student)
    recs: list[Recommendation] = recommend(
        session, live, student.id,
        goals=active_goal_codes(session, student, catalog),
        interests=interest_weights(catalog, student_interests(session, student)) or None,
        deadline=student_deadline(session, student),
        calendar=student_calendar(session, student),
    )  # fmt: skip
    out = []
    for rank, rec in enumerate(recs, start=1):
        item = rec.activity.item
        step = rec.activity.key if rec.activity.item else None
        if item and "#" not in item:
            href = f"/practice/{item}"
        else:
            item, step = None, None
            href = f"/practice/competency/{quote(rec.competency, safe='/')}"
        out.append(
            RecommendationOut(
                rank=rank,
                competency=rec.competency,
                competency_title=catalog.title_of(rec.competency) or rec.competency,
                kind=rec.activity.kind,
                item=item,
                step=step,
                href=href,
                reasons=[
                    ReasonOut(code=r.code, text=_reason_text(r.code, dict(r.params), catalog))
                    for r in rec.reasons
                ],
            )
        )
    return out


# --- goals ------------------------------------------------------------------------------


def _mastered_rate(session: Session, student: User, grid: MasteryGrid) -> tuple[float, float]:
    """Competencies mastered so far and the days since the student's first attempt."""
    first = session.scalar(
        select(func.min(Attempt.timestamp)).where(Attempt.student_id == student.id)
    )
    now = dt.datetime.now(dt.UTC)
    days = max((now - first).total_seconds() / 86_400, 1.0) if first else 0.0
    return float(grid.mastered[0]), days


def goals_view(session: Session, context: WebContext, student: User) -> GoalsOut:
    course, catalog = course_for(session, context, student)
    grid = mastery_grid(session, context, catalog, [student.id])
    done, days = _mastered_rate(session, student, grid)
    rows = session.scalars(
        select(Goal).where(Goal.student_id == student.id).order_by(Goal.created_at, Goal.id)
    ).all()
    today = dt.date.today()
    goals = []
    for goal in rows:
        code, progress, forecast = None, None, "No competency linked: progress is yours to judge."
        col = catalog.column_of_id.get(goal.competency_id or -1)
        if col is not None:
            code = catalog.codes[col]
            p = grid.p[0, col]
            progress = None if np.isnan(p) else round(float(p), 3)
            if grid.status[0, col] in MASTERED_NAMES:
                forecast = "Mastered."
            else:
                needed = course.graph.ancestors[col] & ~np.isin(grid.status[0], MASTERED_NAMES)
                remaining = int(needed.sum()) + 1
                frame = forecast_pacing([done], [remaining], [days], now=0.0, deadline=1e9)
                when = today + dt.timedelta(days=float(frame["forecast"].iloc[0]))
                forecast = (
                    f"{remaining} competencies to master on the way; at your pace, "
                    f"about {when:%-d %B %Y}"
                )
                if goal.target_date is not None:
                    forecast += (
                        " (on track)." if when <= goal.target_date else " (after your target date)."
                    )
                else:
                    forecast += "."
        goals.append(
            GoalOut(
                id=goal.id, title=goal.title, competency=code,
                competency_title=catalog.title_of(code), target_date=goal.target_date,
                status=goal.status, progress=progress, forecast=forecast,
            )
        )  # fmt: skip
    return GoalsOut(student=person(student), goals=goals)


def _competency_id(catalog: Catalog, code: str | None) -> int | None:
    if code is None or code == "":
        return None
    col = catalog.index.get(code)
    if col is None:
        raise HTTPException(422, f"There is no competency {code!r} in this course.")
    return catalog.ids[col]


def add_goal(
    session: Session, context: WebContext, *, student: User, actor: User, goal: GoalIn
) -> Goal:
    _, catalog = course_for(session, context, student)
    if goal.target_date is not None and goal.target_date < dt.date.today() - dt.timedelta(days=1):
        raise HTTPException(422, "The target date is in the past.")
    row = Goal(
        student_id=student.id,
        title=goal.title.strip(),
        competency_id=_competency_id(catalog, goal.competency),
        target_date=goal.target_date,
        created_by_id=actor.id,
    )
    session.add(row)
    session.flush()
    return row


def update_goal(session: Session, *, student: User, goal_id: int, patch: GoalPatch) -> Goal:
    goal = session.scalar(select(Goal).where(Goal.id == goal_id, Goal.student_id == student.id))
    if goal is None:
        raise HTTPException(404, f"Student {student.id} has no goal {goal_id}.")
    if patch.title is not None:
        goal.title = patch.title.strip()
    if patch.target_date is not None:
        goal.target_date = patch.target_date
    if patch.status is not None:
        goal.status = patch.status
    session.flush()
    return goal


# --- growth and interests ---------------------------------------------------------------


def growth_view(session: Session, context: WebContext, student: User) -> GrowthOut:
    """Competencies mastered at the end of each day with practice, read from the mastery
    events (no replay): the last point is the count the path shows."""
    framework_id = framework_of(session, student)
    live, catalog = context.live(session, framework_id)
    points = [
        GrowthPoint(day=day, mastered=mastered, attempts=attempts)
        for day, mastered, attempts in daily_growth(session, live, student.id)
    ]
    return GrowthOut(student=person(student), total=len(catalog.codes), points=points)


def interests_view(session: Session, student: User) -> InterestsOut:
    return InterestsOut(
        student=person(student),
        interests=student_interests(session, student),
        choices=list(INTERESTS),
    )


def set_interests(session: Session, *, student: User, interests: list[str]) -> None:
    unknown = sorted(set(interests) - set(INTERESTS))
    if unknown:
        raise HTTPException(
            422, f"Unknown interests: {', '.join(unknown)}. Choose from: {', '.join(INTERESTS)}."
        )
    profile = session.get(Profile, student.id)
    if profile is None:
        profile = Profile(student_id=student.id)
        session.add(profile)
    profile.interests = sorted(set(interests))
    profile.updated_at = dt.datetime.now(dt.UTC)
    session.flush()
