"""Leader pages: mastery and growth by group, gaps over time, supports coverage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from learnway.web._deps import ContextDep, Leader, SessionDep
from learnway.web._reports import BREAKDOWNS, SUBGROUPS
from learnway.web.api import _reports as api
from learnway.web.pages._render import render

router = APIRouter()


@router.get("/reports/mastery", response_class=HTMLResponse)
def mastery_page(
    request: Request,
    user: Leader,
    session: SessionDep,
    context: ContextDep,
    by: Annotated[api.Breakdown, Query()] = "section",
) -> HTMLResponse:
    data = api.get_mastery_report(user, session, context, by=by)
    return render(
        request, "report_mastery.html", title="Mastery and growth", data=data,
        breakdowns=BREAKDOWNS,
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
        subgroups=SUBGROUPS,
    )  # fmt: skip


@router.get("/reports/supports", response_class=HTMLResponse)
def supports_page(request: Request, user: Leader, session: SessionDep) -> HTMLResponse:
    data = api.get_supports_report(user, session)
    return render(request, "report_supports.html", title="Supports coverage", data=data)
