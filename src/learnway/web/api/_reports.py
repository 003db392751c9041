"""Leader reports, with small-cell suppression."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from learnway.web._csv import CSV_RESPONSES, Cell, csv_response
from learnway.web._deps import ContextDep, Leader, SessionDep
from learnway.web._reports import gap_report, mastery_report, supports_report
from learnway.web._schemas import GapOut, ReportOut, SupportsOut

router = APIRouter(tags=["reports"])

Breakdown = Literal["school", "section", "course", "sex", "race", "ethnicity"]
Subgroup = Literal["sex", "race", "ethnicity"]


@router.get("/reports/mastery", response_model=ReportOut)
def get_mastery_report(
    user: Leader,
    session: SessionDep,
    context: ContextDep,
    by: Annotated[Breakdown, Query()] = "section",
) -> ReportOut:
    """Mean competencies mastered and two-week growth, by school, class, course or subgroup;
    groups of fewer than 10 students are suppressed."""
    return mastery_report(session, context, user, by=by)


@router.get("/reports/mastery.csv", response_class=Response, responses=CSV_RESPONSES)
def get_mastery_report_csv(
    user: Leader,
    session: SessionDep,
    context: ContextDep,
    by: Annotated[Breakdown, Query()] = "section",
) -> Response:
    """The mastery report's figures as CSV (suppressed groups with empty figures)."""
    data = mastery_report(session, context, user, by=by)
    rows: list[list[Cell]] = [
        [c.group, c.students, c.suppressed, c.mean_mastered, c.mean_growth] for c in data.cells
    ]
    header = [data.by, "students", "suppressed", "mean_mastered", "mean_growth_2_weeks"]
    return csv_response(f"mastery-by-{data.by}.csv", header, rows)


@router.get("/reports/gaps", response_model=GapOut)
def get_gap_report(
    user: Leader,
    session: SessionDep,
    context: ContextDep,
    subgroup: Annotated[Subgroup, Query()] = "race",
) -> GapOut:
    """Mean competencies mastered per subgroup, week by week (suppressed under 10 students)."""
    return gap_report(session, context, user, subgroup=subgroup)


@router.get("/reports/gaps.csv", response_class=Response, responses=CSV_RESPONSES)
def get_gap_report_csv(
    user: Leader,
    session: SessionDep,
    context: ContextDep,
    subgroup: Annotated[Subgroup, Query()] = "race",
) -> Response:
    """The gap report's figures as CSV, a row per week and subgroup."""
    data = gap_report(session, context, user, subgroup=subgroup)
    rows: list[list[Cell]] = [
        [p.week.isoformat(), c.group, c.students, c.suppressed, c.mean_mastered]
        for p in data.points
        for c in p.cells
    ]
    header = ["week_ending", data.subgroup, "students", "suppressed", "mean_mastered"]
    return csv_response(f"gaps-by-{data.subgroup}.csv", header, rows)


@router.get("/reports/supports", response_model=SupportsOut)
def get_supports_report(user: Leader, session: SessionDep) -> SupportsOut:
    """How many students receive each kind of non-academic support."""
    return supports_report(session, user)
