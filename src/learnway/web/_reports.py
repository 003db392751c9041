"""Leader reports: mastery and growth by school, class, course and subgroup; gaps over time;
coverage of non-academic supports. No figure is shown for fewer than ``MIN_CELL`` students.

Suppression is primary (a group under ``MIN_CELL`` students shows nothing) and secondary: when
exactly one group of a breakdown is suppressed, the next smallest is suppressed too, so that
the hidden one cannot be recovered by subtraction from a total.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from learnway.store import live_versions, mastered_counts
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
from learnway.web._access import audit_resource, visible_students
from learnway.web._context import WebContext
from learnway.web._models import AuditEvent
from learnway.web._schemas import (
    GapOut,
    GapPoint,
    ReportCell,
    ReportOut,
    SupportCoverage,
    SupportsOut,
)

MIN_CELL = 10
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


def _scope(user: User) -> Select[Any]:
    return visible_students(user)


def _audit_report(session: Session, user: User, ids: list[int]) -> None:
    """A report shows groups of 10 or more, never a student: one record of the aggregate view
    (no student id; each student's own data views are recorded one by one elsewhere)."""
    session.add(
        AuditEvent(
            actor_id=user.id,
            action="view",
            resource=audit_resource(f"aggregate of {len(ids)} students"),
        )
    )


def _labels(session: Session, user: User, by: str) -> dict[int, list[str]]:
    """Student id -> the groups they count in for breakdown ``by``."""
    ids = _scope(user)
    out: dict[int, list[str]] = {}
    if by in ("school", "section", "course"):
        label = {"school": Org.name, "section": Section.title, "course": Course.title}[by]
        rows = session.execute(
            select(Enrollment.user_id, label)
            .join(Section, Section.id == Enrollment.section_id)
            .join(Org, Org.id == Section.school_id)
            .join(Course, Course.id == Section.course_id)
            .where(Enrollment.role == "student", Enrollment.user_id.in_(ids))
            .distinct()
        ).all()
        for sid, name in rows:
            out.setdefault(sid, []).append(name)
        return out
    demo = session.scalars(select(Demographics).where(Demographics.user_id.in_(ids))).all()
    for d in demo:
        if by == "sex":
            out[d.user_id] = [(d.sex or "not reported").capitalize()]
        elif by == "ethnicity":
            flag = d.hispanic_or_latino_ethnicity
            out[d.user_id] = [
                "Hispanic or Latino" if flag else "Not Hispanic or Latino" if flag is False
                else "Not reported"
            ]  # fmt: skip
        else:
            if d.demographic_race_two_or_more_races:
                out[d.user_id] = ["Two or more races"]
            else:
                named = [label for field, label in RACES if getattr(d, field)]
                out[d.user_id] = named[:1] or ["Not reported"]
    return out


def _suppress(counts: dict[str, int]) -> set[str]:
    hidden = {g for g, n in counts.items() if n < MIN_CELL}
    if len(hidden) == 1 and len(counts) > 1:
        rest = sorted((n, g) for g, n in counts.items() if g not in hidden)
        hidden.add(rest[0][1])
    return hidden


def _cells(
    labels: dict[int, list[str]], value: Callable[[list[int]], tuple[float, float | None]]
) -> list[ReportCell]:
    members: dict[str, list[int]] = {}
    for sid, groups in labels.items():
        for g in groups:
            members.setdefault(g, []).append(sid)
    hidden = _suppress({g: len(m) for g, m in members.items()})
    cells = []
    for g in sorted(members):
        if g in hidden:
            cells.append(
                ReportCell(group=g, students=None, suppressed=True, mean_mastered=None,
                           mean_growth=None)
            )  # fmt: skip
            continue
        mastered, growth = value(members[g])
        cells.append(
            ReportCell(
                group=g, students=len(members[g]), suppressed=False,
                mean_mastered=round(mastered, 2),
                mean_growth=None if growth is None else round(growth, 2),
            )
        )  # fmt: skip
    return cells


def mastery_report(session: Session, context: WebContext, user: User, *, by: str) -> ReportOut:
    labels = _labels(session, user, by)
    ids = sorted(labels)
    _audit_report(session, user, ids)
    now = mastered_counts(session, ids)
    before = mastered_counts(
        session, ids, until=dt.datetime.now(dt.UTC) - dt.timedelta(days=GROWTH_DAYS)
    )

    def value(members: list[int]) -> tuple[float, float | None]:
        m = float(np.mean([now[s] for s in members]))
        g = float(np.mean([now[s] - before[s] for s in members]))
        return m, g

    return ReportOut(by=by, min_cell=MIN_CELL, cells=_cells(labels, value))


def _mean_of(counts: dict[int, int]) -> Callable[[list[int]], tuple[float, float | None]]:
    def value(members: list[int]) -> tuple[float, float | None]:
        return float(np.mean([counts[s] for s in members])), None

    return value


def gap_report(
    session: Session, context: WebContext, user: User, *, subgroup: str, weeks: int = 4
) -> GapOut:
    labels = _labels(session, user, subgroup)
    ids = sorted(labels)
    _audit_report(session, user, ids)
    today = dt.date.today()
    points = []
    for k in range(weeks - 1, -1, -1):
        week = today - dt.timedelta(days=7 * k)
        until = dt.datetime.combine(week, dt.time.max, tzinfo=dt.UTC)
        at = mastered_counts(session, ids, until=until) if k else mastered_counts(session, ids)
        points.append(GapPoint(week=week, cells=_cells(labels, _mean_of(at))))
    return GapOut(subgroup=subgroup, min_cell=MIN_CELL, points=points)


def supports_report(session: Session, user: User) -> SupportsOut:
    ids = list(session.scalars(_scope(user)))
    _audit_report(session, user, ids)
    today = dt.date.today()
    rows = session.execute(
        select(Support.student_id, Support.kind).where(
            Support.student_id.in_(ids),
            Support.start_date <= today,
            or_(Support.end_date.is_(None), Support.end_date >= today),
        )
    ).all()
    by_kind: dict[str, set[int]] = {}
    for sid, kind in rows:
        by_kind.setdefault(kind, set()).add(sid)
    hidden = _suppress({k: len(v) for k, v in by_kind.items()})
    coverage = [
        SupportCoverage(
            kind=k,
            students=None if k in hidden else len(v),
            suppressed=k in hidden,
            share=None if k in hidden or not ids else round(len(v) / len(ids), 3),
        )
        for k, v in sorted(by_kind.items())
    ]
    supported = {sid for sid, _ in rows}
    stuck = set(
        session.scalars(
            select(Mastery.student_id).where(
                Mastery.student_id.in_(ids),
                Mastery.status == "stuck",
                Mastery.model_version.in_(live_versions(session)),
            )
        )
    )
    flagged = len(stuck - supported)
    return SupportsOut(
        min_cell=MIN_CELL,
        students=len(ids),
        coverage=coverage,
        flagged_without_support=flagged if flagged >= MIN_CELL or flagged == 0 else None,
    )
