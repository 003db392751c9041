"""A memory model learned from spaced reviews: half-life regression per competency, with a
student-level adjustment.

After a competency is learned (two right answers), recall decays as ``2 ** (-elapsed / h)``.
The half-life ``h`` (days) grows with every separate day the competency was practised:

    log2 h = a + delta[c] + u[s] + b * (days practised before - 1) + k * known before

where *known before* marks a competency answered right at its very first attempt (most likely
known from before the course, and remembered differently from what is learned in it; the
half-lives the planner uses are those of what is learned in the course).

``a`` and ``b`` are shared, ``delta`` per competency and ``u`` per student shrink to zero
(a Gaussian prior: a competency or student with little evidence gets the shared value, the
same treatment wherever the model is fitted). An answer after a gap of at least
``min_gap_days`` is right with ``guess + (1 - guess - slip) * recall``; the model is fitted by
maximum likelihood on those answers alone, so what it learns is how fast what was learned
fades, not how fast it is learned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import optimize

Float = NDArray[np.float64]
LN2 = float(np.log(2.0))


@dataclass(frozen=True)
class ReviewEvidence:
    """Answers given after a gap, on competencies learned before: the rows the model fits."""

    student: NDArray[np.int64]
    competency: NDArray[np.int64]
    gap: Float  # days since the last practice of the competency
    sessions: Float  # separate days the competency was practised before
    known_before: Float  # 1 where the first answer on the competency was right
    correct: Float
    students: tuple[Any, ...]
    competencies: tuple[Any, ...]


def review_evidence(
    attempts: pd.DataFrame, *, min_gap_days: float = 0.5, learned_after: int = 2
) -> ReviewEvidence:
    """The spaced answers of an attempts table (``student_id``, ``competency_id``, ``correct``,
    and ``day`` on a day clock or ``timestamp``), in time order per student and competency.

    An answer is spaced when the competency was last practised ``min_gap_days`` or more before;
    it counts once the student has answered it right ``learned_after`` times."""
    missing = {"student_id", "competency_id", "correct"} - set(attempts.columns)
    if missing or not {"day", "timestamp"} & set(attempts.columns):
        raise ValueError(
            "the attempts table needs student_id, competency_id, correct and day or timestamp; "
            f"missing {sorted(missing) or ['day or timestamp']}"
        )
    frame = attempts[["student_id", "competency_id", "correct"]].copy()
    if "day" in attempts.columns:
        frame["day"] = attempts["day"].astype(np.float64).to_numpy()
    else:
        stamps = pd.to_datetime(attempts["timestamp"], utc=True)
        frame["day"] = (stamps - pd.Timestamp("2000-01-01", tz="UTC")).dt.total_seconds() / 86400
    frame["ok"] = frame["correct"].astype(np.float64).to_numpy() >= 0.5
    frame = frame.sort_values(["student_id", "competency_id", "day"], kind="stable")
    key = frame.groupby(["student_id", "competency_id"], sort=False)
    gap = frame["day"] - key["day"].shift(1)
    rights_before = key["ok"].cumsum() - frame["ok"]
    first_right = key["ok"].transform("first").astype(np.float64)
    whole = np.floor(frame["day"])
    new_day = (whole != key["day"].shift(1).pipe(np.floor)).astype(np.int64)
    sessions = new_day.groupby([frame["student_id"], frame["competency_id"]]).cumsum() - new_day
    keep = (gap >= min_gap_days) & (rights_before >= learned_after)
    students, s_codes = np.unique(frame["student_id"].to_numpy()[keep], return_inverse=True)
    comps, c_codes = np.unique(frame["competency_id"].to_numpy()[keep], return_inverse=True)
    return ReviewEvidence(
        student=s_codes.astype(np.int64),
        competency=c_codes.astype(np.int64),
        gap=gap[keep].to_numpy(np.float64),
        sessions=np.maximum(sessions[keep].to_numpy(np.float64), 1.0),
        known_before=np.asarray(first_right[keep].to_numpy(np.float64), dtype=np.float64),
        correct=frame["ok"][keep].to_numpy(np.float64),
        students=tuple(students.tolist()),
        competencies=tuple(comps.tolist()),
    )


class MemoryModel:
    """Half-life regression fitted from spaced reviews (see the module).

    ``prior_half_life`` (days) and ``prior_growth`` (per separate day of practice) are where the
    shared parameters start and what they shrink to without data; ``competency_sd`` and
    ``student_sd`` are the prior spreads (log2 days) of the adjustments; ``guess`` and ``slip``
    the chance of a right answer without recall and of a wrong one with it.
    """

    def __init__(
        self,
        *,
        prior_half_life: float = 3.0,
        prior_growth: float = 2.0,
        competency_sd: float = 1.0,
        student_sd: float = 0.5,
        guess: float = 0.15,
        slip: float = 0.1,
        min_gap_days: float = 0.5,
    ) -> None:
        self.prior_half_life = prior_half_life
        self.prior_growth = prior_growth
        self.competency_sd = competency_sd
        self.student_sd = student_sd
        self.guess = guess
        self.slip = slip
        self.min_gap_days = min_gap_days

    def _check(self) -> None:
        if self.prior_half_life <= 0 or self.prior_growth < 1:
            raise ValueError("prior_half_life must be > 0 days and prior_growth >= 1")
        if self.competency_sd <= 0 or self.student_sd <= 0:
            raise ValueError("competency_sd and student_sd must be > 0")
        if not (0 <= self.guess < 1 and 0 <= self.slip < 1 and self.guess + self.slip < 1):
            raise ValueError("guess and slip must lie in [0, 1) with guess + slip < 1")

    def fit(self, attempts: pd.DataFrame) -> MemoryModel:
        """Fit on an attempts table (see :func:`review_evidence`); returns ``self``."""
        self._check()
        ev = review_evidence(attempts, min_gap_days=self.min_gap_days)
        n_c, n_s = len(ev.competencies), len(ev.students)
        a0, b0 = float(np.log2(self.prior_half_life)), float(np.log2(self.prior_growth))
        g, amp = self.guess, 1.0 - self.guess - self.slip
        lam_c, lam_s = 1.0 / self.competency_sd**2, 1.0 / self.student_sd**2
        x = ev.sessions - 1.0

        def loss(theta: Float) -> tuple[float, Float]:
            a, b, k = theta[0], theta[1], theta[2]
            delta, u = theta[3 : 3 + n_c], theta[3 + n_c :]
            z = a + delta[ev.competency] + u[ev.student] + b * x + k * ev.known_before
            inv_h = np.exp2(-np.clip(z, -10, 12))
            r = np.exp(-LN2 * ev.gap * inv_h)
            p = np.clip(g + amp * r, 1e-6, 1 - 1e-6)
            y = ev.correct
            nll = -(y * np.log(p) + (1 - y) * np.log(1 - p)).sum()
            dp = -(y / p - (1 - y) / (1 - p))
            dz = dp * amp * r * LN2 * LN2 * ev.gap * inv_h
            # weak priors on the shared parameters keep them finite without data
            value = nll + 0.5 * (lam_c * delta @ delta + lam_s * u @ u)
            value += 0.5 * 0.1 * ((a - a0) ** 2 + (b - b0) ** 2 + k**2)
            grad = np.empty_like(theta)
            grad[0] = dz.sum() + 0.1 * (a - a0)
            grad[1] = (dz * x).sum() + 0.1 * (b - b0)
            grad[2] = (dz * ev.known_before).sum() + 0.1 * k
            grad[3 : 3 + n_c] = np.bincount(ev.competency, dz, n_c) + lam_c * delta
            grad[3 + n_c :] = np.bincount(ev.student, dz, n_s) + lam_s * u
            return float(value), grad

        theta0 = np.r_[a0, b0, 0.0, np.zeros(n_c + n_s)]
        if ev.correct.size:
            result = optimize.minimize(loss, theta0, jac=True, method="L-BFGS-B")
            theta = result.x
        else:
            theta = theta0
        self.log2_half_life_ = float(theta[0])
        self.log2_growth_ = float(max(theta[1], 0.0))
        self.log2_known_before_ = float(theta[2])
        self.competency_offset_ = dict(zip(ev.competencies, theta[3 : 3 + n_c], strict=True))
        self.student_offset_ = dict(zip(ev.students, theta[3 + n_c :], strict=True))
        self.n_reviews_ = int(ev.correct.size)
        self.reviews_per_competency_ = dict(
            zip(ev.competencies, np.bincount(ev.competency, minlength=n_c).tolist(), strict=True)
        )
        return self

    def _fitted(self) -> None:
        if not hasattr(self, "log2_half_life_"):
            raise RuntimeError("MemoryModel is not fitted yet: call fit(attempts) first")

    @property
    def growth_(self) -> float:
        """How much the half-life multiplies by with each separate day of practice."""
        self._fitted()
        return float(np.exp2(self.log2_growth_))

    def half_lives(self, codes: Sequence[Any], student: Any = None) -> Float:
        """The half-life (days) after the first day of practice of each of ``codes``, for
        ``student`` (a student the model never saw, or none, gets the shared value)."""
        self._fitted()
        offsets = np.array([self.competency_offset_.get(c, 0.0) for c in codes], dtype=float)
        u = self.student_offset_.get(student, 0.0) if student is not None else 0.0
        return np.asarray(np.exp2(self.log2_half_life_ + offsets + u))

    def recall(self, codes: Sequence[Any], gap: Float, sessions: Float) -> Float:
        """Predicted recall of each of ``codes`` after ``gap`` days, practised on ``sessions``
        separate days (arrays broadcast over the codes)."""
        h = self.half_lives(codes) * self.growth_ ** (np.asarray(sessions) - 1.0)
        return np.asarray(np.exp2(-np.asarray(gap) / h))

    def summary(self) -> dict[str, float | int | list[float]]:
        self._fitted()
        offsets = np.array(list(self.competency_offset_.values()) or [0.0])
        students = np.array(list(self.student_offset_.values()) or [0.0])
        return {
            "half_life_days": round(float(np.exp2(self.log2_half_life_)), 3),
            "growth_per_day_practised": round(self.growth_, 3),
            "factor_known_before": round(float(np.exp2(self.log2_known_before_)), 3),
            "competency_half_life_days_10_90": [
                round(float(np.exp2(self.log2_half_life_ + q)), 3)
                for q in np.quantile(offsets, [0.1, 0.9])
            ],
            "student_factor_10_90": [
                round(float(np.exp2(q)), 3) for q in np.quantile(students, [0.1, 0.9])
            ],
            "spaced_answers": self.n_reviews_,
        }


def review_target(
    half_life: float,
    growth: float,
    *,
    learn_rate: float,
    horizon_days: float = 60.0,
    retention: float = 0.8,
    targets: Sequence[float] = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9),
) -> float:
    """The recall at which to review that needs the fewest attempts over ``horizon_days``:
    each review is one attempt, and a review that fails (probability ``1 - target``) costs
    relearning (``1 / learn_rate`` attempts), while reviews come later the lower the target;
    among targets whose average recall between reviews is at least ``retention``."""
    if not 0 < learn_rate <= 1 or half_life <= 0 or growth < 1:
        raise ValueError("learn_rate in (0, 1], half_life > 0, growth >= 1")
    best, best_cost = max(targets), np.inf
    for target in targets:
        mean_recall = (1 - target) / np.log(1 / target)
        if mean_recall < retention:
            continue
        t, h, reviews = 0.0, half_life, 0
        while t < horizon_days and reviews < 1000:
            t += h * np.log2(1 / target)
            h *= growth
            reviews += 1
        cost = reviews * (1 + (1 - target) / learn_rate)
        if cost < best_cost:
            best, best_cost = target, cost
    return float(best)
