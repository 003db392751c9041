"""Diagnostic placement: a short adaptive check that locates each student's frontier.

The student's knowledge is modelled as a position ``k`` along the course sequence (the graph's
topological ``rank``): competencies ranked below ``k`` are known. Each answer is a noisy
observation (slip and guess from the knowledge-tracing parameters); the next question is the
competency whose answer carries the most expected information about ``k``; the check stops once
the posterior puts ``confidence`` of its mass within ``tolerance`` positions of its median.
All students of a batch are handled at once: posteriors are ``(students, n + 1)`` arrays.

The check the application gives a student asks 10 to 20 questions (:data:`CHECK`); its result
is a starting belief that grants no mastery (:meth:`Placement.starting_belief`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from learnway.paths._graph import CompetencyGraph
from learnway.paths._mastery import P_MAX, BKTParams, LearnerState, MasteryPolicy

Float = NDArray[np.float64]


def _entropy(p: Float, axis: int = -1) -> Float:
    return np.asarray(-(p * np.log(np.where(p > 0, p, 1.0))).sum(axis=axis))


CHECK = {"min_questions": 10, "max_questions": 20}
"""The placement check of the application: at least 10 questions, at most 20."""


@dataclass(frozen=True)
class Placement:
    """Adaptive placement over one course graph.

    ``tolerance`` is in positions along the sequence (default: 2% of the course, at least 2).
    """

    graph: CompetencyGraph
    params: BKTParams
    confidence: float = 0.9
    tolerance: int | None = None
    min_questions: int = 4
    max_questions: int = 30

    def __post_init__(self) -> None:
        if not 0 < self.confidence < 1:
            raise ValueError("confidence must lie in (0, 1)")
        if self.max_questions < self.min_questions:
            raise ValueError("max_questions must be at least min_questions")

    @property
    def width(self) -> int:
        if self.tolerance is not None:
            return self.tolerance
        return max(2, round(0.02 * self.graph.n))

    def _likelihood(self) -> tuple[Float, Float]:
        """``P(correct | k)`` for every competency and position: shape ``(n, n + 1)``."""
        positions = np.arange(self.graph.n + 1)
        knows = self.graph.rank[:, None] < positions[None, :]
        right = np.where(knows, (1 - self.params.p_slip)[:, None], self.params.p_guess[:, None])
        return right, 1 - right

    def start(self, n_students: int) -> Float:
        """A uniform prior over positions for each student."""
        n = self.graph.n + 1
        return np.full((n_students, n), 1.0 / n)

    def choose(self, posterior: Float, asked: NDArray[np.bool_] | None = None) -> NDArray[np.int64]:
        """The most informative competency to ask each student next (not asked before)."""
        right, wrong = self._likelihood()
        p_right = posterior @ right.T  # (students, n)
        joint_right = posterior[:, None, :] * right[None, :, :]
        joint_wrong = posterior[:, None, :] * wrong[None, :, :]
        h_right = _entropy(joint_right / np.maximum(p_right[:, :, None], 1e-300))
        h_wrong = _entropy(joint_wrong / np.maximum(1 - p_right[:, :, None], 1e-300))
        expected = p_right * h_right + (1 - p_right) * h_wrong
        gain = _entropy(posterior)[:, None] - expected
        if asked is not None:
            gain = np.where(asked, -np.inf, gain)
        return np.argmax(gain, axis=1).astype(np.int64)

    def update(self, posterior: Float, competency: ArrayLike, correct: ArrayLike) -> Float:
        """Bayes' rule for one answer per student."""
        right, wrong = self._likelihood()
        c = np.asarray(competency, dtype=np.int64)
        ok = np.asarray(correct, dtype=bool)
        like = np.where(ok[:, None], right[c], wrong[c])
        post = posterior * like
        return np.asarray(post / post.sum(axis=1, keepdims=True))

    def interval(self, posterior: Float) -> tuple[NDArray[np.int64], Float]:
        """Median position per student and the posterior mass within ``tolerance`` of it."""
        cdf = np.cumsum(posterior, axis=1)
        median = np.argmax(cdf >= 0.5, axis=1)
        positions = np.arange(posterior.shape[1])
        near = np.abs(positions[None, :] - median[:, None]) <= self.width
        return median.astype(np.int64), (posterior * near).sum(axis=1)

    def done(self, posterior: Float, n_asked: ArrayLike) -> NDArray[np.bool_]:
        """Whether each student's frontier is located (or the question budget is spent)."""
        asked = np.asarray(n_asked)
        _, mass = self.interval(posterior)
        located = (mass >= self.confidence) & (asked >= self.min_questions)
        return np.asarray(located | (asked >= self.max_questions))

    def known_probability(self, posterior: Float) -> Float:
        """``P(competency known)`` per student and competency: the mass of positions above it."""
        tail = np.cumsum(posterior[:, ::-1], axis=1)[:, ::-1]  # tail[k] = P(position >= k)
        return np.asarray(tail[:, self.graph.rank + 1])

    def starting_belief(
        self,
        posterior: Float,
        params: BKTParams,
        threshold: float | Float,
        *,
        known_at: float = 0.9,
        uncertain_cap: float = 0.6,
        credit: float = 2.0,
    ) -> tuple[Float, Float]:
        """What the check says of each competency, as a starting belief that grants no mastery:
        ``(p_known, evidence)`` per student and competency.

        Where the posterior puts ``known_at`` or more on a competency being known, it starts
        *likely known*: at the mastery ``threshold`` with ``credit`` evidence (the check's
        answers around it count as that many observations) and no attempt of its own, as
        credit from advanced work does. The planner checks it in context: one right answer of
        its own confirms it (mastered, where ``credit`` plus one reaches the policy's
        ``min_evidence``), one wrong answer takes it back under the threshold. Patchy evidence
        (between one half and ``known_at``) only raises the prior, to at most ``uncertain_cap``:
        such competencies are learned and shown by practice. Elsewhere the content's prior
        stays, with no evidence."""
        p = self.known_probability(posterior)
        thr = np.broadcast_to(np.asarray(threshold, dtype=np.float64), p.shape[1:])
        prior = np.broadcast_to(params.p_init, p.shape)
        placed = p >= known_at
        patchy = ~placed & (p >= 0.5)
        belief = np.where(
            placed,
            np.clip(np.broadcast_to(thr[None, :], p.shape), 0.0, P_MAX),
            np.where(patchy, np.maximum(prior, np.minimum(p, uncertain_cap)), prior),
        )
        evidence = np.where(placed, credit, 0.0)
        return np.asarray(belief, dtype=np.float64), np.asarray(evidence, dtype=np.float64)

    def seed_state(
        self,
        state: LearnerState,
        posterior: Float,
        *,
        now: float,
        policy: MasteryPolicy,
        known_at: float = 0.9,
    ) -> LearnerState:
        """``state`` started from the check, exactly as the live path starts a student who
        finished it (:meth:`starting_belief`): likely known where it is placed as known, a
        raised prior where the evidence is patchy; no mastery, nothing seen or reviewed."""
        del now  # the check sets no time of evidence: nothing is due for review from it
        new = state.copy()
        belief, evidence = self.starting_belief(
            posterior, self.params, policy.thresholds(self.graph.n), known_at=known_at
        )
        moved = (belief != self.params.p_init[None, :]) | (evidence > 0)
        new.p_known[:] = np.where(moved, belief, state.p_known)
        new.evidence[:] = np.where(moved, evidence, state.evidence)
        new.peak[:] = np.where(moved, belief, state.peak)
        return new
