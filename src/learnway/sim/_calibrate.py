"""Calibrating the planner on a pilot cohort, as a school would on last year's data.

The pilot cohort is a separate draw of simulated students (another seed). Its attempt log,
taught by the fixed sequence, is all the knowledge-tracing fit sees: observable answers, never
the simulator's truth. The planner's mastery and review settings are then chosen among a few
candidates by their outcome on the pilot cohort only (the share of the course its students know
at the deadline), never on the students they are compared on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from learnway.learner import BKT
from learnway.paths import BKTParams, CourseGraph, MasteryPolicy, Placement, Planner
from learnway.sim._classroom import Term, run_term
from learnway.sim._policies import FixedSequence, PlannerPolicy
from learnway.sim._world import Students

# (threshold, min_evidence, half_life_days, review_recall); the first is the content default.
CANDIDATES: tuple[tuple[float, float, float, float], ...] = (
    (0.85, 3.0, 3.0, 0.7),
    (0.85, 3.0, 10.0, 0.5),
    (0.85, 2.0, 20.0, 0.5),
    (0.8, 2.0, 30.0, 0.4),
    (0.9, 2.0, 20.0, 0.5),
    (0.9, 2.0, 30.0, 0.4),
    (0.95, 2.0, 30.0, 0.4),
)


@dataclass
class Calibration:
    """Fitted parameters, the chosen mastery policy, and how every candidate did on the pilot."""

    params: BKTParams
    policy: MasteryPolicy
    fit_seconds: float
    pilot_attempts: int
    trials: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        table = np.c_[
            self.params.p_init,
            self.params.p_learn,
            self.params.p_forget,
            self.params.p_guess,
            self.params.p_slip,
        ]
        q = np.quantile(table, [0.1, 0.5, 0.9], axis=0)
        names = ("p_init", "p_learn", "p_forget", "p_guess", "p_slip")
        return {
            "pilot_attempts": self.pilot_attempts,
            "fit_seconds": round(self.fit_seconds, 2),
            "fitted_quantiles_10_50_90": {
                name: [round(float(v), 3) for v in q[:, k]] for k, name in enumerate(names)
            },
            "candidates_on_pilot": self.trials,
            "chosen": {
                "threshold": float(np.median(self.policy.thresholds(self.params.p_init.size))),
                "min_evidence": self.policy.min_evidence,
                "half_life_days": self.policy.half_life_days,
                "review_recall": self.policy.review_recall,
            },
        }


def attempts_table(log: pd.DataFrame) -> pd.DataFrame:
    """A simulated attempt log in the learner models' input format (a hinted answer is wrong)."""
    correct = log["correct"].to_numpy(bool) & (log["hints_used"].to_numpy() == 0)
    return pd.DataFrame(
        {
            "student_id": log["student"].to_numpy(),
            "competency_id": log["competency"].to_numpy(),
            "correct": correct.astype(np.int8),
        }
    )


def fit_params(
    course: CourseGraph,
    pilot: Students,
    term: Term,
    seed: int,
    *,
    per_competency: int = 4,
    model: BKT | None = None,
) -> tuple[BKTParams, int, float]:
    """Fit knowledge tracing on the pilot cohort's answers under the fixed sequence.

    Returns the parameters over the course's competencies, the number of attempts seen and the
    fit time in seconds.
    """
    import time

    run = run_term(
        course,
        pilot,
        FixedSequence(course.graph, per_competency),
        term,
        np.random.default_rng(seed),
        log=True,
    )
    assert run.attempt_log is not None
    table = attempts_table(run.attempt_log)
    started = time.perf_counter()
    fitted = (model or BKT(forgetting=True, n_restarts=5, random_state=seed)).fit(table)
    seconds = time.perf_counter() - started
    return BKTParams.from_model(fitted, course.graph.codes), len(table), seconds


def calibrate(
    course: CourseGraph,
    pilot: Students,
    term: Term,
    seed: int,
    *,
    candidates: Sequence[tuple[float, float, float, float]] = CANDIDATES,
) -> Calibration:
    """Fit the parameters on the pilot cohort, then choose the mastery and review settings under
    which that cohort knows the largest share of the course at the deadline (ties: fewer median
    attempts to master it)."""
    params, n_attempts, seconds = fit_params(course, pilot, term, seed)
    best: tuple[float, float] | None = None
    chosen = course.policy()
    trials = []
    for threshold, min_evidence, half_life, recall in candidates:
        policy = course.policy(
            threshold=threshold,
            min_evidence=min_evidence,
            half_life_days=half_life,
            review_recall=recall,
        )
        planner = Planner(course.graph, course.bank, params, policy=policy)
        run = run_term(
            course,
            pilot,
            PlannerPolicy(
                planner, placement=Placement(course.graph, params), deadline=term.deadline
            ),
            term,
            np.random.default_rng(seed + 1),
        )
        finite = run.attempts_to_master[np.isfinite(run.attempts_to_master)]
        median = float(np.median(finite)) if finite.size else float("inf")
        share = float(run.mastered.mean())
        known = float(run.known_end.mean())
        q1, q3 = np.quantile(run.prior_level, [0.25, 0.75])
        gap = (
            run.known_end[run.prior_level >= q3].mean()
            - run.known_end[run.prior_level <= q1].mean()
        )
        trials.append(
            {
                "threshold": threshold,
                "min_evidence": min_evidence,
                "half_life_days": half_life,
                "review_recall": recall,
                "median_attempts_to_master": median,
                "share_mastered_by_deadline": share,
                "mean_known_at_end": known,
                "quartile_gap_known_at_end": float(gap),
                "mean_retention_at_end": float(run.retention.mean()),
            }
        )
        key = (-known, median)
        if best is None or key < best:
            best, chosen = key, policy
    return Calibration(params, chosen, seconds, n_attempts, trials)
