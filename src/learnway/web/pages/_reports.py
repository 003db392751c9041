"""Leader pages: mastery and growth by group, gaps over time, supports coverage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from learnway.web._deps import ContextDep, Leader, SessionDep
from learnway.web._reports import BREAKDOWNS, SUBGROUPS
from learnway.web._schemas import GapOut, ReportOut
from learnway.web._svg import BarChart, LinesChart, bar_chart, lines_chart
from learnway.web.api import _reports as api
from learnway.web.pages._render import render

router = APIRouter()

HIDDEN = "suppressed (fewer than 10 students)"


def mastery_charts(data: ReportOut) -> tuple[BarChart, BarChart]:
    """Mean mastered and mean two-week growth by group, suppressed groups without a bar."""
    mastered = [(c.group, None if c.suppressed else c.mean_mastered) for c in data.cells]
    growth = [(c.group, None if c.suppressed else c.mean_growth) for c in data.cells]
    return (
        bar_chart(mastered, unit="Mean competencies mastered", hidden=HIDDEN),
        bar_chart(growth, unit="Mean competencies gained over two weeks", hidden=HIDDEN),
    )


def gap_chart(data: GapOut, groups: list[str]) -> LinesChart:
    """One line per subgroup over the weeks; a suppressed week breaks the group's line."""
    values: dict[str, list[float | None]] = {g: [] for g in groups}
    for p in data.points:
        shown = {c.group: c.mean_mastered for c in p.cells if not c.suppressed}
        for g in groups:
            values[g].append(shown.get(g))
    weeks = [f"{p.week:%-d %b}" for p in data.points]
    return lines_chart(weeks, [(g, values[g]) for g in groups], unit="Mean competencies mastered")


@router.get("/reports/mastery", response_class=HTMLResponse)
def mastery_page(
    request: Request,
    user: Leader,
    session: SessionDep,
    context: ContextDep,
    by: Annotated[api.Breakdown, Query()] = "section",
) -> HTMLResponse:
    data = api.get_mastery_report(user, session, context, by=by)
    mastered, growth = mastery_charts(data)
    return render(
        request, "report_mastery.html", title="Mastery and growth", data=data,
        breakdowns=BREAKDOWNS, mastered_chart=mastered, growth_chart=growth,
    )  # fmt: skip


@router.get("/reports/gaps", response_class=HTMLResponse)
def gaps_page(
    request: Request,
    user: Leader,
    session: SessionDep,
    context: ContextDep,
    subgroup: Annotated[api.Subgroup, Query()] = "race",
) -> HTMLResponse:
    data = api.get_gap_report(user, session, context, subgroup=subgroup)
    groups = sorted({c.group for p in data.points for c in p.cells})
    return render(
        request, "report_gaps.html", title="Gaps over time", data=data, groups=groups,
        subgroups=SUBGROUPS, chart=gap_chart(data, groups),
    )  # fmt: skip


@router.get("/reports/supports", response_class=HTMLResponse)
def supports_page(request: Request, user: Leader, session: SessionDep) -> HTMLResponse:
    data = api.get_supports_report(user, session)
    return render(request, "report_supports.html", title="Supports coverage", data=data)
