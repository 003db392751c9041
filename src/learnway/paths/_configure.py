"""One configuration of the planner per course, fitted and selected from an attempts table.

:func:`select_configuration` is what ``learnway calibrate`` runs on a school's stored attempts
and what the policy benchmark runs on a pilot cohort's, so that what is measured is what is
deployed. It needs no database: researchers and other simulators call it on any table of
attempts (``student_id``, ``competency_id``, ``correct``, ``hints_used`` optional, and ``day``
on a day clock or ``timestamp``).

1. The learner model: BKT with and without forgetting, the better by held-out AUC on
   student-grouped folds, fitted on every answer.
2. Competencies with too little evidence (fewer than ``min_attempts`` answers or
   ``min_students`` students), or none, keep the parameters they had (``defaults``: the
   content's), as ``learnway calibrate`` keeps them; without ``defaults`` they get the fitted
   model's defaults (the median of its fitted parameters).
3. The memory model (:class:`learnway.paths.MemoryModel`) fitted on the spaced answers, with
   the BKT guess and slip: each competency's half-life and the growth per day of practice.
4. The review target (:func:`learnway.paths.review_target`): the recall at which reviewing
   needs the fewest attempts for the retention asked (``retention``, the mean predicted recall
   between reviews: 0.7), given the fitted learning rate.
5. Mastery opens a competency's successors at once (``durable_days`` 1): in both simulated
   worlds, holding successors back until a later day confirmed the mastery cost more attempts
   to master the course than it saved (``durable_days=2`` asks for that confirmation).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from learnway.paths._mastery import BKTParams, MasteryPolicy
from learnway.paths._memory import MemoryModel, review_target

FAMILIES = ("bkt", "bkt-forgetting")


@dataclass(frozen=True)
class Configuration:
    """A course's planner configuration: the learner model's family and parameters, and the
    mastery and review settings, with the figures they were chosen on."""

    family: str
    params: BKTParams
    settings: dict[str, Any]
    thin: tuple[str, ...] = ()
    figures: dict[str, Any] = field(default_factory=dict)

    def policy(self, base: MasteryPolicy | None = None) -> MasteryPolicy:
        """The mastery policy: ``base`` (the course's) with these settings."""
        settings = dict(self.settings)
        if isinstance(settings.get("half_life_days"), list):
            settings["half_life_days"] = np.asarray(settings["half_life_days"], dtype=np.float64)
        return replace(base or MasteryPolicy(), **settings)

    def stored_settings(self, codes: Sequence[str]) -> dict[str, Any]:
        """The settings as stored with a model version: half-lives by competency code."""
        out = dict(self.settings)
        if isinstance(out.get("half_life_days"), list):
            out["half_life_days"] = dict(zip(codes, out["half_life_days"], strict=True))
        return out

    def to_json(self, codes: Sequence[str]) -> dict[str, Any]:
        """What is stored with the model version: settings and figures (parameters per code)."""
        p = self.params
        return {
            "family": self.family,
            "settings": self.settings,
            "thin": list(self.thin),
            "params": {
                code: {
                    "prior": float(p.p_init[i]),
                    "learn": float(p.p_learn[i]),
                    "guess": float(p.p_guess[i]),
                    "slip": float(p.p_slip[i]),
                    "forget": float(p.p_forget[i]),
                }
                for i, code in enumerate(codes)
            },
            "figures": self.figures,
        }


def stored_policy(
    stored: dict[str, Any], codes: Sequence[str], base: MasteryPolicy | None = None
) -> MasteryPolicy:
    """The mastery policy of settings stored by :meth:`Configuration.stored_settings`, laid out
    over ``codes`` (a competency without a stored half-life gets the median of the others)."""
    settings = dict(stored)
    half = settings.get("half_life_days")
    if isinstance(half, dict):
        known = [float(v) for v in half.values()] or [MasteryPolicy().half_life_days]  # type: ignore[list-item]
        default = float(np.median(known))
        settings["half_life_days"] = np.array([float(half.get(c, default)) for c in codes])
    allowed = {f for f in MasteryPolicy.__dataclass_fields__}
    unknown = set(settings) - allowed
    if unknown:
        raise ValueError(f"unknown planner settings {sorted(unknown)}")
    return replace(base or MasteryPolicy(), **settings)


def _day(attempts: pd.DataFrame) -> np.ndarray:
    if "day" in attempts.columns:
        return attempts["day"].to_numpy(np.float64)
    stamps = pd.to_datetime(attempts["timestamp"], utc=True)
    origin = pd.Timestamp("2000-01-01", tz="UTC")
    return np.asarray((stamps - origin).dt.total_seconds() / 86400.0)


def select_configuration(
    attempts: pd.DataFrame,
    codes: Sequence[str],
    *,
    min_attempts: int = 100,
    min_students: int = 10,
    horizon_days: float = 60.0,
    retention: float = 0.7,
    threshold: float = 0.85,
    min_evidence: float = 2.0,
    durable_days: int = 1,
    n_restarts: int = 3,
    random_state: int = 0,
    defaults: BKTParams | None = None,
) -> Configuration:
    """Fit and select a course's configuration from its attempts (see the module)."""
    from learnway.learner import BKT, select_model

    missing = {"student_id", "competency_id", "correct"} - set(attempts.columns)
    if missing or not {"day", "timestamp"} & set(attempts.columns):
        raise ValueError(
            "the attempts table needs student_id, competency_id, correct and day or timestamp; "
            f"missing {sorted(missing) or ['day or timestamp']}"
        )
    started = time.perf_counter()
    frame = pd.DataFrame(
        {
            "student_id": attempts["student_id"].to_numpy(),
            "competency_id": attempts["competency_id"].astype(str).to_numpy(),
            "correct": attempts["correct"].to_numpy(bool),
            "day": _day(attempts),
        }
    )
    if "hints_used" in attempts.columns:  # an answer found after a hint is wrong
        frame["correct"] &= attempts["hints_used"].to_numpy() == 0
    frame = frame.sort_values(["student_id", "day"], kind="stable").reset_index(drop=True)
    table = frame[["student_id", "competency_id"]].assign(correct=frame["correct"].astype(np.int8))
    if table["student_id"].nunique() < 3:
        raise ValueError("selecting a configuration needs the attempts of at least 3 students")
    selection = select_model(
        table,
        {
            "bkt": BKT(n_restarts=n_restarts, random_state=random_state),
            "bkt-forgetting": BKT(
                forgetting=True, n_restarts=n_restarts, random_state=random_state
            ),
        },
        n_folds=3,
        random_state=random_state,
    )
    model = selection.estimator
    counts = table.groupby("competency_id").agg(
        n=("correct", "size"), students=("student_id", "nunique")
    )
    enough = set(counts.index[(counts["n"] >= min_attempts) & (counts["students"] >= min_students)])
    fitted = {code: i for code, i in model.competency_index_.items() if code in enough}
    params = BKTParams.from_model(_Restricted(model, fitted), codes)
    thin = tuple(code for code in codes if code not in fitted)
    if defaults is not None:
        if defaults.p_init.shape != (len(codes),):
            raise ValueError("defaults must hold one value per code")
        keep = np.array([code not in fitted for code in codes])
        params = BKTParams(
            *(
                np.where(keep, getattr(defaults, f), getattr(params, f))
                for f in ("p_init", "p_learn", "p_guess", "p_slip", "p_forget")
            )
        )

    guess = float(np.median(params.p_guess))
    slip = float(np.median(params.p_slip))
    memory = MemoryModel(guess=min(guess, 0.4), slip=min(slip, 0.4)).fit(
        frame.rename(columns={"correct": "correct"})
    )
    learn = float(np.clip(np.median(params.p_learn), 0.01, 1.0))
    target = review_target(
        float(np.exp2(memory.log2_half_life_)),
        max(memory.growth_, 1.0),
        learn_rate=learn,
        horizon_days=horizon_days,
        retention=retention,
    )
    half_lives = memory.half_lives(list(codes))
    settings: dict[str, Any] = {
        "threshold": threshold,
        "min_evidence": min_evidence,
        "half_life_days": [round(float(h), 4) for h in half_lives],
        "half_life_growth": round(float(max(memory.growth_, 1.0)), 4),
        "review_recall": target,
        "durable_days": durable_days,
    }
    figures = {
        "attempts": len(table),
        "students": int(table["student_id"].nunique()),
        "candidates": [
            {k: row[k] for k in ("name", "mean_auc", "std_auc")} for row in selection.cv_results
        ],
        "memory": memory.summary(),
        "review_recall": target,
        "fitted_competencies": len(fitted),
        "thin_competencies": len(thin),
        "seconds": round(time.perf_counter() - started, 2),
    }
    return Configuration(selection.name, params, settings, thin, figures)


class _Restricted:
    """A fitted BKT seen through only some of its competencies (the others get its
    defaults, as competencies it never saw do)."""

    def __init__(self, model: Any, index: dict[str, int]) -> None:
        self.competency_index_ = index
        self.default_params_ = model.default_params_
        self.prior_, self.learn_, self.forget_ = model.prior_, model.learn_, model.forget_
        self.guess_, self.slip_ = model.guess_, model.slip_
