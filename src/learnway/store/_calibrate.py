"""Calibrating a stored course's learner model on the school's own attempts.

The content ships default BKT parameters (OATutor's are 0.1 across the board, and no
forgetting). Once students have practised, :func:`calibrate_course` compares the learner models
that can serve the live state (BKT, BKT with forgetting, Elo, PFA, Best-LR+; the LSTM when
asked) on held-out students, fits the best on every stored attempt of the course and records it
as a new *model version* (``learner_models``, status ``building``): BKT parameters per
competency with enough evidence (the others keep theirs), or the fitted estimator of another
family. :func:`build_model` (a background job) then replays every student under
the new version, a chunk of students per transaction, while the live version goes on serving;
last, in one short transaction, it catches up the students who answered meanwhile, writes the
parameters to ``competency_fits`` and makes the new version the live one. Nothing is shown
half-rebuilt: every read filters on the live version.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.orm import Session

from learnway.learner import BKT, DKT, EloKT, KTModel, LogisticKT, select_model
from learnway.paths import select_configuration
from learnway.store._attempt_arrays import attempt_arrays
from learnway.store._engine import transaction
from learnway.store._jobs import enqueue
from learnway.store._progress import aligned_attempts, load_course
from learnway.store._schema import (
    KT_PARAMETERS,
    Attempt,
    CompetencyFit,
    CompetencyRow,
    FrameworkRow,
    LearnerModelRow,
    LearnerModelState,
    Mastery,
    MasteryEvent,
)
from learnway.store._state import active_version, dump_model, live_course, replay_students

BKT_FAMILIES = ("bkt", "bkt-forgetting")
CANDIDATES = BKT_FAMILIES
"""The families a calibration compares unless told otherwise: those the policy benchmark
measures the planner with (``learnway bench paths``), so that what is deployed is what was
benchmarked."""
LIVE_FAMILIES = (*BKT_FAMILIES, "elo", "pfa", "best-lr+", "dkt")
"""Every family that can serve the live state (an online update with a bounded state), for
``candidates``: Elo, PFA and Best-LR+ fit in seconds, the LSTM in minutes on a CPU."""


def _candidate(name: str, n_restarts: int, random_state: int) -> KTModel:
    if name in BKT_FAMILIES:
        return BKT(forgetting=name == "bkt-forgetting", n_restarts=n_restarts,
                   random_state=random_state)  # fmt: skip
    if name == "elo":
        return EloKT()
    if name in ("pfa", "best-lr+"):
        return LogisticKT(features=name)
    if name == "dkt":
        return DKT(random_state=random_state)
    raise ValueError(f"unknown learner model {name!r}; choose from {', '.join(LIVE_FAMILIES)}")


BUILD_JOB = "build_model"
CHUNK = 200  # students replayed per transaction while a version is built


@dataclass(frozen=True)
class CalibrationReport:
    """What a calibration fitted and from how much evidence."""

    framework: str
    attempts: int  # attempt rows used (one per aligned competency)
    students: int
    fitted: tuple[str, ...]  # competencies given fitted parameters
    kept: tuple[str, ...]  # competencies with attempts but too few to fit: parameters unchanged
    fit_seconds: float
    version: int | None  # the model version built from the fit (None: nothing was fitted)
    family: str | None = None  # the candidate chosen
    candidates: tuple[dict[str, Any], ...] = ()  # each candidate's held-out figures


def attempt_table(session: Session, framework_id: int) -> pd.DataFrame:
    """Every stored attempt on the course's steps in the learner models' input format: one row
    per aligned competency, in time order per student; an answer found after a hint is wrong.
    Read as compact arrays (:func:`learnway.store._attempt_arrays.attempt_arrays`)."""
    table, codes = attempt_arrays(session, framework_id)
    names = np.asarray(codes, dtype=object)
    return pd.DataFrame(
        {
            "student_id": table["student_id"].to_numpy(),
            "competency_id": names[table["competency_id"].to_numpy()],
            "correct": table["correct"].to_numpy(),
            "step": np.arange(len(table)),
        }
    )


def calibrate_course(
    session: Session,
    framework_id: int,
    *,
    min_attempts: int = 100,
    min_students: int = 10,
    n_restarts: int = 5,
    random_state: int = 0,
    candidates: tuple[str, ...] = CANDIDATES,
) -> CalibrationReport:
    """Choose the live learner model among ``candidates`` (names of :data:`LIVE_FAMILIES`) by
    student-grouped cross-validation on the course's stored attempts of the competencies with
    at least ``min_attempts`` attempts by ``min_students`` students (highest held-out AUC; the
    calibration error is recorded beside it), fit the chosen one on them all and record it as a
    new model version with every candidate's figures, queued to be built
    (:func:`build_model`). A BKT family's version holds each of those competencies' parameters
    (prior, learn, guess, slip, forget; the others keep theirs); another family's holds the
    fitted estimator, whose online update then gives the live estimates."""
    header = session.get(FrameworkRow, framework_id)
    if header is None:
        raise LookupError(f"no framework with id {framework_id}")
    table = attempt_table(session, framework_id)
    per_competency = table.groupby("competency_id").agg(
        attempts=("correct", "size"), students=("student_id", "nunique")
    )
    enough = (per_competency["attempts"] >= min_attempts) & (
        per_competency["students"] >= min_students
    )
    fitted = sorted(per_competency.index[enough].tolist())
    kept = sorted(per_competency.index[~enough].tolist())
    seconds, version, family = 0.0, None, None
    candidates_seen: tuple[dict[str, Any], ...] = ()
    students = sorted(set(table["student_id"].tolist()))
    if fitted:
        started = time.perf_counter()
        selection = select_model(
            table[table["competency_id"].isin(fitted)],
            {name: _candidate(name, n_restarts, random_state) for name in candidates},
            n_folds=3,
            random_state=random_state,
        )
        model, family = selection.estimator, selection.name
        candidates_seen = tuple(
            {k: row[k] for k in ("name", "mean_auc", "std_auc", "fold_auc", "mean_ece")}
            for row in selection.cv_results
        )
        seconds = time.perf_counter() - started
        params: dict[str, dict[str, Any]] = {}
        if family in BKT_FAMILIES:
            values = np.c_[model.prior_, model.learn_, model.guess_, model.slip_, model.forget_]
            evidence = {code: (int(n), int(k)) for code, n, k in per_competency.itertuples()}
            params = {
                code: {
                    **dict(zip(KT_PARAMETERS, values[model.competency_index_[code]].tolist(),
                               strict=True)),
                    "attempts": evidence[code][0],
                    "students": evidence[code][1],
                }
                for code in fitted
            }  # fmt: skip
        row = LearnerModelRow(
            framework_id=framework_id, family=family, status="building", params=params,
            figures={"attempts": len(table), "students": len(students), "fit_seconds": seconds,
                     "held_out": list(candidates_seen), "folds": selection.n_folds,
                     "planner": planner_settings(session, framework_id, fitted,
                                                 min_attempts=min_attempts,
                                                 min_students=min_students)},
            model=None if family in BKT_FAMILIES else dump_model(model),
        )  # fmt: skip
        session.add(row)
        session.flush()
        version = row.id
        enqueue(session, BUILD_JOB, key=f"{BUILD_JOB}:{version}", payload={"version": version})
    return CalibrationReport(
        framework=header.key,
        attempts=len(table),
        students=len(students),
        fitted=tuple(fitted),
        kept=tuple(kept),
        fit_seconds=seconds,
        version=version,
        family=family,
        candidates=candidates_seen,
    )


def planner_settings(
    session: Session,
    framework_id: int,
    codes: Sequence[str],
    *,
    min_attempts: int = 100,
    min_students: int = 10,
) -> dict[str, Any]:
    """The planner's settings selected from the course's stored attempts by
    :func:`learnway.paths.select_configuration` (the function the policy benchmark measures),
    as stored with a model version (``figures["planner"]``: ``settings`` and the ``figures``
    they were chosen on); the live path's mastery policy reads them back."""
    rows = session.execute(
        aligned_attempts().where(CompetencyRow.framework_id == framework_id)
    ).all()
    frame = pd.DataFrame(
        rows,
        columns=["student_id", "competency_id", "correct", "hints_used", "timestamp", "id", "kind"],
    )
    frame = frame[frame["kind"] != "worked_example"]
    if frame["student_id"].nunique() < 3 or not codes:
        return {}
    config = select_configuration(
        frame, list(codes), min_attempts=min_attempts, min_students=min_students
    )
    return {"settings": config.stored_settings(list(codes)), "figures": config.figures}


def build_model(engine: Engine, version: int) -> None:
    """Build the state of every student under model ``version`` and make it the live one.

    Repeatable: a build that dies part-way is run again from the start."""
    with transaction(engine) as session:
        model = session.get(LearnerModelRow, version)
        if model is None or model.status != "building":
            return
        framework_id, params, family = model.framework_id, dict(model.params), model.family
        started = dt.datetime.now(dt.UTC)
        live = live_course(
            session, load_course(session, framework_id, params=params), framework_id,
            version=version,
        )  # fmt: skip
        students = sorted(
            session.scalars(
                select(Attempt.student_id)
                .where(Attempt.step_id.in_(_course_steps(framework_id)))
                .distinct()
            )
        )
    for start in range(0, len(students), CHUNK):
        with transaction(engine) as session:
            replay_students(session, live, students[start : start + CHUNK], cause="recalibration")
    with transaction(engine) as session:
        late = sorted(
            session.scalars(
                select(Attempt.student_id)
                .where(
                    Attempt.step_id.in_(_course_steps(framework_id)),
                    Attempt.recorded_at >= started,
                )
                .distinct()
            )
        )
        replay_students(session, live, late, cause="recalibration")
        _activate(session, framework_id, version, params, family)


def _course_steps(framework_id: int) -> Any:
    from learnway.store._schema import ItemRow, StepRow

    return (
        select(StepRow.id)
        .join(ItemRow, ItemRow.id == StepRow.item_id)
        .where(ItemRow.framework_id == framework_id)
    )


def _activate(
    session: Session,
    framework_id: int,
    version: int,
    params: dict[str, dict[str, Any]],
    family: str,
) -> None:
    """Swap the live version in one transaction: fits written, old state dropped."""
    old = active_version(session, framework_id)
    now = dt.datetime.now(dt.UTC)
    ids = dict(
        session.execute(
            select(CompetencyRow.code, CompetencyRow.id).where(
                CompetencyRow.framework_id == framework_id
            )
        ).all()
    )
    rows = [
        {"competency_id": ids[code], **{k: fit[k] for k in KT_PARAMETERS}, "model": family,
         "attempts": fit["attempts"], "students": fit["students"], "fitted_at": now}
        for code, fit in params.items()
        if code in ids
    ]  # fmt: skip
    session.execute(
        delete(CompetencyFit).where(
            CompetencyFit.competency_id.in_([r["competency_id"] for r in rows])
        )
    )
    if rows:
        session.execute(insert(CompetencyFit), rows)
    competencies = select(CompetencyRow.id).where(CompetencyRow.framework_id == framework_id)
    for table in (Mastery, MasteryEvent):
        session.execute(
            delete(table).where(table.model_version == old, table.competency_id.in_(competencies))
        )
    session.execute(delete(LearnerModelState).where(LearnerModelState.model_version == old))
    session.execute(
        update(LearnerModelRow)
        .where(LearnerModelRow.framework_id == framework_id, LearnerModelRow.status == "active")
        .values(status="retired")
    )
    session.execute(
        update(LearnerModelRow)
        .where(LearnerModelRow.id == version)
        .values(status="active", activated_at=now)
    )


def build_model_job(session: Session, payload: dict[str, Any]) -> None:
    """Background job: :func:`build_model` for the version in the payload."""
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    build_model(engine, int(payload["version"]))
