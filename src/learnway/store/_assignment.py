"""The one hook the product calls to honour experiments: a student's condition.

:func:`condition_of` returns the student's condition in the running experiment of a kind and
records the exposure; it returns None for a student outside the experiment's population, for
an excluded student, and when no experiment of that kind runs today, so the product then does
what it always does. A student assigned at launch keeps that row; one who joins later is
assigned on first exposure by the same hash of the experiment's key and the student's (or
section's) sourced id (:func:`learnway.analytics.assign`), so the condition never depends on
the server, the device or the session that asks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from learnway.analytics import assign
from learnway.paths import PlannerConfig
from learnway.store._schema import (
    Enrollment,
    Experiment,
    ExperimentAssignment,
    ExperimentExclusion,
    ExperimentExposure,
    Section,
    User,
)


@dataclass(frozen=True)
class Condition:
    """What the product should do for one student: the experiment, the condition's name and
    its settings (e.g. ``{"review": false}`` for the planner, ``{"item": "key"}``)."""

    experiment: str
    kind: str
    name: str
    settings: dict[str, Any]


def population_units(session: Session, experiment: Experiment) -> list[tuple[int, int, int, str]]:
    """(student id, section id, school id, student's sourced id) of the population."""
    scope = experiment.design["population"]
    query = (
        select(Enrollment.user_id, Section.id, Section.school_id, User.sourced_id)
        .join(Section, Section.id == Enrollment.section_id)
        .join(User, User.id == Enrollment.user_id)
        .where(Enrollment.role == "student", User.enabled.is_(True))
        .order_by(Enrollment.user_id, Section.id)
    )
    if scope.get("schools"):
        query = query.where(Section.school_id.in_(scope["schools"]))
    if scope.get("courses"):
        query = query.where(Section.course_id.in_(scope["courses"]))
    if scope.get("sections"):
        query = query.where(Section.id.in_(scope["sections"]))
    seen: dict[int, tuple[int, int, int, str]] = {}
    for sid, section, school, sourced in session.execute(query):
        seen.setdefault(sid, (sid, section, school, sourced))  # first section by id
    return list(seen.values())


def section_keys(session: Session, ids: Sequence[int]) -> dict[int, str]:
    rows = session.execute(select(Section.id, Section.sourced_id).where(Section.id.in_(ids)))
    return {i: k for i, k in rows}


def names_shares(experiment: Experiment) -> tuple[list[str], list[float]]:
    conds = experiment.design["conditions"]
    return [c["name"] for c in conds], [float(c["share"]) for c in conds]


def excluded_students(session: Session, experiment_id: int) -> set[int]:
    return set(
        session.scalars(
            select(ExperimentExclusion.student_id).where(
                ExperimentExclusion.experiment_id == experiment_id
            )
        )
    )


def condition_of(
    session: Session, *, student_id: int, kind: str, context: str, now: dt.datetime,
    target: Mapping[str, Any] | None = None,
) -> Condition | None:  # fmt: skip
    """The student's condition in the running experiment of ``kind`` (whose target matches
    ``target``, when given), with the exposure recorded; None outside every population, when
    excluded, or when none runs today."""
    today = now.date()
    running = session.scalars(
        select(Experiment)
        .where(
            Experiment.status == "running",
            Experiment.kind == kind,
            Experiment.start_date <= today,
            Experiment.end_date >= today,
        )
        .order_by(Experiment.id)
    ).all()
    for experiment in running:
        wanted = experiment.design.get("target") or {}
        if target is not None and any(target.get(k) != v for k, v in wanted.items()):
            continue
        name = _assignment(session, experiment, student_id, now)
        if name is None:
            continue
        session.add(
            ExperimentExposure(
                experiment_id=experiment.id,
                student_id=student_id,
                condition=name,
                context=context,
                at=now,
            )
        )
        settings = next(c["settings"] for c in experiment.design["conditions"] if c["name"] == name)
        return Condition(experiment.key, experiment.kind, name, dict(settings))
    return None


def _assignment(
    session: Session, experiment: Experiment, student_id: int, now: dt.datetime
) -> str | None:
    stored = session.scalar(
        select(ExperimentAssignment.condition).where(
            ExperimentAssignment.experiment_id == experiment.id,
            ExperimentAssignment.student_id == student_id,
        )
    )
    if stored is not None:
        return stored
    if student_id in excluded_students(session, experiment.id):
        return None
    unit = next((u for u in population_units(session, experiment) if u[0] == student_id), None)
    if unit is None:
        return None
    names, shares = names_shares(experiment)
    if experiment.unit == "section":
        label = f"section:{section_keys(session, [unit[1]])[unit[1]]}"
        peer = session.scalar(
            select(ExperimentAssignment.condition).where(
                ExperimentAssignment.experiment_id == experiment.id,
                ExperimentAssignment.section_id == unit[1],
            )
        )
        name = peer or assign(experiment.key, [label], names, shares)[0]
    else:
        name = assign(experiment.key, [f"student:{unit[3]}"], names, shares)[0]
    try:
        with session.begin_nested():  # a concurrent request may assign the same student
            session.add(
                ExperimentAssignment(
                    experiment_id=experiment.id,
                    student_id=student_id,
                    section_id=unit[1] if experiment.unit == "section" else None,
                    condition=name,
                    assigned_at=now,
                )
            )
    except IntegrityError:
        pass  # assigned meanwhile, by the same hash to the same condition
    return name


PLANNER_KINDS = ("planner_policy", "review_schedule")


def planner_config(
    session: Session, *, student_id: int, now: dt.datetime, base: PlannerConfig | None = None
) -> PlannerConfig | None:
    """The planner's configuration for a student: the settings of their condition in a
    running planner-policy or review-schedule experiment applied on ``base`` (default: the
    planner's defaults); ``base`` itself when no experiment applies to them."""
    settings: dict[str, Any] = {}
    for kind in PLANNER_KINDS:
        found = condition_of(session, student_id=student_id, kind=kind, context="planner", now=now)
        if found is not None:
            settings.update(found.settings)
    if not settings:
        return base
    return (base or PlannerConfig()).with_settings(settings)


def item_variant(session: Session, *, student_id: int, item_key: str, now: dt.datetime) -> str:
    """The item to show in place of ``item_key``: the variant named by the student's condition
    in a running content-variant experiment on that item (``{"item": key}``), else the item."""
    found = condition_of(
        session, student_id=student_id, kind="content_variant", context="practice", now=now,
        target={"item": item_key},
    )  # fmt: skip
    if found is None:
        return item_key
    return str(found.settings.get("item", item_key))


def hint_limit(session: Session, *, student_id: int, now: dt.datetime) -> int | None:
    """The most hints a step shows the student under their condition in a running hint-style
    experiment (``{"max_hints": n}``), else None (all of them)."""
    found = condition_of(
        session, student_id=student_id, kind="hint_style", context="practice", now=now
    )
    if found is None or "max_hints" not in found.settings:
        return None
    return max(int(found.settings["max_hints"]), 0)
