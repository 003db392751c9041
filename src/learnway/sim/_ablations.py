"""Diagnostic policies for the benchmark: the planner given one piece of the simulator's truth.

They are not teaching policies (a school has no truth to give); they locate the planner's gap to
the oracle: how much of it closes with a perfect starting state (instead of the placement check),
with reviews timed on the true forgetting curve (instead of the planner's predicted recall), or
with the true knowledge state before every choice (instead of the learner model's estimate).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from learnway.paths import Placement, Planner
from learnway.sim._policies import Ints, PlannerPolicy
from learnway.sim._world import KNOWN, Students, retrieval

NOT_KNOWN = 0.3  # the highest p_known the true-state planner leaves on what is not known


class TrueStartPlanner(PlannerPolicy):
    """The planner starting from the true knowledge state: what the student truly knows at the
    start counts as mastered with the minimum evidence, and no placement check is asked."""

    def __init__(self, planner: Planner, *, deadline: float | None = None) -> None:
        super().__init__(planner, name="planner, true starting state", deadline=deadline)

    def start(self, students: Students, now: float) -> None:
        super().start(students, now)
        known = retrieval(students, now) >= KNOWN
        state, policy = self.state, self.planner.policy
        p = np.maximum(policy.thresholds(self.planner.graph.n), 0.95)
        state.p_known[known] = np.broadcast_to(p, known.shape)[known]
        state.peak[known] = state.p_known[known]
        state.evidence[known] = policy.min_evidence
        state.last_seen[known] = now
        state.reviews[known] = 3
        state.mastered_once[known] = True


class TrueReviewPlanner(PlannerPolicy):
    """The planner (placement and new work as usual, its own reviews off) whose reviews follow
    the oracle's rule on the true forgetting curve: review what was learned and is fading."""

    def __init__(
        self,
        planner: Planner,
        *,
        placement: Placement | None = None,
        deadline: float | None = None,
        review_at: float = KNOWN + 0.05,
    ) -> None:
        super().__init__(
            planner, placement=placement, name="planner, true review timing", deadline=deadline
        )
        self.review_at = review_at
        self.truth: Students | None = None
        self.learned = np.zeros((0, 0), dtype=bool)

    def start(self, students: Students, now: float) -> None:
        super().start(students, now)
        self.truth = students
        self.learned = retrieval(students, now) >= KNOWN

    def choose(self, rows: Ints, now: float) -> Ints:
        assert self.truth is not None
        planned = super().choose(rows, now)
        recall = retrieval(self.truth, now, rows)
        fading = np.where(self.learned[rows] & (recall < self.review_at), recall, np.inf)
        review = np.isfinite(fading.min(axis=1)) & ~self.placing[rows]
        return np.where(review, np.argmin(fading, axis=1), planned).astype(np.int64)

    def observe(
        self, rows: Ints, competency: Ints, correct: NDArray[np.bool_], hints: Ints, now: float
    ) -> None:
        super().observe(rows, competency, correct, hints, now)
        assert self.truth is not None
        recall = retrieval(self.truth, now, rows)[np.arange(rows.size), competency]
        self.learned[rows, competency] |= recall >= KNOWN


class TrueStatePlanner(PlannerPolicy):
    """The planner told the true knowledge state before every choice (no placement check): what
    the student knows counts as mastered with the minimum evidence, what they do not know gets
    a p_known of at most ``NOT_KNOWN``. The planner's own rules choose as usual, so this
    measures its choosing apart from the learner model's estimating."""

    def __init__(self, planner: Planner, *, deadline: float | None = None) -> None:
        super().__init__(planner, name="planner, true state at every choice", deadline=deadline)
        self.truth: Students | None = None

    def start(self, students: Students, now: float) -> None:
        super().start(students, now)
        self.truth = students

    def choose(self, rows: Ints, now: float) -> Ints:
        assert self.truth is not None
        known = retrieval(self.truth, now, rows) >= KNOWN
        state, policy = self.state, self.planner.policy
        high = np.maximum(policy.thresholds(self.planner.graph.n), 0.99)
        state.p_known[rows] = np.where(known, high, np.minimum(state.p_known[rows], NOT_KNOWN))
        evidence = state.evidence[rows]
        state.evidence[rows] = np.where(known, np.maximum(evidence, policy.min_evidence), evidence)
        state.peak[rows] = np.maximum(state.peak[rows], state.p_known[rows])
        state.mastered_once[rows] |= known
        return super().choose(rows, now)
