"""Leader reports read from the store: who counts in which group, what they have mastered now
and at earlier dates (from the current state and the mastery events, never a replay), and
which supports they receive. :mod:`learnway.analytics` turns these into suppressed figures; the
web pages and ``learnway report`` show them.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session

from learnway.analytics import MIN_CELL, GroupFigure, group_figures, suppressed
from learnway.store._schema import (
    Course,
    Demographics,
    Enrollment,
    Mastery,
    Org,
    Section,
    Support,
    User,
)
from learnway.store._state import live_versions, mastered_changes, mastered_counts, plain_rows

GROWTH_DAYS = 14
BREAKDOWNS = ("school", "section", "course", "sex", "race", "ethnicity")
SUBGROUPS = ("sex", "race", "ethnicity")
RACES = (
    ("american_indian_or_alaska_native", "American Indian or Alaska Native"),
    ("asian", "Asian"),
    ("black_or_african_american", "Black or African American"),
    ("native_hawaiian_or_other_pacific_islander", "Native Hawaiian or Pacific Islander"),
    ("white", "White"),
)

Students = Select[Any] | Sequence[int]


@dataclass(frozen=True)
class GapWeek:
    week: dt.date
    figures: list[GroupFigure]


@dataclass(frozen=True)
class SupportFigure:
    kind: str
    students: int | None
    suppressed: bool
    share: float | None


@dataclass(frozen=True)
class SupportsFigures:
    students: int
    coverage: list[SupportFigure]
    flagged_without_support: int | None


def _race() -> Any:
    """The race a student counts under, computed by the database (one label per student)."""
    return case(
        (Demographics.demographic_race_two_or_more_races.is_(True), "Two or more races"),
        *((getattr(Demographics, field).is_(True), label) for field, label in RACES),
        else_="Not reported",
    )


def _ethnicity() -> Any:
    flag = Demographics.hispanic_or_latino_ethnicity
    return case(
        (flag.is_(None), "Not reported"),
        (flag.is_(True), "Hispanic or Latino"),
        else_="Not Hispanic or Latino",
    )


def student_groups(session: Session, students: Students, *, by: str) -> dict[int, list[str]]:
    """Student id -> the groups they count in for breakdown ``by`` (one of ``BREAKDOWNS``)."""
    if by not in BREAKDOWNS:
        raise ValueError(f"unknown breakdown {by!r}; choose one of {', '.join(BREAKDOWNS)}")
    out: dict[int, list[str]] = {}
    if by in ("school", "section", "course"):
        label = {"school": Org.name, "section": Section.title, "course": Course.title}[by]
        rows = plain_rows(
            session,
            select(Enrollment.user_id, label)
            .join(Section, Section.id == Enrollment.section_id)
            .join(Org, Org.id == Section.school_id)
            .join(Course, Course.id == Section.course_id)
            .where(Enrollment.role == "student", Enrollment.user_id.in_(students))
            .distinct(),
        )
        for sid, name in rows:
            out.setdefault(sid, []).append(name)
        return out
    if by == "sex":
        column: Any = Demographics.sex
    else:
        column = _ethnicity() if by == "ethnicity" else _race()
    for sid, value in plain_rows(
        session, select(Demographics.user_id, column).where(Demographics.user_id.in_(students))
    ):
        out[sid] = [(value or "not reported").capitalize() if by == "sex" else value]
    return out


@contextmanager
def _many_rows() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a report builds its one small row per
    student of a district (none of them in a cycle): it would walk them again and again, for
    about as long as the report takes otherwise. Collection resumes at the end."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def mastery_report(
    session: Session, students: Students, *, by: str, now: dt.datetime | None = None
) -> tuple[list[int], list[GroupFigure]]:
    """Mean competencies mastered per group and growth over the last ``GROWTH_DAYS`` days.

    Returns the students counted (for the audit record) and the figures."""
    now = now or dt.datetime.now(dt.UTC)
    with _many_rows():
        groups = student_groups(session, students, by=by)
        ids = sorted(groups)
        current = mastered_counts(session, students)
        later = mastered_changes(session, students, now - dt.timedelta(days=GROWTH_DAYS))
        figures = group_figures(
            groups,
            {s: float(n) for s, n in current.items()},
            before={s: float(max(n - later.get(s, 0), 0)) for s, n in current.items()},
        )
    return ids, figures


def gap_report(
    session: Session, students: Students, *, subgroup: str, weeks: int = 4,
    today: dt.date | None = None,
) -> tuple[list[int], list[GapWeek]]:  # fmt: skip
    """Mean competencies mastered per subgroup at the end of each of the last ``weeks`` weeks."""
    if subgroup not in SUBGROUPS:
        raise ValueError(f"unknown subgroup {subgroup!r}; choose one of {', '.join(SUBGROUPS)}")
    today = today or dt.date.today()
    with _many_rows():
        groups = student_groups(session, students, by=subgroup)
        ids = sorted(groups)
        current = mastered_counts(session, students)
        points = []
        for k in range(weeks - 1, -1, -1):
            week = today - dt.timedelta(days=7 * k)
            until = dt.datetime.combine(week, dt.time.max, tzinfo=dt.UTC)
            later = mastered_changes(session, students, until) if k else {}
            at = {s: float(max(current.get(s, 0) - later.get(s, 0), 0)) for s in groups}
            points.append(GapWeek(week, group_figures(groups, at)))
    return ids, points


def supports_report(
    session: Session, students: Students, *, today: dt.date | None = None
) -> SupportsFigures:
    """How many students receive each kind of support today, and how many stuck students
    receive none."""
    today = today or dt.date.today()
    chosen: Any = students if isinstance(students, Select) else list(students)
    total = session.scalar(select(func.count()).select_from(User).where(User.id.in_(chosen)))
    rows = session.execute(
        select(Support.student_id, Support.kind).where(
            Support.student_id.in_(chosen),
            Support.start_date <= today,
            or_(Support.end_date.is_(None), Support.end_date >= today),
        )
    ).all()
    by_kind: dict[str, set[int]] = {}
    for sid, kind in rows:
        by_kind.setdefault(kind, set()).add(sid)
    hidden = suppressed({k: len(v) for k, v in by_kind.items()})
    coverage = [
        SupportFigure(
            kind=k,
            students=None if k in hidden else len(v),
            suppressed=k in hidden,
            share=None if k in hidden or not total else round(len(v) / total, 3),
        )
        for k, v in sorted(by_kind.items())
    ]
    stuck = set(
        session.scalars(
            select(Mastery.student_id)
            .where(
                Mastery.student_id.in_(chosen),
                Mastery.status == "stuck",
                Mastery.model_version.in_(live_versions(session)),
            )
            .distinct()
        )
    )
    flagged = len(stuck - {sid for sid, _ in rows})
    shown = flagged if flagged >= MIN_CELL or flagged == 0 else None
    return SupportsFigures(int(total or 0), coverage, shown)
