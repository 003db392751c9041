"""Experiments in the school database: define, launch, assign, exclude, expose, finish.

A definition is validated before anything is written; once launched its design (conditions,
shares, unit, population, outcome, analysis plan) no longer changes. Launch assigns the whole
population (stratified when asked); a student who joins later is assigned on first exposure by
the same hash (the product asks through :mod:`learnway.store._assignment`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from learnway.analytics import (
    Design,
    adjust_pvalues,
    assign,
    assign_stratified,
    attrition,
    describe,
    estimate_effects,
    minimum_detectable_effect,
    subgroup_effects,
)
from learnway.store._assignment import (
    excluded_students,
    names_shares,
    population_units,
    section_keys,
)
from learnway.store._schema import (
    EXCLUSION_REASONS,
    EXPERIMENT_KINDS,
    EXPERIMENT_UNITS,
    Attempt,
    CompetencyRow,
    Demographics,
    Enrollment,
    Experiment,
    ExperimentAssignment,
    ExperimentExclusion,
    ExperimentExposure,
    Mastery,
    MasteryEvent,
    User,
)
from learnway.store._state import live_versions, mastered_counts

OUTCOMES = {
    "mastery_per_hour": "competencies mastered per hour of practice",
    "share_mastered": "share of the target competencies mastered",
    "retention": "share of competencies mastered during the experiment still held",
}
STRATA = ("none", "section", "school")
KEY = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}$")


class ExperimentError(ValueError):
    """A definition or a step that cannot be taken; the message says why."""


def define_experiment(
    session: Session,
    *,
    key: str,
    title: str,
    kind: str,
    unit: str,
    conditions: Sequence[Mapping[str, Any]],
    control: str,
    population: Mapping[str, Sequence[int]],
    outcome: str,
    start_date: dt.date,
    end_date: dt.date,
    created_by: User,
    target: Mapping[str, Any] | None = None,
    stratify: str = "none",
    analysis_plan: str = "",
    expected_sd: float | None = None,
    expected_icc: float = 0.1,
) -> Experiment:
    """Store a draft experiment after checking every field (:class:`ExperimentError`)."""
    problems = []
    if not KEY.match(key):
        problems.append("key: 3 to 64 lowercase letters, digits or dashes")
    elif session.scalar(select(Experiment.id).where(Experiment.key == key)) is not None:
        problems.append(f"key: an experiment {key!r} exists already")
    if not title.strip():
        problems.append("title: required")
    if kind not in EXPERIMENT_KINDS:
        problems.append(f"kind: one of {', '.join(EXPERIMENT_KINDS)}")
    if unit not in EXPERIMENT_UNITS:
        problems.append(f"unit: one of {', '.join(EXPERIMENT_UNITS)}")
    if outcome not in OUTCOMES:
        problems.append(f"outcome: one of {', '.join(OUTCOMES)}")
    if stratify not in STRATA:
        problems.append(f"stratify: one of {', '.join(STRATA)}")
    names = [str(c.get("name", "")).strip() for c in conditions]
    shares = [c.get("share", 0) for c in conditions]
    if len(names) < 2 or len(set(names)) != len(names) or not all(names):
        problems.append("conditions: at least two, each with a distinct name")
    if not all(isinstance(s, int | float) and s > 0 for s in shares):
        problems.append("conditions: every share must be a positive number")
    if control not in names:
        problems.append("control: must name one of the conditions")
    if outcome == "share_mastered" and not (target or {}).get("competencies"):
        problems.append("target: the share mastered needs the target competencies")
    if kind == "content_variant" and not (target or {}).get("item"):
        problems.append("target: a content-variant experiment names the item it varies")
    if end_date < start_date:
        problems.append("end date: must not be before the start date")
    scope = {k: [int(v) for v in population.get(k, [])] for k in ("schools", "courses", "sections")}
    if not any(scope.values()):
        problems.append("population: at least one school, course or section")
    if problems:
        raise ExperimentError("; ".join(problems))
    design: dict[str, Any] = {
        "conditions": [
            {"name": n, "share": float(s), "settings": dict(c.get("settings", {}))}
            for n, s, c in zip(names, shares, conditions, strict=True)
        ],
        "control": control,
        "population": scope,
        "target": dict(target or {}),
        "stratify": stratify,
        "outcome": outcome,
        "expected_sd": expected_sd,
        "expected_icc": expected_icc,
    }
    experiment = Experiment(
        key=key, title=title.strip(), kind=kind, unit=unit, status="draft", design=design,
        analysis_plan=analysis_plan.strip() or default_plan(design, unit),
        start_date=start_date, end_date=end_date, created_by_id=created_by.id,
    )  # fmt: skip
    session.add(experiment)
    session.flush()
    return experiment


def default_plan(design: Mapping[str, Any], unit: str) -> str:
    """The pre-registered analysis plan written when a definition gives none."""
    others = [c["name"] for c in design["conditions"] if c["name"] != design["control"]]
    errors = "on the sections' mean outcomes, robust (HC2)" if unit == "section" else "robust (HC3)"
    return (
        f"Primary outcome: {OUTCOMES[design['outcome']]}, over the experiment's dates. "
        f"Intention to treat: every student randomized is analysed in the condition assigned. "
        f"Estimate: least squares of the outcome on the condition ({', '.join(others)} against "
        f"{design['control']}), standard errors {errors}, 95% intervals, Hedges' g. "
        "Attrition: students without an outcome, overall and by condition, against the What "
        "Works Clearinghouse boundaries. Subgroups: sex and race, groups under 10 students "
        "not shown. The other outcomes are secondary, with Holm-adjusted p-values."
    )


def launch_experiment(session: Session, experiment: Experiment, *, now: dt.datetime) -> int:
    """Start a draft: assign every student of the population not excluded; returns how many."""
    if experiment.status != "draft":
        raise ExperimentError(f"the experiment is {experiment.status}, not a draft")
    units = population_units(session, experiment)
    if not units:
        raise ExperimentError("no student is in the population")
    excluded = excluded_students(session, experiment.id)
    units = [u for u in units if u[0] not in excluded]
    names, shares = names_shares(experiment)
    if experiment.unit == "section":
        sections = sorted({u[1] for u in units})
        keys = section_keys(session, sections)
        school_of = {u[1]: u[2] for u in units}
        labels = [f"section:{keys[s]}" for s in sections]
        if experiment.design["stratify"] == "school":
            picked = assign_stratified(
                experiment.key, labels, [str(school_of[s]) for s in sections], names, shares
            )
        else:
            picked = assign(experiment.key, labels, names, shares)
        by_section = dict(zip(sections, picked, strict=True))
        conditions = [by_section[u[1]] for u in units]
    else:
        labels = [f"student:{u[3]}" for u in units]
        stratify = experiment.design["stratify"]
        if stratify == "none":
            conditions = assign(experiment.key, labels, names, shares)
        else:
            strata = [str(u[1] if stratify == "section" else u[2]) for u in units]
            conditions = assign_stratified(experiment.key, labels, strata, names, shares)
    session.add_all(
        ExperimentAssignment(
            experiment_id=experiment.id,
            student_id=u[0],
            section_id=u[1] if experiment.unit == "section" else None,
            condition=c,
            assigned_at=now,
        )
        for u, c in zip(units, conditions, strict=True)
    )
    experiment.design = {**experiment.design, "launch": _launch_power(session, experiment, units)}
    experiment.status = "running"
    experiment.launched_at = now
    session.flush()
    return len(units)


def _launch_power(
    session: Session, experiment: Experiment, units: Sequence[tuple[int, int, int, str]]
) -> dict[str, Any]:
    """Power and minimum detectable effect at launch, stored with the design."""
    names, shares = names_shares(experiment)
    control_share = shares[names.index(experiment.design["control"])] / sum(shares)
    treated_share = 1 - control_share if len(names) == 2 else max(
        s / sum(shares) for n, s in zip(names, shares, strict=True)
        if n != experiment.design["control"]
    )  # fmt: skip
    sd = experiment.design.get("expected_sd") or 1.0
    n_students = len(units)
    sections = len({u[1] for u in units})
    stratify = experiment.design["stratify"]
    strata = {"section": sections, "school": len({u[2] for u in units})}.get(stratify, 1)
    if experiment.unit == "section":
        terms = len({u[2] for u in units}) - 1 if stratify == "school" else 0
        if sections < 4 + terms:
            return {"students": n_students, "sections": sections, "mde": None}
        design = Design(
            units=sections, treated_share=treated_share,
            cluster_size=max(n_students / sections, 1.0),
            icc=float(experiment.design.get("expected_icc") or 0.0), sd=sd, terms=terms,
        )  # fmt: skip
    else:
        if n_students < 4 + strata - 1:
            return {"students": n_students, "sections": sections, "mde": None}
        design = Design(units=n_students, treated_share=treated_share, sd=sd, terms=strata - 1)
    mde = minimum_detectable_effect(design, 0.8)
    return {
        "students": n_students,
        "sections": sections,
        "sd": sd,
        "power": 0.8,
        "mde": mde,
        "mde_sd": mde / sd,
    }


def exclude_student(
    session: Session, experiment: Experiment, *, student_id: int, reason: str, by: User
) -> None:
    """Keep a student out (consent, accommodation): their assignment, if any, is removed and
    they are counted as excluded, never analysed."""
    if reason not in EXCLUSION_REASONS:
        raise ExperimentError(f"reason: one of {', '.join(EXCLUSION_REASONS)}")
    if experiment.status == "finished":
        raise ExperimentError("the experiment has finished")
    if student_id in excluded_students(session, experiment.id):
        return
    session.add(
        ExperimentExclusion(
            experiment_id=experiment.id,
            student_id=student_id,
            reason=reason,
            created_by_id=by.id,
        )
    )
    session.execute(
        delete(ExperimentAssignment).where(
            ExperimentAssignment.experiment_id == experiment.id,
            ExperimentAssignment.student_id == student_id,
        )
    )
    session.flush()


def json_safe(value: Any) -> Any:
    """``value`` with every NaN or infinite number as None (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def finish_experiment(session: Session, experiment: Experiment, *, now: dt.datetime) -> None:
    """Stop a running experiment and freeze its analysis in ``result``."""
    if experiment.status != "running":
        raise ExperimentError(f"the experiment is {experiment.status}, not running")
    experiment.result = json_safe(analyze_experiment(session, experiment, now=now))
    experiment.status = "finished"
    experiment.finished_at = now
    session.flush()


# --- monitoring and analysis ---------------------------------------------------------------


def _assigned(session: Session, experiment: Experiment) -> list[tuple[int, int | None, str]]:
    return [
        (s, sec, c)
        for s, sec, c in session.execute(
            select(
                ExperimentAssignment.student_id,
                ExperimentAssignment.section_id,
                ExperimentAssignment.condition,
            )
            .where(ExperimentAssignment.experiment_id == experiment.id)
            .order_by(ExperimentAssignment.student_id)
        )
    ]


def _sections_of(session: Session, students: Sequence[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    rows = session.execute(
        select(Enrollment.user_id, Enrollment.section_id)
        .where(Enrollment.user_id.in_(students), Enrollment.role == "student")
        .order_by(Enrollment.section_id)
    )
    for sid, sec in rows:
        out.setdefault(sid, sec)
    return out


def _window(experiment: Experiment, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(experiment.start_date, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(experiment.end_date, dt.time.max, tzinfo=dt.UTC)
    return start, min(end, now)


def _hours(session: Session, students: Sequence[int], start: dt.datetime, end: dt.datetime
           ) -> dict[int, float]:  # fmt: skip
    rows = session.execute(
        select(Attempt.student_id, func.sum(func.coalesce(Attempt.duration_s, 0.0)))
        .where(
            Attempt.student_id.in_(students), Attempt.timestamp >= start, Attempt.timestamp <= end
        )
        .group_by(Attempt.student_id)
    )
    return {sid: float(total or 0.0) / 3600 for sid, total in rows}


def _mastered_in(
    session: Session, students: Sequence[int], start: dt.datetime, end: dt.datetime
) -> dict[int, set[int]]:
    rows = session.execute(
        select(MasteryEvent.student_id, MasteryEvent.competency_id)
        .where(
            MasteryEvent.student_id.in_(students),
            MasteryEvent.model_version.in_(live_versions(session)),
            MasteryEvent.mastered_change > 0,
            MasteryEvent.at >= start,
            MasteryEvent.at <= end,
        )
        .distinct()
    )
    out: dict[int, set[int]] = {}
    for sid, cid in rows:
        out.setdefault(sid, set()).add(cid)
    return out


def outcomes(
    session: Session, experiment: Experiment, students: Sequence[int], *, now: dt.datetime
) -> dict[str, list[float]]:
    """Every outcome per student (NaN where a student has none: attrition)."""
    start, end = _window(experiment, now)
    ids = list(students)
    gained_before = mastered_counts(session, ids, until=start)
    gained_after = mastered_counts(session, ids, until=end)
    hours = _hours(session, ids, start, end)
    during = _mastered_in(session, ids, start, end)
    targets = list(experiment.design.get("target", {}).get("competencies", []))
    target_ids = set(
        session.scalars(select(CompetencyRow.id).where(CompetencyRow.code.in_(targets)))
    )
    held = {
        (s, c)
        for s, c in session.execute(
            select(Mastery.student_id, Mastery.competency_id).where(
                Mastery.student_id.in_(ids),
                Mastery.model_version.in_(live_versions(session)),
                Mastery.status == "mastered",
            )
        )
    }
    per_hour, share, retention = [], [], []
    for s in ids:
        h = hours.get(s, 0.0)
        practised = h >= 0.05
        gained = gained_after[s] - gained_before[s]
        per_hour.append(gained / h if practised else math.nan)
        mastered = during.get(s, set())
        if target_ids and practised:
            share.append(len(mastered & target_ids) / len(target_ids))
        else:
            share.append(math.nan)
        retention.append(
            sum((s, c) in held for c in mastered) / len(mastered) if mastered else math.nan
        )
    return {"mastery_per_hour": per_hour, "share_mastered": share, "retention": retention}


def _subgroups(session: Session, students: Sequence[int]) -> dict[str, list[str]]:
    demo = {
        d.user_id: d
        for d in session.scalars(select(Demographics).where(Demographics.user_id.in_(students)))
    }
    sex, race = [], []
    for s in students:
        d = demo.get(s)
        sex.append((d.sex or "not reported").capitalize() if d else "Not reported")
        if d is None:
            race.append("Not reported")
        elif d.demographic_race_two_or_more_races:
            race.append("Two or more races")
        else:
            named = [
                label
                for field, label in (
                    ("american_indian_or_alaska_native", "American Indian or Alaska Native"),
                    ("asian", "Asian"),
                    ("black_or_african_american", "Black or African American"),
                    ("native_hawaiian_or_other_pacific_islander", "Native Hawaiian or Pacific "
                     "Islander"),
                    ("white", "White"),
                )
                if getattr(d, field)
            ]  # fmt: skip
            race.append(named[0] if named else "Not reported")
    return {"sex": sex, "race": race}


def monitor(session: Session, experiment: Experiment) -> dict[str, Any]:
    """Balance and exposure of a launched experiment: per condition, the students assigned
    and exposed, their mastery at the start, and the standardized difference from control."""
    rows = _assigned(session, experiment)
    students = [s for s, _, _ in rows]
    start = dt.datetime.combine(experiment.start_date, dt.time(), tzinfo=dt.UTC)
    baseline = mastered_counts(session, students, until=start)
    exposed = set(
        session.scalars(
            select(ExperimentExposure.student_id)
            .where(ExperimentExposure.experiment_id == experiment.id)
            .distinct()
        )
    )
    exposures = int(
        session.scalar(
            select(func.count()).where(ExperimentExposure.experiment_id == experiment.id)
        )
        or 0
    )
    names, _ = names_shares(experiment)
    control = experiment.design["control"]
    base = {n: np.array([baseline[s] for s, _, c in rows if c == n], dtype=float) for n in names}
    ref = base[control]
    out = []
    for n in names:
        v = base[n]
        pooled = (
            np.sqrt((v.var(ddof=1) + ref.var(ddof=1)) / 2) if len(v) > 1 and len(ref) > 1 else 0
        )
        smd = float((v.mean() - ref.mean()) / pooled) if pooled > 0 and len(v) else None
        out.append(
            {
                "condition": n,
                "students": len(v),
                "exposed": sum(1 for s, _, c in rows if c == n and s in exposed),
                "baseline_mastered": float(v.mean()) if len(v) else None,
                "baseline_difference_sd": smd,
            }
        )
    excluded = session.execute(
        select(ExperimentExclusion.reason, func.count())
        .where(ExperimentExclusion.experiment_id == experiment.id)
        .group_by(ExperimentExclusion.reason)
    ).all()
    return {
        "conditions": out,
        "exposures": exposures,
        "excluded": {r: int(n) for r, n in excluded},
    }


def _strata(
    session: Session, experiment: Experiment, rows: Sequence[tuple[int, int | None, str]]
) -> list[int] | None:
    """Each assigned student's stratum, as the assignment used it (None when unstratified)."""
    stratify = experiment.design["stratify"]
    if stratify == "none" or (experiment.unit == "section" and stratify != "school"):
        return None  # sections are assigned within schools only
    units = {u[0]: (u[1], u[2]) for u in population_units(session, experiment)}
    index = 0 if stratify == "section" else 1
    return [units[s][index] if s in units else -1 for s, _, _ in rows]


def analyze_experiment(
    session: Session, experiment: Experiment, *, now: dt.datetime
) -> dict[str, Any]:
    """The pre-registered analysis on the data so far: every outcome (the primary first),
    attrition, subgroups of the primary, Holm-adjusted p-values across outcomes."""
    rows = _assigned(session, experiment)
    if not rows:
        raise ExperimentError("no student has been assigned")
    students = [s for s, _, _ in rows]
    condition = [c for _, _, c in rows]
    control = experiment.design["control"]
    cluster = None
    if experiment.unit == "section":
        cluster = [sec for _, sec, _ in rows]
    strata = _strata(session, experiment, rows)
    ys = outcomes(session, experiment, students, now=now)
    primary = experiment.design["outcome"]
    order = [primary] + [k for k in OUTCOMES if k != primary]
    results: list[dict[str, Any]] = []
    targets = experiment.design.get("target", {}).get("competencies")
    for name in order:
        if name == "share_mastered" and not targets:
            results.append(
                {"outcome": name, "label": OUTCOMES[name], "primary": name == primary,
                 "error": "no target competencies were named"}
            )  # fmt: skip
            continue
        try:
            effects = estimate_effects(
                ys[name], condition, control=control, cluster=cluster, strata=strata
            )
        except ValueError as exc:
            results.append(
                {"outcome": name, "label": OUTCOMES[name], "primary": name == primary,
                 "error": str(exc)}
            )  # fmt: skip
            continue
        results.append(
            {
                "outcome": name,
                "label": OUTCOMES[name],
                "primary": name == primary,
                "effects": [
                    {**e.__dict__, "sentence": describe(e, outcome=OUTCOMES[name])} for e in effects
                ],
            }
        )
    ps = [e["p_value"] for r in results for e in r.get("effects", [])]
    adjusted = iter(adjust_pvalues(ps, "holm"))
    for r in results:
        for e in r.get("effects", []):
            e["p_holm"] = next(adjusted)
    y = np.asarray(ys[primary], dtype=float)
    names, _ = names_shares(experiment)
    randomized = {n: sum(1 for c in condition if c == n) for n in names}
    analyzed = {
        n: int(sum(1 for c, v in zip(condition, y, strict=True) if c == n and np.isfinite(v)))
        for n in names
    }
    att = None
    if all(randomized.values()):
        a = attrition(randomized, analyzed)
        att = {
            "randomized": a.randomized, "analyzed": a.analyzed, "overall": a.overall,
            "differential": a.differential, "cautious_limit": a.cautious_limit,
            "optimistic_limit": a.optimistic_limit, "verdict": a.verdict,
        }  # fmt: skip
    groups: dict[str, Any] = {}
    treated = [n for n in names if n != control]
    if treated:
        for label, values in _subgroups(session, students).items():
            try:
                shown, p = subgroup_effects(
                    y, condition, values, control=control, treated=treated[0], cluster=cluster
                )
            except ValueError:
                continue
            groups[label] = {
                "condition": treated[0],
                "p_same_effect": p,
                "groups": [
                    {
                        "group": g.group,
                        "students": g.students,
                        "suppressed": g.suppressed,
                        "estimate": None if g.effect is None else g.effect.estimate,
                        "ci_low": None if g.effect is None else g.effect.ci_low,
                        "ci_high": None if g.effect is None else g.effect.ci_high,
                    }
                    for g in shown
                ],
            }
    excluded = len(excluded_students(session, experiment.id))
    return {
        "as_of": now.isoformat(timespec="seconds"),
        "outcomes": results,
        "attrition": att,
        "subgroups": groups,
        "excluded": excluded,
        "students": len(students),
    }
