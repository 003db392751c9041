"""Experiments and efficacy: the JSON twins of the evidence pages, and a CSV of every figure."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from learnway.web._csv import CSV_RESPONSES, Cell, csv_response
from learnway.web._deps import ContextDep, Id, Leader, SessionDep
from learnway.web._experiments import (
    ContentEfficacyOut,
    ExclusionIn,
    ExperimentIn,
    ExperimentOut,
    ExperimentsOut,
    SupportsEfficacyOut,
    content_efficacy_view,
    create_experiment,
    exclude,
    experiment_view,
    finish,
    launch,
    list_experiments,
    supports_efficacy,
)
from learnway.web._schemas import Problem

router = APIRouter(tags=["evidence"], responses={404: {"model": Problem}})
Days = Annotated[int, Query(ge=11, le=120, description="days of history analysed")]
Window = Annotated[int, Query(ge=3, le=28, description="days before and after a start")]
Figure = Literal["results", "balance", "subgroups"]
MinUses = Annotated[int, Query(ge=5, le=10000, description="uses an item needs to be rated")]


@router.get("/experiments", response_model=ExperimentsOut)
def get_experiments(user: Leader, session: SessionDep) -> ExperimentsOut:
    """The experiments over the sections you lead, newest first."""
    return list_experiments(session, user)


@router.post("/experiments", response_model=ExperimentOut, status_code=201,
             responses={422: {"model": Problem}})  # fmt: skip
def post_experiment(data: ExperimentIn, user: Leader, session: SessionDep) -> ExperimentOut:
    """Define an experiment (a draft): what varies, conditions and shares, unit, sections,
    dates, primary outcome and the analysis plan (written for you when left empty)."""
    return create_experiment(session, user, data)


@router.get("/experiments/{experiment_id}", response_model=ExperimentOut)
def get_experiment(experiment_id: Id, user: Leader, session: SessionDep) -> ExperimentOut:
    """An experiment: design, power, balance and exposure, and its result (interim while it
    runs, frozen when it finishes)."""
    return experiment_view(session, user, experiment_id)


@router.post("/experiments/{experiment_id}/launch", response_model=ExperimentOut,
             responses={409: {"model": Problem}})  # fmt: skip
def post_launch(experiment_id: Id, user: Leader, session: SessionDep) -> ExperimentOut:
    """Launch a draft: every student of the population is assigned."""
    return launch(session, user, experiment_id)


@router.post("/experiments/{experiment_id}/finish", response_model=ExperimentOut,
             responses={409: {"model": Problem}})  # fmt: skip
def post_finish(experiment_id: Id, user: Leader, session: SessionDep) -> ExperimentOut:
    """Stop a running experiment and freeze its analysis."""
    return finish(session, user, experiment_id)


@router.post("/experiments/{experiment_id}/exclusions", response_model=ExperimentOut,
             responses={409: {"model": Problem}})  # fmt: skip
def post_exclusion(
    experiment_id: Id, data: ExclusionIn, user: Leader, session: SessionDep
) -> ExperimentOut:
    """Keep a student out of an experiment (consent, accommodation); counted, not analysed."""
    return exclude(session, user, experiment_id, data)


def experiment_csv(data: ExperimentOut, figure: str) -> tuple[list[str], list[list[Cell]]]:
    """The rows of one figure of an experiment's page."""
    if figure == "balance":
        return (
            ["condition", "students", "exposed", "baseline_mastered", "baseline_difference_sd",
             "suppressed"],
            [[b.condition, b.students, b.exposed, b.baseline_mastered,
              b.baseline_difference_sd, b.suppressed] for b in data.balance],
        )  # fmt: skip
    if figure == "subgroups":
        rows: list[list[Cell]] = []
        for sg in data.result.subgroups if data.result else []:
            rows += [[sg.by, sg.condition, g.group, g.students, g.estimate, g.ci_low, g.ci_high,
                      g.suppressed] for g in sg.groups]  # fmt: skip
        return ["by", "condition", "group", "students", "estimate", "ci_low", "ci_high",
                "suppressed"], rows  # fmt: skip
    header = ["outcome", "primary", "condition", "control", "estimate", "ci_low", "ci_high",
              "p_value", "p_holm", "hedges_g", "students_condition", "students_control",
              "suppressed"]  # fmt: skip
    out: list[list[Cell]] = []
    for o in data.result.outcomes if data.result else []:
        out += [[o.outcome, o.primary, e.condition, e.control, e.estimate, e.ci_low, e.ci_high,
                 e.p_value, e.p_holm, e.hedges_g, e.students_condition, e.students_control,
                 e.suppressed] for e in o.effects]  # fmt: skip
    return header, out


@router.get("/experiments/{experiment_id}/{figure}.csv", response_class=Response,
            responses=CSV_RESPONSES)  # fmt: skip
def get_experiment_csv(
    experiment_id: Id, figure: Figure, user: Leader, session: SessionDep
) -> Response:
    """A figure of the experiment as CSV: results, balance or subgroups."""
    data = experiment_view(session, user, experiment_id)
    header, rows = experiment_csv(data, figure)
    return csv_response(f"experiment-{data.key}-{figure}.csv", header, rows)


@router.get("/efficacy/supports", response_model=SupportsEfficacyOut)
def get_supports_efficacy(
    user: Leader, session: SessionDep, days: Days = 21, window: Window = 3
) -> SupportsEfficacyOut:
    """Mastery growth before and after students started each support, against comparable
    students who did not (correlational; the caveat comes with it)."""
    return supports_efficacy(session, user, days=days, window=window)


def supports_csv(data: SupportsEfficacyOut) -> tuple[list[str], list[list[Cell]]]:
    header = ["support", "students", "suppressed", "estimate_per_day", "ci_low", "ci_high",
              "pretrend", "pretrend_ci_low", "pretrend_ci_high", "day", "supported_growth",
              "comparison_growth"]  # fmt: skip
    rows: list[list[Cell]] = []
    for s in data.supports:
        head: list[Cell] = [s.kind, s.students, s.suppressed, s.estimate, s.ci_low, s.ci_high,
                            s.pretrend, s.pretrend_ci_low, s.pretrend_ci_high]  # fmt: skip
        if not s.event_days:
            rows.append([*head, None, None, None])
        for d, a, b in zip(s.event_days, s.supported_path, s.comparison_path, strict=True):
            rows.append([*head, d, a, b])
    return header, rows


@router.get("/efficacy/supports.csv", response_class=Response,
            responses=CSV_RESPONSES)  # fmt: skip
def get_supports_efficacy_csv(
    user: Leader, session: SessionDep, days: Days = 21, window: Window = 3
) -> Response:
    """The support estimates and the growth of both groups around the start, as CSV."""
    header, rows = supports_csv(supports_efficacy(session, user, days=days, window=window))
    return csv_response("support-efficacy.csv", header, rows)


@router.get("/efficacy/content", response_model=ContentEfficacyOut)
def get_content_efficacy(
    user: Leader, session: SessionDep, context: ContextDep, min_uses: MinUses = 20
) -> ContentEfficacyOut:
    """Learning gain per item and per step's hints, from the learner model; items whose
    interval reaches zero are flagged for the content team."""
    return content_efficacy_view(session, context, user, min_uses=min_uses)


@router.get("/efficacy/content.csv", response_class=Response,
            responses=CSV_RESPONSES)  # fmt: skip
def get_content_efficacy_csv(
    user: Leader, session: SessionDep, context: ContextDep, min_uses: MinUses = 20
) -> Response:
    """Every rated item and hint, as CSV."""
    data = content_efficacy_view(session, context, user, min_uses=min_uses)
    rows: list[list[Cell]] = [
        [kind, r.key, r.title, r.uses, r.gain, r.low, r.high, r.flagged]
        for kind, group in (("item", data.items), ("hints", data.hints))
        for r in group
    ]
    return csv_response(
        "content-efficacy.csv", ["kind", "key", "title", "uses", "gain", "low", "high",
                                 "flagged"], rows,
    )  # fmt: skip
