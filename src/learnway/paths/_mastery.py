"""Mastery rules: per-competency status from the learner model's probabilities and the evidence.

All functions work on a batch of students at once: arrays shaped ``(students, competencies)``.
Times are in days on any common origin (a float ``now`` and ``last_seen`` on the same clock).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from enum import IntEnum
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from learnway.learner import bkt_update
from learnway.paths._graph import CompetencyGraph

Float = NDArray[np.float64]

EVIDENCE_KINDS = ("answer", "placement", "worked_example")
"""Kinds of evidence: an answer (right or wrong, the student practises), a placement check's
answer (a test of what is known: no learning step), a worked example the student studied
(neither right nor wrong: it informs learning, never the estimate of what is known)."""


class Status(IntEnum):
    """Where a student stands on one competency."""

    NOT_STARTED = 0
    PRACTICING = 1
    MASTERED = 2
    DUE_FOR_REVIEW = 3
    STUCK = 4
    LIKELY_KNOWN = 5
    """Probably known from credit for advanced work, but not yet shown by its own attempts."""


P_MIN = 1e-4
P_MAX = 1.0 - 1e-4
"""Every probability of the learner state stays in ``[P_MIN, P_MAX]``: strictly inside (0, 1),
so that no evidence can drive it to a value that Bayes' rule can never move again."""


@dataclass(frozen=True)
class BKTParams:
    """Per-competency knowledge-tracing parameters, one value per competency (or a scalar)."""

    p_init: Float
    p_learn: Float
    p_guess: Float
    p_slip: Float
    p_forget: Float

    @classmethod
    def uniform(
        cls,
        n: int,
        *,
        p_init: ArrayLike = 0.1,
        p_learn: ArrayLike = 0.1,
        p_guess: ArrayLike = 0.1,
        p_slip: ArrayLike = 0.1,
        p_forget: ArrayLike = 0.0,
    ) -> BKTParams:
        def col(value: ArrayLike) -> Float:
            out = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()
            if np.any((out < 0) | (out > 1)):
                raise ValueError("BKT parameters must lie in [0, 1]")
            return out

        return cls(col(p_init), col(p_learn), col(p_guess), col(p_slip), col(p_forget))

    @classmethod
    def from_model(cls, model: Any, codes: Sequence[str]) -> BKTParams:
        """The parameters of a fitted :class:`learnway.learner.BKT` laid out over ``codes``.

        A competency the model never saw gets the model's defaults (the median of its fitted
        parameters), as its own predictions do.
        """
        index = model.competency_index_
        default = np.asarray(model.default_params_, dtype=np.float64)
        table = np.c_[model.prior_, model.learn_, model.forget_, model.guess_, model.slip_]
        rows = np.array([index.get(code, -1) for code in codes], dtype=np.int64)
        values = np.where((rows >= 0)[:, None], table[np.maximum(rows, 0)], default[None, :])
        values = np.clip(values, 0.0, 1.0)
        return cls.uniform(
            len(codes),
            p_init=values[:, 0],
            p_learn=values[:, 1],
            p_forget=values[:, 2],
            p_guess=values[:, 3],
            p_slip=values[:, 4],
        )


@dataclass(frozen=True)
class MasteryPolicy:
    """The rules that turn probabilities and evidence into a status.

    ``threshold`` is per competency (an array) or one value for the course; a competency is
    mastered when ``p_known >= threshold`` with at least one attempt of its own (direct
    evidence; never from credit alone) and ``min_evidence`` in all: its own attempts plus the
    credit from placement and advanced work. Credit alone raises the estimate to the threshold
    at most: at the threshold on credit alone, with no attempt of its own, it is *likely known*,
    and one right answer of its own then confirms it (a quick check), one wrong answer takes it
    back under the threshold.
    A prerequisite counts as *nearly mastered* (ready) at ``ready_fraction * threshold``.
    Stuck: ``stuck_attempts`` attempts in a row without raising the best probability by
    ``progress_margin``, or a recent hint rate of ``stuck_hint_rate`` or more.
    Review: predicted recall halves every ``half_life_days`` (one value, or one per competency
    as a fitted memory model gives, see :class:`learnway.paths.MemoryModel`), multiplied by
    ``half_life_growth`` after each successful spaced review; due when it drops under
    ``review_recall``. Mastery is *durable* once confirmed by a right answer on a later day
    (a successful spaced review); with ``durable_days`` 2 the planner opens a competency's
    successors only then, unless nothing else is left (see :func:`is_durable`).
    A right answer that confirms a *likely known* competency counts as ``confirmed_reviews``
    successful spaced reviews: the knowledge has lasted since before (placement, or advanced
    work built on it), so its review interval starts that much longer.
    A worked example (evidence of kind ``worked_example``) moves the estimate by
    ``worked_example_learning`` of a practice's learning step and nothing else.
    A correct answer on a competency counts as ``prereq_credit`` of an observation on each of its
    direct prerequisites.
    """

    threshold: float | Float = 0.85
    min_evidence: float = 3.0
    ready_fraction: float = 0.8
    stuck_attempts: int = 8
    progress_margin: float = 0.05
    stuck_hint_rate: float = 0.6
    hint_memory: float = 0.3
    review_recall: float = 0.7
    half_life_days: float | Float = 3.0
    half_life_growth: float = 2.0
    review_spacing_days: float = 0.5
    prereq_credit: float = 0.5
    durable_days: int = 2
    worked_example_learning: float = 0.5
    confirmed_reviews: int = 3

    def __post_init__(self) -> None:
        thr = np.asarray(self.threshold, dtype=np.float64)
        if np.any((thr <= 0) | (thr > 1)):
            raise ValueError("threshold must lie in (0, 1]")
        if not 0 < self.ready_fraction <= 1:
            raise ValueError("ready_fraction must lie in (0, 1]")
        if not 0 < self.review_recall < 1:
            raise ValueError("review_recall must lie in (0, 1)")
        half_life = np.asarray(self.half_life_days, dtype=np.float64)
        if self.min_evidence < 0 or self.stuck_attempts < 1 or np.any(half_life <= 0):
            raise ValueError("min_evidence >= 0, stuck_attempts >= 1, half_life_days > 0")
        if not 0 <= self.prereq_credit <= 1:
            raise ValueError("prereq_credit must lie in [0, 1]")
        if self.durable_days not in (1, 2):
            raise ValueError("durable_days must be 1 (one session) or 2 (two separate days)")
        if not 0 <= self.worked_example_learning <= 1:
            raise ValueError("worked_example_learning must lie in [0, 1]")
        if self.confirmed_reviews < 1:
            raise ValueError("confirmed_reviews must be at least 1")

    def thresholds(self, n: int) -> Float:
        return np.broadcast_to(np.asarray(self.threshold, dtype=np.float64), (n,))


@dataclass(frozen=True)
class LearnerState:
    """What the planner knows about a batch of students, one row per student.

    ``p_known`` comes from the learner model (any model: the planner only reads it);
    the other arrays are evidence bookkeeping kept by :func:`apply_attempts`.
    """

    p_known: Float
    evidence: Float
    attempts: NDArray[np.int64]
    no_progress: NDArray[np.int64]
    peak: Float
    hint_rate: Float
    last_seen: Float
    reviews: NDArray[np.int64]
    mastered_once: NDArray[np.bool_]

    @classmethod
    def new(cls, n_students: int, params: BKTParams) -> LearnerState:
        shape = (n_students, params.p_init.size)
        p0 = np.clip(np.broadcast_to(params.p_init, shape), P_MIN, P_MAX)
        return cls(
            p_known=p0,
            evidence=np.zeros(shape),
            attempts=np.zeros(shape, dtype=np.int64),
            no_progress=np.zeros(shape, dtype=np.int64),
            peak=p0.copy(),
            hint_rate=np.zeros(shape),
            last_seen=np.full(shape, np.nan),
            reviews=np.zeros(shape, dtype=np.int64),
            mastered_once=np.zeros(shape, dtype=bool),
        )

    @property
    def shape(self) -> tuple[int, int]:
        n_students, n_competencies = self.p_known.shape
        return n_students, n_competencies

    def copy(self) -> LearnerState:
        return replace(self, **{f.name: getattr(self, f.name).copy() for f in fields(self)})

    def rows(self, students: ArrayLike) -> LearnerState:
        """The state of a subset of students (a copy)."""
        idx = np.atleast_1d(np.asarray(students, dtype=np.int64))
        return replace(self, **{f.name: getattr(self, f.name)[idx] for f in fields(self)})


def is_mastered(state: LearnerState, policy: MasteryPolicy) -> NDArray[np.bool_]:
    """Mastered now: probability at the threshold, with direct evidence (the competency's own
    attempts, at least one) and ``min_evidence`` in all (own attempts plus credit)."""
    return (
        (state.p_known >= policy.threshold)  # one value, or one per competency
        & (state.attempts >= 1)
        & (np.maximum(state.evidence, state.attempts) >= policy.min_evidence)
    )


def is_durable(state: LearnerState, policy: MasteryPolicy) -> NDArray[np.bool_]:
    """Mastered and confirmed across sessions: a right answer at least
    ``review_spacing_days`` after the last one, once mastered (a successful spaced review;
    knowledge placed as known counts as reviewed). With ``durable_days`` 1, mastered is
    durable."""
    mastered = is_mastered(state, policy)
    if policy.durable_days <= 1:
        return mastered
    return mastered & (state.reviews > 0)


def predicted_recall(state: LearnerState, policy: MasteryPolicy, now: float | Float) -> Float:
    """The planner's forgetting curve: ``2 ** (-elapsed / half_life)``; 1 where never seen."""
    half_life = policy.half_life_days * policy.half_life_growth ** state.reviews.astype(float)
    elapsed = np.fmax(now - state.last_seen, 0.0)  # 0 where never seen (nan)
    recall = np.exp2(-elapsed / half_life)
    return np.asarray(recall, dtype=np.float64)


def mastery_status(
    state: LearnerState, policy: MasteryPolicy, now: float | Float
) -> NDArray[np.int8]:
    """Status per student and competency (values of :class:`Status`); ``now`` is one time or
    one per student (a column)."""
    mastered = is_mastered(state, policy)
    recall = predicted_recall(state, policy, now)
    stuck = (state.attempts > 0) & (
        (state.no_progress >= policy.stuck_attempts)
        | ((state.hint_rate >= policy.stuck_hint_rate) & (state.attempts >= policy.min_evidence))
    )
    status = np.full(state.shape, Status.PRACTICING, dtype=np.int8)
    status[(state.attempts == 0) & (state.evidence == 0)] = Status.NOT_STARTED
    credited = (state.attempts == 0) & (state.evidence > 0)
    status[credited & (state.p_known >= policy.threshold)] = Status.LIKELY_KNOWN
    status[stuck & ~mastered] = Status.STUCK
    status[mastered] = Status.MASTERED
    status[mastered & (recall < policy.review_recall)] = Status.DUE_FOR_REVIEW
    return status


def apply_attempts(
    state: LearnerState,
    students: ArrayLike,
    competency: ArrayLike,
    correct: ArrayLike,
    *,
    now: float | ArrayLike,
    params: BKTParams,
    graph: CompetencyGraph,
    policy: MasteryPolicy,
    hints: ArrayLike = 0,
    kind: ArrayLike = "answer",
) -> LearnerState:
    """Apply one attempt for each listed student (at most one per student) and return the new state.

    ``kind`` (one of :data:`EVIDENCE_KINDS`, or one per attempt) says what the evidence is. An
    ``answer`` is as below. A ``placement`` answer is an observation without the learning step
    (a check, not practice: evidence, but no attempt of the competency's own, so never
    mastery). A ``worked_example`` is neither right nor wrong: the estimate moves
    by ``policy.worked_example_learning`` of the learning step only, it is no attempt of the
    competency's own (so never mastery), and it clears the stuck counters (the student studied
    the solution; what they do next is new evidence). ``correct`` is ignored for it.

    A hinted attempt counts as incorrect for knowledge tracing. The estimate moves with the
    evidence: a wrong answer lowers it and a right one raises it (Bayes' rule on the answer; the
    learning or forgetting step that follows is kept only where it goes the same way), within
    ``[P_MIN, P_MAX]``. A correct, unhinted attempt is also
    tempered evidence that its direct prerequisites are known: each receives the likelihood of
    a correct answer raised to ``policy.prereq_credit``, so advanced work raises their
    probability, up to the threshold at most (*likely known*), without making them mastered.
    Deeper prerequisites are credited through their own successors' evidence, not at a
    distance. A right answer on a likely known competency confirms knowledge from before and
    counts as a successful spaced review of it.
    """
    s = np.atleast_1d(np.asarray(students, dtype=np.int64))
    c = np.broadcast_to(np.asarray(competency, dtype=np.int64), s.shape)
    hinted = np.broadcast_to(np.asarray(hints, dtype=np.float64), s.shape) > 0
    ok = (np.broadcast_to(np.asarray(correct, dtype=np.float64), s.shape) > 0.5) & ~hinted
    t = np.broadcast_to(np.asarray(now, dtype=np.float64), s.shape)
    kinds = np.broadcast_to(np.asarray(kind, dtype=object), s.shape)
    unknown = set(kinds.tolist()) - set(EVIDENCE_KINDS)
    if unknown:
        raise ValueError(f"unknown kind of evidence {sorted(map(str, unknown))}: use one of "
                         f"{', '.join(EVIDENCE_KINDS)}")  # fmt: skip
    new = state.copy()
    if s.size == 0:
        return new
    if np.unique(s).size != s.size:
        raise ValueError("apply_attempts takes at most one attempt per student per call")
    studied = kinds == "worked_example"
    if studied.any():
        new = _study(new, s[studied], c[studied], t[studied], params, policy)
        keep = ~studied
        if not keep.any():
            return new
        state, s, c, hinted, ok, t, kinds = (
            new, s[keep], c[keep], hinted[keep], ok[keep], t[keep], kinds[keep]
        )  # fmt: skip
        new = state.copy()
    checked = kinds == "placement"

    was_mastered = is_mastered(state, policy)[s, c]
    # Likely known (credit, no attempt of its own): a right answer confirms knowledge from
    # before, and counts as a successful spaced review of it.
    was_likely = (
        (state.attempts[s, c] == 0)
        & (state.evidence[s, c] > 0)
        & (state.p_known[s, c] >= policy.thresholds(state.shape[1])[c])
    )
    spaced = (t - state.last_seen[s, c]) >= policy.review_spacing_days
    p_before = state.p_known[s, c]
    p_correct, p_after = bkt_update(
        p_before,
        ok,
        p_learn=params.p_learn[c],
        p_guess=params.p_guess[c],
        p_slip=params.p_slip[c],
        p_forget=params.p_forget[c],
    )
    slip = params.p_slip[c]
    posterior = np.where(ok, p_before * (1 - slip) / p_correct, p_before * slip / (1 - p_correct))
    p_after = np.where(checked, posterior, p_after)
    p_after = np.clip(
        np.where(ok, np.maximum(p_after, posterior), np.minimum(p_after, posterior)), P_MIN, P_MAX
    )
    new.p_known[s, c] = p_after
    new.evidence[s, c] += 1.0
    # A placement answer is evidence but no practice of the competency's own: what the check
    # finds stays likely known until the student's own work confirms it (never mastery).
    new.attempts[s, c] += ~checked
    progressed = p_after >= state.peak[s, c] + policy.progress_margin
    new.no_progress[s, c] = np.where(progressed, 0, state.no_progress[s, c] + 1)
    new.peak[s, c] = np.maximum(state.peak[s, c], p_after)
    a = policy.hint_memory
    new.hint_rate[s, c] = (1 - a) * state.hint_rate[s, c] + a * hinted
    new.last_seen[s, c] = t
    reviewed = was_mastered & spaced
    new.reviews[s, c] = np.where(
        was_likely & ok,
        state.reviews[s, c] + policy.confirmed_reviews,
        np.where(
            reviewed & ok,
            state.reviews[s, c] + 1,
            np.where(reviewed & ~ok, np.maximum(state.reviews[s, c] - 1, 0), state.reviews[s, c]),
        ),
    )

    credit_rows = np.nonzero(ok)[0]
    if credit_rows.size and policy.prereq_credit > 0:
        rs, rc = s[credit_rows], c[credit_rows]
        weight = policy.prereq_credit * graph.prereq[rc]
        p = new.p_known[rs]
        like_known = (1.0 - params.p_slip)[None, :] ** weight
        like_unknown = params.p_guess[None, :] ** weight
        posterior = np.clip(
            p * like_known / (p * like_known + (1 - p) * like_unknown), P_MIN, P_MAX
        )
        # Credit reaches the threshold at most: likely known, never past what one wrong answer
        # of its own would undo.
        cap = np.maximum(p, policy.thresholds(state.shape[1])[None, :])
        posterior = np.maximum(np.minimum(posterior, cap), p)
        new.p_known[rs] = posterior
        new.evidence[rs] += weight
        new.peak[rs] = np.maximum(new.peak[rs], posterior)
    new.mastered_once[s] |= is_mastered(new.rows(s), policy)
    return new


def _study(
    state: LearnerState,
    s: NDArray[np.int64],
    c: NDArray[np.int64],
    t: Float,
    params: BKTParams,
    policy: MasteryPolicy,
) -> LearnerState:
    """Worked examples studied (``state`` is already a copy and is changed in place)."""
    p = state.p_known[s, c]
    learned = (1 - p) * params.p_learn[c] * policy.worked_example_learning
    p_after = np.clip(p + learned, P_MIN, P_MAX)
    state.p_known[s, c] = p_after
    state.peak[s, c] = np.maximum(state.peak[s, c], p_after)
    state.no_progress[s, c] = 0
    state.hint_rate[s, c] = 0.0
    state.last_seen[s, c] = np.where(np.isnan(state.last_seen[s, c]), t, state.last_seen[s, c])
    return state


def replay_attempts(
    state: LearnerState,
    students: ArrayLike,
    competency: ArrayLike,
    correct: ArrayLike,
    *,
    now: ArrayLike,
    params: BKTParams,
    graph: CompetencyGraph,
    policy: MasteryPolicy,
    hints: ArrayLike = 0,
    kind: ArrayLike = "answer",
    on_round: Callable[[NDArray[np.int64], LearnerState, LearnerState], None] | None = None,
) -> LearnerState:
    """Apply many attempts, each student's in the order given, and return the final state.

    Vectorized in rounds: round *k* holds every student's *k*-th attempt, so one call to
    :func:`apply_attempts` serves all students at once. ``on_round(at, before, after)`` is told
    the positions of each round's attempts and the states around it.
    """
    s = np.asarray(students, dtype=np.int64)
    c = np.asarray(competency, dtype=np.int64)
    ok = np.broadcast_to(np.asarray(correct), s.shape)
    t = np.broadcast_to(np.asarray(now, dtype=np.float64), s.shape)
    h = np.broadcast_to(np.asarray(hints, dtype=np.int64), s.shape)
    k = np.broadcast_to(np.asarray(kind, dtype=object), s.shape)
    if s.size == 0:
        return state
    order = np.argsort(s, kind="stable")
    turn = np.empty_like(order)
    starts = np.r_[0, np.flatnonzero(np.diff(s[order])) + 1]
    counts = np.diff(np.r_[starts, order.size])
    turn[order] = np.arange(order.size) - np.repeat(starts, counts)
    by_round = np.argsort(turn, kind="stable")
    bounds = np.r_[0, np.flatnonzero(np.diff(turn[by_round])) + 1, s.size]
    for lo, hi in itertools.pairwise(bounds):
        at = by_round[lo:hi]
        after = apply_attempts(
            state, s[at], c[at], ok[at], now=t[at], params=params, graph=graph, policy=policy,
            hints=h[at], kind=k[at],
        )  # fmt: skip
        if on_round is not None:
            on_round(at, state, after)
        state = after
    return state
