"""Evidence pages for leaders: experiments (list, define, launch, read, finish, exclude), the
efficacy of supports and of content; each renders the object of its API twin, with charts
drawn on the server and their data tables beside them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from learnway.web._access import visible_sections
from learnway.web._deps import ContextDep, FormDep, Id, Leader, SessionDep
from learnway.web._experiments import (
    KIND_LABELS,
    ExclusionIn,
    ExperimentIn,
    ExperimentOut,
    content_efficacy_view,
    create_experiment,
    exclude,
    experiment_view,
    finish,
    launch,
    list_experiments,
    supports_efficacy,
)
from learnway.web._forms import FormError, parse_form
from learnway.web._svg import interval_chart, two_line_chart
from learnway.web.api._experiments import Days, MinUses, Window
from learnway.web.pages._render import render

router = APIRouter()
CONDITION_ROWS = 3


@router.get("/experiments", response_class=HTMLResponse)
def experiments_page(request: Request, user: Leader, session: SessionDep) -> HTMLResponse:
    data = list_experiments(session, user)
    return render(request, "experiments.html", title="Experiments", data=data)


def _sections(session: SessionDep, user: Leader) -> list[tuple[int, str]]:
    from learnway.store._schema import Section

    rows = session.execute(
        select(Section.id, Section.title)
        .where(Section.id.in_(visible_sections(user)))
        .order_by(Section.title)
    )
    return [(i, t) for i, t in rows]


def _new_page(
    request: Request, session: SessionDep, user: Leader, *, values: dict[str, Any],
    errors: dict[str, str], status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    today = dt.date.today()
    defaults = {"start_date": today.isoformat(),
                "end_date": (today + dt.timedelta(days=28)).isoformat(),
                "share_1": "1", "share_2": "1", "name_1": "control"}  # fmt: skip
    return render(
        request, "experiment_new.html", title="Define an experiment",
        values={**defaults, **values}, errors=errors, kinds=KIND_LABELS,
        sections=_sections(session, user), rows=range(1, CONDITION_ROWS + 1),
        status_code=status_code,
    )  # fmt: skip


@router.get("/experiments/new", response_class=HTMLResponse)
def experiment_new(request: Request, user: Leader, session: SessionDep) -> HTMLResponse:
    return _new_page(request, session, user, values={}, errors={})


def parse_settings(text: str) -> dict[str, str | int | float | bool]:
    """``"review=false; max_review=1"`` as settings; a part without ``=`` is refused."""
    out: dict[str, str | int | float | bool] = {}
    for part in text.replace("\n", ";").split(";"):
        if not part.strip():
            continue
        if "=" not in part:
            raise FormError({"conditions": f"Write settings as name=value; “{part.strip()}” "
                                           "has no value."})  # fmt: skip
        name, value = (p.strip() for p in part.split("=", 1))
        if value.lower() in ("true", "false"):
            out[name] = value.lower() == "true"
            continue
        try:
            out[name] = int(value)
        except ValueError:
            try:
                out[name] = float(value)
            except ValueError:
                out[name] = value
    return out


def _form_data(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    values = {k: str(v) for k, v in form.multi_items() if k != "sections"}
    conditions = []
    for i in range(1, CONDITION_ROWS + 1):
        name = values.get(f"name_{i}", "").strip()
        if name:
            settings = parse_settings(values.get(f"settings_{i}", ""))
            share = values.get(f"share_{i}") or "0"
            conditions.append({"name": name, "share": share, "settings": settings})
    data = {
        "key": values.get("key", ""), "title": values.get("title", ""),
        "kind": values.get("kind", ""), "unit": values.get("unit", "student"),
        "conditions": conditions, "control": conditions[0]["name"] if conditions else "",
        "sections": form.getlist("sections"), "outcome": values.get("outcome", ""),
        "start_date": values.get("start_date") or None, "end_date": values.get("end_date") or None,
        "stratify": values.get("stratify", "none"),
        "target_item": values.get("target_item") or None,
        "target_competencies": [
            c.strip() for c in values.get("target_competencies", "").split(",") if c.strip()
        ],
        "analysis_plan": values.get("analysis_plan", ""),
        "expected_sd": values.get("expected_sd") or None,
    }  # fmt: skip
    values["sections"] = ",".join(form.getlist("sections"))
    return data, values


@router.post("/experiments")
def experiment_create(
    request: Request, user: Leader, session: SessionDep, form: FormDep
) -> Response:
    values = {k: str(v) for k, v in form.multi_items()}
    try:
        data, values = _form_data(form)
        parsed = parse_form(ExperimentIn, data)
        created = create_experiment(session, user, parsed)
    except FormError as exc:
        return _new_page(request, session, user, values=values, errors=exc.errors,
                         status_code=422)  # fmt: skip
    except HTTPException as exc:
        if exc.status_code != 422:
            raise
        return _new_page(request, session, user, values=values,
                         errors={"form": str(exc.detail)}, status_code=422)  # fmt: skip
    return RedirectResponse(f"/experiments/{created.id}", 303)


def _charts(data: ExperimentOut) -> dict[str, Any]:
    if data.result is None:
        return {}
    rows = []
    for outcome in data.result.outcomes:
        for e in outcome.effects:
            if not e.suppressed and e.estimate is not None:
                label = f"{e.condition} ({'primary' if outcome.primary else outcome.outcome})"
                rows.append((label, e.hedges_g or 0.0, e.g_ci_low or 0.0, e.g_ci_high or 0.0))
    return {"effects_chart": interval_chart(rows, unit="standard deviations")}


@router.get("/experiments/{experiment_id}", response_class=HTMLResponse)
def experiment_page(
    request: Request, experiment_id: Id, user: Leader, session: SessionDep
) -> HTMLResponse:
    data = experiment_view(session, user, experiment_id)
    return render(request, "experiment.html", title=data.title, data=data, **_charts(data))


@router.post("/experiments/{experiment_id}/launch")
def experiment_launch(experiment_id: Id, user: Leader, session: SessionDep) -> Response:
    launch(session, user, experiment_id)
    return RedirectResponse(f"/experiments/{experiment_id}", 303)


@router.post("/experiments/{experiment_id}/finish")
def experiment_finish(experiment_id: Id, user: Leader, session: SessionDep) -> Response:
    finish(session, user, experiment_id)
    return RedirectResponse(f"/experiments/{experiment_id}", 303)


@router.post("/experiments/{experiment_id}/exclusions")
def experiment_exclude(
    experiment_id: Id, user: Leader, session: SessionDep, form: FormDep
) -> Response:
    try:
        data = parse_form(ExclusionIn, {"student_id": form.get("student_id"),
                                        "reason": form.get("reason")})  # fmt: skip
    except FormError as exc:
        raise HTTPException(422, "; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from exc
    exclude(session, user, experiment_id, data)
    return RedirectResponse(f"/experiments/{experiment_id}", 303)


@router.get("/efficacy/supports", response_class=HTMLResponse)
def supports_efficacy_page(
    request: Request, user: Leader, session: SessionDep, days: Days = 21, window: Window = 3
) -> HTMLResponse:
    data = supports_efficacy(session, user, days=days, window=window)
    shown = [s for s in data.supports if not s.suppressed]
    estimates = interval_chart(
        [(s.kind, s.estimate or 0.0, s.ci_low or 0.0, s.ci_high or 0.0) for s in shown],
        unit="competencies per day",
    )
    paths = {
        s.kind: two_line_chart(
            s.event_days,
            s.supported_path,
            s.comparison_path,
            labels=("students who started", "comparison students"),
            x_unit="days",
        )
        for s in shown
    }
    return render(
        request, "efficacy_supports.html", title="Do supports help?", data=data,
        estimates=estimates, paths=paths,
    )  # fmt: skip


@router.get("/efficacy/content", response_class=HTMLResponse)
def content_efficacy_page(
    request: Request, user: Leader, session: SessionDep, context: ContextDep,
    min_uses: MinUses = 20, show: Annotated[int, Query(ge=5, le=200)] = 10,
) -> HTMLResponse:  # fmt: skip
    data = content_efficacy_view(session, context, user, min_uses=min_uses)
    top, bottom = data.items[:show], data.items[-show:][::-1] if len(data.items) > show else []
    chart = interval_chart(
        [(r.title[:28], r.gain, r.low, r.high) for r in [*top, *bottom]],
        unit="chance one use teaches",
    )
    return render(
        request, "efficacy_content.html", title="Which content teaches?", data=data,
        top=top, bottom=bottom, chart=chart, show=show,
    )  # fmt: skip
