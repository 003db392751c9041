"""Teaching policies the simulator compares: a fixed sequence, the planner, and an oracle."""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from learnway.learner import bkt_update
from learnway.paths import (
    BKTParams,
    CompetencyGraph,
    LearnerState,
    Planner,
    apply_attempts,
)
from learnway.paths._placement import Placement
from learnway.sim._world import KNOWN, Learners, retrieval

Ints = NDArray[np.int64]


class Policy(Protocol):
    """Chooses each active student's next competency and sees the observable outcome."""

    name: str

    def start(self, students: Learners, now: float) -> None: ...

    def choose(self, rows: Ints, now: float) -> Ints: ...

    def observe(
        self, rows: Ints, competency: Ints, correct: NDArray[np.bool_], hints: Ints, now: float
    ) -> None: ...


class FixedSequence:
    """One size fits all: every competency in course order, ``per_competency`` problems each,
    then round again from the start."""

    def __init__(self, graph: CompetencyGraph, per_competency: int = 5) -> None:
        self.name = f"fixed sequence ({per_competency} per competency)"
        self.order = graph.order
        self.per_competency = per_competency
        self.done: Ints = np.zeros(0, dtype=np.int64)

    def start(self, students: Learners, now: float) -> None:
        self.done = np.zeros(students.n, dtype=np.int64)

    def choose(self, rows: Ints, now: float) -> Ints:
        position = (self.done[rows] // self.per_competency) % self.order.size
        return self.order[position]

    def observe(
        self, rows: Ints, competency: Ints, correct: NDArray[np.bool_], hints: Ints, now: float
    ) -> None:
        self.done[rows] += 1


class PlannerPolicy:
    """Learnway's planner on knowledge-tracing state, after an optional diagnostic placement,
    with the term's ``deadline`` (days) when given. When nothing is left to do, the student
    reviews what the planner predicts is most faded."""

    def __init__(
        self,
        planner: Planner,
        *,
        placement: Placement | None = None,
        name: str = "",
        deadline: float | None = None,
    ) -> None:
        self.planner = planner
        self.placement = placement
        self.name = name or "planner"
        self.deadline = deadline
        self.state = LearnerState.new(0, planner.params)
        self.posterior = np.zeros((0, 0))
        self.asked = np.zeros((0, 0), dtype=bool)
        self.placing = np.zeros(0, dtype=bool)
        self.questions = np.zeros(0, dtype=np.int64)

    def start(self, students: Learners, now: float) -> None:
        n, c = students.n, self.planner.graph.n
        self.state = LearnerState.new(n, self.planner.params)
        self.placing = np.full(n, self.placement is not None)
        self.questions = np.zeros(n, dtype=np.int64)
        self.asked = np.zeros((n, c), dtype=bool)
        if self.placement is not None:
            self.posterior = self.placement.start(n)

    def choose(self, rows: Ints, now: float) -> Ints:
        out = np.empty(rows.size, dtype=np.int64)
        placing = self.placing[rows]
        if placing.any():
            assert self.placement is not None
            r = rows[placing]
            out[placing] = self.placement.choose(self.posterior[r], self.asked[r])
        if (~placing).any():
            r = rows[~placing]
            choice, _ = self.planner.next_competencies(
                self.state.rows(r), now, deadline=self.deadline
            )
            idle = choice < 0
            if idle.any():
                recall = self.planner.scores(self.state.rows(r[idle]), now).recall
                choice[idle] = np.argmin(recall, axis=1)
            out[~placing] = choice
        return out

    def observe(
        self, rows: Ints, competency: Ints, correct: NDArray[np.bool_], hints: Ints, now: float
    ) -> None:
        placing = self.placing[rows]
        if placing.any():
            assert self.placement is not None
            r, c = rows[placing], competency[placing]
            self.posterior[r] = self.placement.update(self.posterior[r], c, correct[placing])
            self.asked[r, c] = True
            self.questions[r] += 1
            finished = r[self.placement.done(self.posterior[r], self.questions[r])]
            if finished.size:
                seeded = self.placement.seed_state(
                    self.state.rows(finished),
                    self.posterior[finished],
                    now=now,
                    policy=self.planner.policy,
                )
                for name in ("p_known", "evidence", "last_seen", "reviews", "peak"):
                    getattr(self.state, name)[finished] = getattr(seeded, name)
                self.state.mastered_once[finished] = seeded.mastered_once
                self.placing[finished] = False
        learning = ~placing
        if learning.any():
            self.state = apply_attempts(
                self.state,
                rows[learning],
                competency[learning],
                correct[learning],
                hints=hints[learning],
                now=now,
                params=self.planner.params,
                graph=self.planner.graph,
                policy=self.planner.policy,
            )


class Oracle:
    """Sees the true knowledge: reviews what is about to be forgotten, otherwise practises the
    first competency in course order that is not known and whose prerequisites are."""

    def __init__(self, graph: CompetencyGraph, review_at: float = KNOWN + 0.05) -> None:
        self.name = "oracle"
        self.graph = graph
        self.review_at = review_at
        self.students: Learners | None = None
        self.learned = np.zeros((0, 0), dtype=bool)

    def start(self, students: Learners, now: float) -> None:
        self.students = students
        self.learned = retrieval(students, now) >= KNOWN

    def choose(self, rows: Ints, now: float) -> Ints:
        assert self.students is not None
        recall = retrieval(self.students, now, rows)
        known = recall >= KNOWN
        ready = ((~known).astype(np.float32) @ self.graph.prereq.T.astype(np.float32)) == 0
        frontier = ~known & ready
        rank = np.where(frontier, self.graph.rank[None, :], np.iinfo(np.int64).max)
        new = np.argmin(rank, axis=1)
        fading = np.where(self.learned[rows] & (recall < self.review_at), recall, np.inf)
        review = np.argmin(fading, axis=1)
        has_review = np.isfinite(fading.min(axis=1))
        has_new = frontier.any(axis=1)
        weakest = np.argmin(recall, axis=1)
        return np.where(has_review, review, np.where(has_new, new, weakest)).astype(np.int64)

    def observe(
        self, rows: Ints, competency: Ints, correct: NDArray[np.bool_], hints: Ints, now: float
    ) -> None:
        assert self.students is not None
        recall = retrieval(self.students, now, rows)[np.arange(rows.size), competency]
        self.learned[rows, competency] |= recall >= KNOWN


class CourseOrderBKT:
    """The plain reference: BKT on each answer (a hinted one is wrong), the first competency in
    course order under ``threshold``, no placement, no review, no prerequisites beyond the
    order; once every competency is over it, the one practised longest ago (round the course
    again)."""

    def __init__(self, graph: CompetencyGraph, params: BKTParams, threshold: float = 0.95) -> None:
        self.name = "plain BKT in course order (reference)"
        self.order = graph.order
        self.params = params
        self.threshold = threshold
        self.p = np.zeros((0, 0))
        self.seen = np.zeros((0, 0))

    def start(self, students: Learners, now: float) -> None:
        self.p = np.tile(self.params.p_init, (students.n, 1))
        self.seen = np.full(self.p.shape, -np.inf)

    def choose(self, rows: Ints, now: float) -> Ints:
        open_ = self.p[rows][:, self.order] < self.threshold
        first = np.argmax(open_, axis=1)
        oldest = self.order[np.argmin(self.seen[rows][:, self.order], axis=1)]
        return np.where(open_.any(axis=1), self.order[first], oldest).astype(np.int64)

    def observe(
        self, rows: Ints, competency: Ints, correct: NDArray[np.bool_], hints: Ints, now: float
    ) -> None:
        prm, c = self.params, competency
        _, after = bkt_update(
            self.p[rows, c], correct & (hints == 0), p_learn=prm.p_learn[c],
            p_guess=prm.p_guess[c], p_slip=prm.p_slip[c], p_forget=prm.p_forget[c],
        )  # fmt: skip
        self.p[rows, c] = after
        self.seen[rows, c] = now
