"""Leader reports for the web: the signed-in leader's students, the store's report figures
(:mod:`learnway.store._reports`, suppressed by :mod:`learnway.analytics`), one audit record of
the aggregate view, and the API schemas."""

from __future__ import annotations

from sqlalchemy.orm import Session

from learnway.analytics import MIN_CELL, GroupFigure
from learnway.store import _reports as reports
from learnway.store._schema import User
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

BREAKDOWNS = reports.BREAKDOWNS
SUBGROUPS = reports.SUBGROUPS


def _audit_report(session: Session, user: User, students: int) -> None:
    """A report shows groups of 10 or more, never a student: one record of the aggregate view
    (no student id; each student's own data views are recorded one by one elsewhere)."""
    session.add(
        AuditEvent(
            actor_id=user.id,
            action="view",
            resource=audit_resource(f"aggregate of {students} students"),
        )
    )


def _cells(figures: list[GroupFigure]) -> list[ReportCell]:
    return [
        ReportCell(group=f.group, students=f.students, suppressed=f.suppressed,
                   mean_mastered=f.mean, mean_growth=f.mean_growth)
        for f in figures
    ]  # fmt: skip


def mastery_report(session: Session, context: WebContext, user: User, *, by: str) -> ReportOut:
    ids, figures = reports.mastery_report(session, visible_students(user), by=by)
    _audit_report(session, user, len(ids))
    return ReportOut(by=by, min_cell=MIN_CELL, cells=_cells(figures))


def gap_report(
    session: Session, context: WebContext, user: User, *, subgroup: str, weeks: int = 4
) -> GapOut:
    ids, weeks_ = reports.gap_report(
        session, visible_students(user), subgroup=subgroup, weeks=weeks
    )
    _audit_report(session, user, len(ids))
    points = [GapPoint(week=w.week, cells=_cells(w.figures)) for w in weeks_]
    return GapOut(subgroup=subgroup, min_cell=MIN_CELL, points=points)


def supports_report(session: Session, user: User) -> SupportsOut:
    figures = reports.supports_report(session, visible_students(user))
    _audit_report(session, user, figures.students)
    return SupportsOut(
        min_cell=MIN_CELL,
        students=figures.students,
        coverage=[
            SupportCoverage(
                kind=c.kind, students=c.students, suppressed=c.suppressed, share=c.share
            )
            for c in figures.coverage
        ],
        flagged_without_support=figures.flagged_without_support,
    )
