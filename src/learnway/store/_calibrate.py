"""Calibrating a stored course's knowledge tracing on the school's own attempts.

The content ships default BKT parameters (OATutor's are 0.1 across the board, and no
forgetting). Once students have practised, :func:`calibrate_course` fits
:class:`learnway.learner.BKT` with forgetting by EM on every stored attempt of the course,
stores the fitted parameters of each competency with enough evidence in ``competency_fits``
(beside the content's defaults, which stay as imported), and replays every student's mastery
with them. A competency with too little evidence keeps the parameters it had. All of it happens
in the caller's transaction: a failure leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from learnway.learner import BKT, attempts_from_frame
from learnway.store._progress import aligned_attempts, load_course, refresh_mastery
from learnway.store._schema import KT_PARAMETERS, CompetencyFit, CompetencyRow, FrameworkRow

MODEL = "bkt-forgetting-em"  # what ``competency_fits.model`` names


@dataclass(frozen=True)
class CalibrationReport:
    """What a calibration fitted and from how much evidence."""

    framework: str
    attempts: int  # attempt rows used (one per aligned competency)
    students: int
    fitted: tuple[str, ...]  # competencies given fitted parameters
    kept: tuple[str, ...]  # competencies with attempts but too few to fit: parameters unchanged
    fit_seconds: float
    refreshed_students: int


def attempt_table(session: Session, framework_id: int) -> pd.DataFrame:
    """Every stored attempt on the course's steps in the learner models' input format: one row
    per aligned competency, in time order per student; an answer found after a hint is wrong."""
    rows = session.execute(
        aligned_attempts().where(CompetencyRow.framework_id == framework_id)
    ).all()
    frame = pd.DataFrame(
        rows, columns=["student_id", "competency_id", "correct", "hints", "timestamp"]
    )
    frame["correct"] = frame["correct"].astype(bool) & (frame["hints"] == 0)
    return attempts_from_frame(frame[["student_id", "competency_id", "correct", "timestamp"]])


def calibrate_course(
    session: Session,
    framework_id: int,
    *,
    min_attempts: int = 100,
    min_students: int = 10,
    n_restarts: int = 5,
    random_state: int = 0,
) -> CalibrationReport:
    """Fit BKT with forgetting on the course's stored attempts, store the parameters (prior,
    learn, guess, slip, forget) of every competency with at least ``min_attempts`` attempts by
    ``min_students`` students, then rewrite the mastery of every student who has practised
    under the new parameters."""
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
    seconds = 0.0
    if fitted:
        started = time.perf_counter()
        model = BKT(forgetting=True, n_restarts=n_restarts, random_state=random_state).fit(
            table[table["competency_id"].isin(fitted)]
        )
        seconds = time.perf_counter() - started
        ids = dict(
            session.execute(
                select(CompetencyRow.code, CompetencyRow.id).where(
                    CompetencyRow.framework_id == framework_id
                )
            ).all()
        )
        values = np.c_[model.prior_, model.learn_, model.guess_, model.slip_, model.forget_]
        now = dt.datetime.now(dt.UTC)
        evidence = {code: (int(n), int(k)) for code, n, k in per_competency.itertuples()}
        rows = []
        for code in fitted:
            fit = dict(
                zip(KT_PARAMETERS, values[model.competency_index_[code]].tolist(), strict=True)
            )
            n_attempts, n_students = evidence[code]
            rows.append(
                {"competency_id": ids[code], **fit, "model": MODEL, "attempts": n_attempts,
                 "students": n_students, "fitted_at": now}
            )  # fmt: skip
        refitted = CompetencyFit.competency_id.in_([ids[code] for code in fitted])
        session.execute(delete(CompetencyFit).where(refitted))
        session.execute(insert(CompetencyFit), rows)
    students = sorted(set(table["student_id"].tolist()))
    if fitted:
        session.flush()
        refresh_mastery(session, load_course(session, framework_id), framework_id, students)
    return CalibrationReport(
        framework=header.key,
        attempts=len(table),
        students=len(students),
        fitted=tuple(fitted),
        kept=tuple(kept),
        fit_seconds=seconds,
        refreshed_students=len(students) if fitted else 0,
    )
