"""Evidence for leaders: experiments (define, launch, monitor, finish, read), the efficacy of
supports and of content. Every figure is an aggregate; groups and arms of fewer than
``MIN_CELL`` students are suppressed, and each view is recorded in the audit trail."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import HTTPException
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from learnway.analytics import CAVEAT, MIN_CELL, support_effect
from learnway.store import (
    OUTCOMES,
    ExperimentError,
    analyze_experiment,
    define_experiment,
    exclude_student,
    finish_experiment,
    launch_experiment,
    monitor,
)
from learnway.store._efficacy import content_table, support_panel
from learnway.store._schema import Course, Experiment, ExperimentAssignment, Section, User
from learnway.web._access import audit_resource, visible_sections, visible_students
from learnway.web._context import WebContext
from learnway.web._models import AuditEvent
from learnway.web._schemas import DbId, Input

Kind = Literal["content_variant", "hint_style", "review_schedule", "planner_policy", "intervention"]
KIND_LABELS = {
    "content_variant": "a variant of an item",
    "hint_style": "how many hints a step shows",
    "review_schedule": "the spaced-review schedule",
    "planner_policy": "the planner's policy",
    "intervention": "a teacher-delivered intervention",
}
Setting = str | int | float | bool


class ConditionIn(Input):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9 _-]+$")
    share: float = Field(gt=0, le=100)
    settings: dict[Annotated[str, Field(max_length=40)], Setting] = Field(
        default_factory=dict, max_length=10
    )


class ExperimentIn(Input):
    key: str = Field(min_length=3, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]+$")
    title: str = Field(min_length=1, max_length=200)
    kind: Kind
    unit: Literal["student", "section"] = "student"
    conditions: list[ConditionIn] = Field(min_length=2, max_length=6)
    control: str = Field(min_length=1, max_length=64)
    sections: list[DbId] = Field(min_length=1, max_length=500)
    outcome: Literal["mastery_per_hour", "share_mastered", "retention"] = "mastery_per_hour"
    start_date: dt.date
    end_date: dt.date
    stratify: Literal["none", "section", "school"] = "none"
    target_item: str | None = Field(default=None, max_length=255)
    target_competencies: list[Annotated[str, Field(max_length=120)]] = Field(
        default_factory=list, max_length=200
    )
    analysis_plan: str = Field(default="", max_length=4000)
    expected_sd: float | None = Field(default=None, gt=0, le=1000)
    expected_icc: float = Field(default=0.1, ge=0, lt=1)

    @model_validator(mode="after")
    def _control_is_a_condition(self) -> ExperimentIn:
        if self.control not in {c.name for c in self.conditions}:
            raise ValueError("control must name one of the conditions")
        if self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        return self


class ExclusionIn(Input):
    student_id: DbId
    reason: Literal["consent", "accommodation", "other"]


class ExperimentSummary(BaseModel):
    id: int
    key: str
    title: str
    kind: str
    kind_label: str
    unit: str
    status: str
    start_date: dt.date
    end_date: dt.date
    students: int


class ExperimentsOut(BaseModel):
    experiments: list[ExperimentSummary]


class ConditionOut(BaseModel):
    name: str
    share: float
    settings: dict[str, Setting]


class BalanceRow(BaseModel):
    condition: str
    students: int | None
    exposed: int | None
    baseline_mastered: float | None
    baseline_difference_sd: float | None
    suppressed: bool


class EffectOut(BaseModel):
    condition: str
    control: str
    suppressed: bool
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    p_holm: float | None = None
    hedges_g: float | None = None
    g_ci_low: float | None = None
    g_ci_high: float | None = None
    mean_condition: float | None = None
    mean_control: float | None = None
    students_condition: int | None = None
    students_control: int | None = None
    method: str | None = None
    sentence: str


class OutcomeOut(BaseModel):
    outcome: str
    label: str
    primary: bool
    effects: list[EffectOut]
    error: str | None = None


class SubgroupRow(BaseModel):
    group: str
    students: int | None
    suppressed: bool
    estimate: float | None
    ci_low: float | None
    ci_high: float | None


class SubgroupOut(BaseModel):
    by: str
    condition: str
    p_same_effect: float | None
    groups: list[SubgroupRow]


class AttritionOut(BaseModel):
    randomized: dict[str, int]
    analyzed: dict[str, int]
    overall: float
    differential: float
    cautious_limit: float | None
    optimistic_limit: float | None
    verdict: str


class ResultOut(BaseModel):
    as_of: str
    final: bool
    headline: str
    outcomes: list[OutcomeOut]
    attrition: AttritionOut | None
    subgroups: list[SubgroupOut]
    excluded: int


class ExperimentOut(ExperimentSummary):
    min_cell: int
    kind_label: str
    conditions: list[ConditionOut]
    control: str
    sections: list[str]
    outcome: str
    outcome_label: str
    stratify: str
    target: dict[str, Any]
    analysis_plan: str
    power: dict[str, float | int | None] | None
    balance: list[BalanceRow]
    exposures: int
    excluded: dict[str, int]
    result: ResultOut | None


def _audit(session: Session, user: User, what: str) -> None:
    session.add(AuditEvent(actor_id=user.id, action="view", resource=audit_resource(what)))


def _visible_section_ids(session: Session, user: User) -> set[int]:
    return set(session.scalars(visible_sections(user)))


def _covered_sections(session: Session, experiment: Experiment) -> set[int]:
    scope = experiment.design["population"]
    query = select(Section.id)
    if scope.get("schools"):
        query = query.where(Section.school_id.in_(scope["schools"]))
    if scope.get("courses"):
        query = query.where(Section.course_id.in_(scope["courses"]))
    if scope.get("sections"):
        query = query.where(Section.id.in_(scope["sections"]))
    return set(session.scalars(query))


def _may_see(session: Session, user: User, experiment: Experiment) -> bool:
    covered = _covered_sections(session, experiment)
    return bool(covered) and covered <= _visible_section_ids(session, user)


def open_experiment(session: Session, user: User, experiment_id: int) -> Experiment:
    """The experiment, if ``user`` leads every section it covers (404 otherwise)."""
    experiment = session.get(Experiment, experiment_id)
    if experiment is None or not _may_see(session, user, experiment):
        raise HTTPException(404, f"There is no experiment {experiment_id}.")
    return experiment


def _students(session: Session, experiment: Experiment) -> int:
    return len(
        session.scalars(
            select(ExperimentAssignment.student_id).where(
                ExperimentAssignment.experiment_id == experiment.id
            )
        ).all()
    )


def _summary(session: Session, e: Experiment) -> ExperimentSummary:
    return ExperimentSummary(
        id=e.id, key=e.key, title=e.title, kind=e.kind, kind_label=KIND_LABELS[e.kind],
        unit=e.unit, status=e.status, start_date=e.start_date, end_date=e.end_date,
        students=_students(session, e),
    )  # fmt: skip


def list_experiments(session: Session, user: User) -> ExperimentsOut:
    rows = session.scalars(select(Experiment).order_by(Experiment.start_date.desc())).all()
    return ExperimentsOut(
        experiments=[_summary(session, e) for e in rows if _may_see(session, user, e)]
    )


def create_experiment(session: Session, user: User, data: ExperimentIn) -> ExperimentOut:
    allowed = _visible_section_ids(session, user)
    outside = sorted(set(data.sections) - allowed)
    if outside:
        raise HTTPException(422, f"sections: you do not lead section(s) {outside}")
    target: dict[str, Any] = {}
    if data.target_item:
        target["item"] = data.target_item
    if data.target_competencies:
        target["competencies"] = list(data.target_competencies)
    try:
        experiment = define_experiment(
            session, key=data.key, title=data.title, kind=data.kind, unit=data.unit,
            conditions=[c.model_dump() for c in data.conditions], control=data.control,
            population={"sections": list(data.sections)}, outcome=data.outcome,
            start_date=data.start_date, end_date=data.end_date, created_by=user, target=target,
            stratify=data.stratify, analysis_plan=data.analysis_plan,
            expected_sd=data.expected_sd, expected_icc=data.expected_icc,
        )  # fmt: skip
    except ExperimentError as exc:
        raise HTTPException(422, str(exc)) from exc
    return experiment_view(session, user, experiment.id)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def launch(session: Session, user: User, experiment_id: int) -> ExperimentOut:
    experiment = open_experiment(session, user, experiment_id)
    try:
        launch_experiment(session, experiment, now=_now())
    except ExperimentError as exc:
        raise HTTPException(409, str(exc)) from exc
    return experiment_view(session, user, experiment_id)


def finish(session: Session, user: User, experiment_id: int) -> ExperimentOut:
    experiment = open_experiment(session, user, experiment_id)
    try:
        finish_experiment(session, experiment, now=_now())
    except ExperimentError as exc:
        raise HTTPException(409, str(exc)) from exc
    return experiment_view(session, user, experiment_id)


def exclude(session: Session, user: User, experiment_id: int, data: ExclusionIn) -> ExperimentOut:
    experiment = open_experiment(session, user, experiment_id)
    visible = set(session.scalars(visible_students(user)))
    if data.student_id not in visible:
        raise HTTPException(404, f"There is no student {data.student_id}.")
    try:
        exclude_student(
            session, experiment, student_id=data.student_id, reason=data.reason, by=user
        )
    except ExperimentError as exc:
        raise HTTPException(409, str(exc)) from exc
    session.add(
        AuditEvent(
            actor_id=user.id, student_id=data.student_id, action="change",
            resource=audit_resource(f"excluded from experiment {experiment.key}"),
        )
    )  # fmt: skip
    return experiment_view(session, user, experiment_id)


def _num(value: Any) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else float(value)


def _effect(e: dict[str, Any]) -> EffectOut:
    small = min(e["students_condition"], e["students_control"]) < MIN_CELL
    if small:
        return EffectOut(
            condition=e["condition"], control=e["control"], suppressed=True,
            sentence=f"Fewer than {MIN_CELL} students with an outcome in an arm: not shown.",
        )  # fmt: skip
    return EffectOut(
        suppressed=False, sentence=e["sentence"], condition=e["condition"], control=e["control"],
        method=e["method"], students_condition=e["students_condition"],
        students_control=e["students_control"],
        **{k: _num(e.get(k)) for k in (
            "estimate", "ci_low", "ci_high", "p_value", "p_holm", "hedges_g", "g_ci_low",
            "g_ci_high", "mean_condition", "mean_control")},
    )  # fmt: skip


def _result(raw: dict[str, Any], *, final: bool) -> ResultOut:
    outcomes = [
        OutcomeOut(
            outcome=o["outcome"],
            label=o["label"],
            primary=bool(o.get("primary")),
            effects=[_effect(e) for e in o.get("effects", [])],
            error=o.get("error"),
        )
        for o in raw["outcomes"]
    ]
    primary = outcomes[0]
    shown = [e for e in primary.effects if not e.suppressed]
    if primary.error:
        headline = f"No estimate yet: {primary.error}."
    elif shown:
        headline = " ".join(e.sentence for e in shown)
    else:
        headline = primary.effects[0].sentence if primary.effects else "No estimate yet."
    if not final:
        headline = "Interim look, not the final result: " + headline
    att = raw.get("attrition")
    return ResultOut(
        as_of=raw["as_of"], final=final, headline=headline, outcomes=outcomes,
        attrition=None if att is None else AttritionOut(
            **{**att, "overall": _num(att["overall"]) or 0.0,
               "differential": _num(att["differential"]) or 0.0}
        ),
        subgroups=[
            SubgroupOut(
                by=by, condition=g["condition"], p_same_effect=_num(g["p_same_effect"]),
                groups=[SubgroupRow(**{**r, "estimate": _num(r["estimate"]),
                                       "ci_low": _num(r["ci_low"]), "ci_high": _num(r["ci_high"])})
                        for r in g["groups"]],
            )
            for by, g in raw.get("subgroups", {}).items()
        ],
        excluded=int(raw.get("excluded", 0)),
    )  # fmt: skip


def experiment_view(session: Session, user: User, experiment_id: int) -> ExperimentOut:
    e = open_experiment(session, user, experiment_id)
    _audit(session, user, f"aggregate of experiment {e.key}")
    titles = dict(session.execute(select(Section.id, Section.title)).all())
    sections = sorted(titles[s] for s in _covered_sections(session, e) if s in titles)
    balance: list[BalanceRow] = []
    exposures, excluded = 0, {}
    result = None
    if e.status != "draft":
        status = monitor(session, e)
        exposures, excluded = status["exposures"], status["excluded"]
        for row in status["conditions"]:
            small = row["students"] < MIN_CELL
            balance.append(
                BalanceRow(
                    condition=row["condition"], suppressed=small,
                    students=None if small else row["students"],
                    exposed=None if small else row["exposed"],
                    baseline_mastered=None if small else _num(row["baseline_mastered"]),
                    baseline_difference_sd=None if small else _num(row["baseline_difference_sd"]),
                )
            )  # fmt: skip
        if e.status == "finished" and e.result is not None:
            result = _result(e.result, final=True)
        elif _students(session, e):
            result = _result(analyze_experiment(session, e, now=_now()), final=False)
    launch_power = e.design.get("launch") or {}
    return ExperimentOut(
        **_summary(session, e).model_dump(), min_cell=MIN_CELL,
        conditions=[ConditionOut(**c) for c in e.design["conditions"]],
        control=e.design["control"], sections=sections, outcome=e.design["outcome"],
        outcome_label=OUTCOMES[e.design["outcome"]], stratify=e.design["stratify"],
        target=e.design.get("target", {}), analysis_plan=e.analysis_plan,
        power={k: v for k, v in launch_power.items() if isinstance(v, int | float) or v is None}
        or None,
        balance=balance, exposures=exposures, excluded=excluded, result=result,
    )  # fmt: skip


# --- efficacy of supports -----------------------------------------------------------------


class SupportEffectOut(BaseModel):
    kind: str
    suppressed: bool
    students: int | None
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    pretrend: float | None = None
    pretrend_ci_low: float | None = None
    pretrend_ci_high: float | None = None
    parallel_trends_ok: bool | None = None
    event_days: list[int] = []
    supported_path: list[float] = []
    comparison_path: list[float] = []
    sentence: str


class SupportsEfficacyOut(BaseModel):
    min_cell: int
    days: int
    window: int
    caveat: str
    supports: list[SupportEffectOut]


def _support_sentence(kind: str, r: Any, window: int) -> str:
    per = "per day"
    interval = f"(95% interval {r.ci_low:+.2f} to {r.ci_high:+.2f})"
    trend = (
        "Before the start, their growth ran parallel to the comparison students'."
        if r.parallel_trends_ok
        else "Before the start their growth already differed from the comparison students', "
        "so the estimate is doubtful."
    )
    if r.significant:
        word = "faster" if r.estimate > 0 else "slower"
        return (
            f"After starting {kind}, students mastered competencies {abs(r.estimate):.2f} {per} "
            f"{word} than comparable students {interval}, over {window} days. {trend}"
        )
    return (
        f"No clear change after starting {kind}: {r.estimate:+.2f} competencies {per} "
        f"{interval}; the interval includes zero. {trend}"
    )


def supports_efficacy(
    session: Session, user: User, *, days: int = 21, window: int = 3
) -> SupportsEfficacyOut:
    ids = sorted(session.scalars(visible_students(user)))
    _audit(session, user, f"aggregate of {len(ids)} students (support efficacy)")
    if days < 3 * window + 2:
        raise HTTPException(422, "days must be at least 3 windows and 2 more")
    panel = support_panel(session, ids, days=days, today=dt.date.today())
    rows = []
    kinds = sorted(panel.starts)
    any_start = np.full(len(ids), np.nan)
    ever_any = np.zeros(len(ids), dtype=bool)
    for kind in kinds:
        any_start = np.fmin(any_start, panel.starts[kind])
        ever_any |= panel.ever[kind]
    for kind in [*kinds, "any support"]:
        start = any_start if kind == "any support" else panel.starts[kind]
        ever = ever_any if kind == "any support" else panel.ever[kind]
        # never-supported students are the comparison pool; those supported outside the
        # panel's days are left out of both groups
        keep = ~ever | np.isfinite(start)
        result = support_effect(
            panel.mastery[keep], start[keep], [panel.section[i] for i in np.flatnonzero(keep)],
            window=window, min_students=MIN_CELL,
        )  # fmt: skip
        if result is None:
            rows.append(
                SupportEffectOut(
                    kind=kind,
                    suppressed=True,
                    students=None,
                    sentence=f"Fewer than {MIN_CELL} students started {kind} with enough days "
                    "before and after: no estimate.",
                )
            )
            continue
        rows.append(
            SupportEffectOut(
                kind=kind, suppressed=False, students=result.students,
                estimate=result.estimate, ci_low=result.ci_low, ci_high=result.ci_high,
                p_value=result.p_value, pretrend=result.pretrend,
                pretrend_ci_low=result.pretrend_ci_low, pretrend_ci_high=result.pretrend_ci_high,
                parallel_trends_ok=result.parallel_trends_ok, event_days=result.event_weeks,
                supported_path=result.supported_path, comparison_path=result.comparison_path,
                sentence=_support_sentence(kind, result, window),
            )
        )  # fmt: skip
    return SupportsEfficacyOut(
        min_cell=MIN_CELL, days=days, window=window, caveat=CAVEAT, supports=rows
    )


# --- efficacy of content ------------------------------------------------------------------


class ContentRow(BaseModel):
    key: str
    title: str
    uses: int
    gain: float
    low: float
    high: float
    flagged: bool


class ContentEfficacyOut(BaseModel):
    course: str
    attempts: int
    min_uses: int
    items_rated: int
    flagged: int
    items: list[ContentRow]
    hints: list[ContentRow]


def content_efficacy_view(
    session: Session, context: WebContext, user: User, *, min_uses: int = 20
) -> ContentEfficacyOut:
    """Items (and steps' hints) used at least ``min_uses`` times, best first."""
    course = session.scalar(
        select(Course)
        .join(Section, Section.course_id == Course.id)
        .where(Section.id.in_(visible_sections(user)), Course.framework_id.is_not(None))
        .order_by(Course.id)
    )
    if course is None or course.framework_id is None:
        raise HTTPException(404, "No course with practice in your schools.")
    _audit(session, user, f"content efficacy of {course.title}")
    live, _ = context.live(session, course.framework_id)
    table = content_table(session, live, min_uses=min_uses)

    def rows(keys: list[str], titles: list[str], eff: Any) -> list[ContentRow]:
        used = np.flatnonzero(eff.uses >= min_uses)
        order = used[np.argsort(-eff.gain[used], kind="stable")]
        return [
            ContentRow(
                key=keys[i],
                title=titles[i],
                uses=int(eff.uses[i]),
                gain=float(eff.gain[i]),
                low=float(eff.low[i]),
                high=float(eff.high[i]),
                flagged=bool(eff.flagged[i]),
            )
            for i in order
        ]

    items = rows(table.item_keys, table.item_titles, table.items)
    hints = rows(table.step_keys, [f"hints of step {k}" for k in table.step_keys], table.hints)
    return ContentEfficacyOut(
        course=course.title, attempts=table.attempts, min_uses=min_uses, items_rated=len(items),
        flagged=sum(r.flagged for r in items), items=items, hints=hints,
    )  # fmt: skip
