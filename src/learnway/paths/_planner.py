"""The planner: frontier, scores and a short ranked list of next activities with reasons."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from learnway.paths._calendar import SchoolCalendar
from learnway.paths._graph import CompetencyGraph, StepBank
from learnway.paths._mastery import (
    BKTParams,
    LearnerState,
    MasteryPolicy,
    Status,
    is_durable,
    is_mastered,
    mastery_status,
    predicted_recall,
)
from learnway.paths._reasons import (
    Activity,
    Reason,
    Recommendation,
    go_back_reason,
    goal_reason,
    unlocks_reason,
)

Float = NDArray[np.float64]
Bool = NDArray[np.bool_]


@dataclass(frozen=True)
class PlannerConfig:
    """Weights of the planner's score and the shape of its list.

    The score of a new competency is, per expected minute of its steps, the expected gain in
    probability of mastery (``w_gain``, normalized by the largest learning rate) plus the chance
    that the next attempt completes mastery (``w_complete``), continuing work already started
    (``w_continue``), the required competencies it unlocks (``w_unlock``, on a log scale),
    alignment with goals and interests (``w_goal``, ``w_interest``) and deadline urgency for
    required standards (``w_urgency``). Due reviews score ``w_review`` plus how far recall has
    fallen. In the last ``consolidate_days`` before a deadline, every mastered competency whose
    predicted recall is under ``consolidate_recall`` is due too (what is known at the deadline
    is what counts). ``review=False`` turns spaced review off (for comparisons).

    Review is bounded by its value against new work: a due review scores ``w_review`` times
    the chance it has been forgotten over the chance at the review target (so it outranks new
    work only once it has faded past the target); with ``w_confirm`` above 0, mastery not yet
    confirmed on a later day is due as a review scoring ``w_confirm`` once a session has
    passed (off by default: in the simulated worlds a confirming review of everything just
    mastered cost more attempts than it saved). While a prerequisite is mastered but not yet
    durable (see :func:`learnway.paths.is_durable`), its successors' scores are multiplied by
    ``not_durable_factor``: other new work comes first, so the confirmation comes with time
    and practice elsewhere, and nothing is blocked for good.

    A *likely known* competency (credit from placement or advanced work, no answer of its own)
    is a quick check (reason ``quick_check``): one answer confirms it or takes it back, so it
    scores at least ``w_check`` (as much as a review faded three times past its target) and
    comes before new work and most reviews. Until it is checked it is not durable, so the work
    that builds on it waits: patchy prior knowledge is caught before anything is built on it.
    """

    n_recommendations: int = 5
    min_recommendations: int = 3
    max_review: int = 2
    review: bool = True
    w_gain: float = 1.0
    w_complete: float = 1.0
    w_continue: float = 0.3
    w_unlock: float = 0.1
    w_goal: float = 0.5
    w_interest: float = 0.2
    w_urgency: float = 0.5
    w_review: float = 1.0
    w_confirm: float = 0.0
    w_check: float = 3.0
    not_durable_factor: float = 0.2
    consolidate_days: float = 4.0
    consolidate_recall: float = 0.8
    stuck_penalty: float = 0.3
    go_back_bonus: float = 1.0
    minutes_per_day: float = 30.0
    attempts_per_competency: float = 4.0
    reference_minutes: float = 1.5

    def __post_init__(self) -> None:
        if not 1 <= self.n_recommendations <= 20:
            raise ValueError("n_recommendations must lie in [1, 20]")
        if self.max_review < 0 or self.minutes_per_day <= 0:
            raise ValueError("max_review >= 0 and minutes_per_day > 0")
        if self.consolidate_days < 0 or not 0 < self.consolidate_recall <= 1:
            raise ValueError("consolidate_days >= 0 and consolidate_recall in (0, 1]")

    def with_settings(self, settings: Mapping[str, object]) -> PlannerConfig:
        """This configuration with an experiment condition's settings applied (for example
        ``{"review": False}`` or ``{"max_review": 1}``); an unknown name or a value of another
        type is refused with a ValueError naming it."""
        changes: dict[str, object] = {}
        for name, value in settings.items():
            if name not in self.__dataclass_fields__:
                raise ValueError(f"planner setting {name!r} does not exist")
            current = getattr(self, name)
            if isinstance(current, bool) != isinstance(value, bool) or not isinstance(
                value, int | float
            ):
                raise ValueError(f"planner setting {name!r} must be like {current!r}")
            changes[name] = type(current)(value)
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Scores:
    """The planner's view of a batch of students, shaped ``(students, competencies)``.

    ``new`` and ``review`` are ``-inf`` where a competency is not a candidate;
    ``go_back_from[s, j]`` is the stuck competency that sends student ``s`` back to ``j``
    (-1 otherwise); ``urgency[s]`` is needed time over available time before the deadline.
    """

    status: NDArray[np.int8]
    recall: Float
    new: Float
    review: Float
    go_back_from: NDArray[np.int64]
    goal_related: Bool
    interest: Float
    unlocks: Float
    urgency: Float


class Planner:
    """Next-activity planner over one course: a graph, its steps and knowledge-tracing parameters.

    Construction precomputes the graph matrices; every method is then a pure function of the
    state arrays passed in.
    """

    def __init__(
        self,
        graph: CompetencyGraph,
        bank: StepBank,
        params: BKTParams,
        *,
        policy: MasteryPolicy | None = None,
        config: PlannerConfig | None = None,
        required: Bool | None = None,
        calendar: SchoolCalendar | None = None,
    ) -> None:
        self.graph = graph
        self.calendar = calendar
        self.bank = bank
        self.params = params
        self.policy = policy or MasteryPolicy()
        self.config = config or PlannerConfig()
        n = graph.n
        if params.p_init.shape != (n,) or bank.count.shape != (n,):
            raise ValueError("graph, bank and params must describe the same competencies")
        self.required = np.ones(n, dtype=bool) if required is None else np.asarray(required, bool)
        self._prereq_t = graph.prereq.T.astype(np.float32)
        self._ancestors = graph.ancestors.astype(np.float32)
        self._minutes = bank.minutes_per_competency(self.config.reference_minutes)
        self._thr = self.policy.thresholds(n)
        self._rank_tiebreak = 1e-3 * graph.rank / max(n, 1)

    # -- scores --------------------------------------------------------------------------

    def scores(
        self,
        state: LearnerState,
        now: float,
        *,
        goals: Bool | None = None,
        interests: Float | None = None,
        deadline: float | None = None,
    ) -> Scores:
        """Score every competency for every student in ``state`` (vectorized)."""
        cfg, pol, prm = self.config, self.policy, self.params
        p = state.p_known
        n_students, n = state.shape
        status = mastery_status(state, pol, now)
        recall = predicted_recall(state, pol, now)
        # What the student has settled for the planner: mastered, or likely known (on credit
        # from placement or advanced work; shown as such, never as mastered).
        likely = status == Status.LIKELY_KNOWN
        mastered = is_mastered(state, pol) | likely
        not_ready = (p < pol.ready_fraction * self._thr).astype(np.float32)
        blocked = (not_ready @ self._prereq_t) > 0
        # Likely known is checked by one answer of its own (a quick check that confirms it or
        # takes it back), scored as new work that completes mastery; until then, like mastery
        # not yet confirmed on a later day, the work that builds on it waits.
        check = likely & ~blocked
        candidate = ~mastered & ~blocked
        durable = is_durable(state, pol)
        fresh = (mastered & ~durable).astype(np.float32)
        waits = (fresh @ self._prereq_t) > 0  # a prerequisite not yet confirmed

        p_correct = p * (1 - prm.p_slip) + (1 - p) * prm.p_guess
        post_right = p * (1 - prm.p_slip) / p_correct
        after_right = post_right * (1 - prm.p_forget) + (1 - post_right) * prm.p_learn
        completes = (after_right >= self._thr) & (state.evidence + 1 >= pol.min_evidence)
        gain = (1 - p) * prm.p_learn - p * prm.p_forget
        gain = gain / max(float(prm.p_learn.max()), 1e-9)

        open_required = (~mastered & self.required[None, :]).astype(np.float32)
        unlocks = (open_required @ self._ancestors).astype(np.float64)
        goal_related = np.zeros((n_students, n), dtype=bool)
        if goals is not None:
            g = np.asarray(goals, dtype=bool).reshape(n_students, n)
            goal_related = g | ((g.astype(np.float32) @ self._ancestors) > 0)
        interest = np.zeros((n_students, n))
        if interests is not None:
            interest = np.broadcast_to(np.asarray(interests, dtype=np.float64), (n_students, n))
        urgency = np.zeros(n_students)
        if deadline is not None:
            need = open_required @ (self._minutes * cfg.attempts_per_competency)
            days = deadline - now
            if self.calendar is not None:
                days = float(self.calendar.school_days_between(now, deadline))
            available = max(days, 0.0) * cfg.minutes_per_day
            urgency = np.clip(need / max(available, 1e-9), 0.0, 2.0)

        value = (
            cfg.w_gain * gain
            + cfg.w_complete * p_correct * completes
            + cfg.w_continue * (state.attempts > 0)
            + cfg.w_unlock * np.log1p(unlocks)
            + cfg.w_goal * goal_related
            + cfg.w_interest * interest
            + cfg.w_urgency * urgency[:, None] * self.required[None, :]
        ) * (cfg.reference_minutes / self._minutes) - self._rank_tiebreak
        stuck = (status == Status.STUCK) & candidate
        value = np.where(stuck, value * cfg.stuck_penalty, value)
        value = np.where(waits & ~check, value * cfg.not_durable_factor, value)
        value = np.where(check, np.maximum(value, cfg.w_check), value)
        new = np.where(candidate | check, value, -np.inf)

        go_back_from = np.full((n_students, n), -1, dtype=np.int64)
        stuck_s, stuck_c = np.nonzero(stuck)
        if stuck_s.size:
            weak = self.graph.ancestors[stuck_c] & candidate[stuck_s]
            target = np.argmax(np.where(weak, self.graph.rank[None, :], -1), axis=1)
            boosted = value[stuck_s, stuck_c] / cfg.stuck_penalty + cfg.go_back_bonus
            keep = weak.any(axis=1) & (boosted > new[stuck_s, target])
            order = np.argsort(boosted[keep], kind="stable")  # the largest boost is written last
            ks, kc, kt = stuck_s[keep][order], stuck_c[keep][order], target[keep][order]
            new[ks, kt] = boosted[keep][order]
            go_back_from[ks, kt] = kc

        review = np.full((n_students, n), -np.inf)
        if cfg.review:
            due = status == Status.DUE_FOR_REVIEW
            level = pol.review_recall
            left = None if deadline is None else deadline - now
            if deadline is not None and self.calendar is not None and now <= deadline:
                # School days left; past the deadline (which the count clips to 0) there is
                # nothing to consolidate for.
                left = float(self.calendar.school_days_between(now, deadline))
            if left is not None and 0 <= left <= cfg.consolidate_days:
                level = max(level, cfg.consolidate_recall)
                due = due | (mastered & (recall < level))
            faded = np.clip((1.0 - recall) / (1.0 - level), 0.0, 3.0)
            review = np.where(due, cfg.w_review * faded, -np.inf)
            confirm = (
                mastered & ~durable & is_mastered(state, pol)
                & (now - np.nan_to_num(state.last_seen, nan=now) >= pol.review_spacing_days)
            )  # fmt: skip
            if cfg.w_confirm > 0:
                review = np.where(confirm, np.maximum(review, cfg.w_confirm), review)
        return Scores(
            status, recall, new, review, go_back_from, goal_related, interest, unlocks, urgency
        )

    def next_competencies(
        self, state: LearnerState, now: float, **context: object
    ) -> tuple[NDArray[np.int64], Bool]:
        """The top recommendation of every student: competency index (-1: nothing left) and
        whether it is a review. The same choice that heads :meth:`recommend`'s list."""
        sc = self.scores(state, now, **context)  # type: ignore[arg-type]
        best_new = np.argmax(sc.new, axis=1)
        best_rev = np.argmax(sc.review, axis=1)
        rows = np.arange(sc.new.shape[0])
        v_new, v_rev = sc.new[rows, best_new], sc.review[rows, best_rev]
        is_review = v_rev > v_new
        choice = np.where(is_review, best_rev, best_new)
        idle = ~np.isfinite(np.maximum(v_new, v_rev))
        if idle.any():  # the required work is done: review what has faded the most
            choice[idle] = np.argmin(self._settled_recall(state, sc)[idle], axis=1)
            is_review = is_review | idle
        return choice.astype(np.int64), is_review

    def _settled_recall(self, state: LearnerState, sc: Scores) -> Float:
        """Predicted recall where the student has worked or been credited, 2 elsewhere."""
        seen = (state.attempts > 0) | (state.evidence > 0)
        return np.where(seen, sc.recall, 2.0)

    # -- ranked lists with reasons ---------------------------------------------------------

    def recommend(
        self,
        state: LearnerState,
        now: float,
        *,
        student: int = 0,
        goals: Iterable[str] = (),
        interests: dict[str, float] | None = None,
        deadline: float | None = None,
        origin: dt.date | None = None,
    ) -> list[Recommendation]:
        """A short ranked list of next activities for one student of ``state``, with reasons.

        ``goals`` are competency codes; ``interests`` maps codes to weights in [0, 1];
        ``deadline`` is on the same day clock as ``now``; ``origin`` (the date of day 0)
        lets the reasons name dates.
        """
        row = state.rows([student])
        g = self.mask(goals)[None, :]
        interest = None
        if interests:
            interest = np.zeros((1, self.graph.n))
            for code, weight in interests.items():
                interest[0, self.graph.index[code]] = weight
        sc = self.scores(row, now, goals=g, interests=interest, deadline=deadline)
        return self._ranked(row, sc, 0, now, g[0], deadline, origin)

    def recommend_section(
        self,
        state: LearnerState,
        now: float,
        *,
        goals: Bool | None = None,
        deadline: float | None = None,
        origin: dt.date | None = None,
    ) -> list[list[Recommendation]]:
        """Ranked lists for every student in ``state``, scored in one vectorized pass."""
        sc = self.scores(state, now, goals=goals, deadline=deadline)
        n_students = state.shape[0]
        g = np.zeros((n_students, self.graph.n), bool) if goals is None else np.asarray(goals)
        return [self._ranked(state, sc, s, now, g[s], deadline, origin) for s in range(n_students)]

    def mask(self, codes: Iterable[str]) -> Bool:
        """A boolean row over the competencies, true at ``codes``."""
        out = np.zeros(self.graph.n, dtype=bool)
        for code in codes:
            out[self.graph.index[code]] = True
        return out

    def _ranked(
        self,
        state: LearnerState,
        sc: Scores,
        s: int,
        now: float,
        goals: Bool,
        deadline: float | None,
        origin: dt.date | None,
    ) -> list[Recommendation]:
        cfg = self.config
        k = cfg.n_recommendations
        new_row, rev_row = sc.new[s], sc.review[s]
        new_top = _top(new_row, k)
        rev_top = _top(rev_row, min(cfg.max_review, k))
        # Merge by score, never two reviews in a row while new work is left.
        queue_new = list(new_top)
        queue_rev = list(rev_top)
        picked: list[tuple[int, bool]] = []
        while len(picked) < k and (queue_new or queue_rev):
            last_review = bool(picked) and picked[-1][1]
            take_review = bool(queue_rev) and (
                not queue_new or (rev_row[queue_rev[0]] > new_row[queue_new[0]] and not last_review)
            )
            if take_review:
                picked.append((queue_rev.pop(0), True))
            else:
                picked.append((queue_new.pop(0), False))
        done = not picked
        if done:  # nothing new and nothing due: keep the most faded fresh, never an empty list
            recall = self._settled_recall(state, sc)[s]
            picked = [(int(c), True) for c in np.argsort(recall, kind="stable")[:k]]
        out = [
            self._explain(state, sc, s, c, rev, now, goals, deadline, origin, 0, done=done)
            for c, rev in picked
        ]
        # Too few candidates: offer other steps of the same competencies, so there is a choice.
        alternatives = [(c, rev) for c, rev in picked if self.bank.count[c] > 1]
        extra = 1
        while len(out) < cfg.min_recommendations and alternatives and extra < 4:
            for c, rev in alternatives:
                if len(out) < cfg.min_recommendations and extra < self.bank.count[c]:
                    out.append(
                        self._explain(state, sc, s, c, rev, now, goals, deadline, origin, extra)
                    )
            extra += 1
        return out

    def _explain(
        self,
        state: LearnerState,
        sc: Scores,
        s: int,
        c: int,
        review: bool,
        now: float,
        goals: Bool,
        deadline: float | None,
        origin: dt.date | None,
        offset: int,
        *,
        done: bool = False,
    ) -> Recommendation:
        g = self.graph
        code = g.codes[c]
        turn = state.attempts[s, c] + offset
        step = int(self.bank.pick(np.array([c]), np.array([turn]))[0])
        reasons: list[Reason] = []
        if review:
            days = float(np.nan_to_num(now - state.last_seen[s, c], nan=0.0))
            reasons.append(
                Reason(
                    "required_done" if done else "review_due",
                    {
                        "competency": code,
                        "days_ago": round(days),
                        "recall": round(float(sc.recall[s, c]), 3),
                    },
                )
            )
            kind = "review"
            score = float(sc.review[s, c])
        else:
            score = float(sc.new[s, c])
            kind = "step"
            stuck_on = int(sc.go_back_from[s, c])
            if stuck_on >= 0:
                reasons.append(go_back_reason(g, c, stuck_on))
            elif sc.status[s, c] == Status.STUCK:
                reasons.append(Reason("stuck_worked_example", {"competency": code}))
                kind = "worked_example"
            elif sc.status[s, c] == Status.LIKELY_KNOWN:
                reasons.append(Reason("quick_check", {"competency": code}))
            if goals[c]:
                reasons.append(Reason("goal", {"competency": code, "goal": code}))
            elif sc.goal_related[s, c]:
                toward = goal_reason(g, c, goals)
                if toward is not None:
                    reasons.append(toward)
            if sc.interest[s, c] > 0:
                reasons.append(
                    Reason("interest", {"competency": code, "weight": float(sc.interest[s, c])})
                )
            if deadline is not None and self.required[c] and sc.urgency[s] >= 0.5:
                when = _date_text(deadline, origin)
                reasons.append(
                    Reason(
                        "deadline",
                        {
                            "competency": code,
                            "deadline": when,
                            "urgency": round(float(sc.urgency[s]), 2),
                        },
                    )
                )
            p = float(state.p_known[s, c])
            if state.attempts[s, c] > 0 and p >= 0.5:
                reasons.append(Reason("almost_mastered", {"competency": code, "p_known": p}))
            settled = np.isin(sc.status[s], (Status.MASTERED, Status.LIKELY_KNOWN))
            opens = unlocks_reason(g, c, self.required & ~settled)
            if opens is not None:
                reasons.append(opens)
            done_kinds = (Status.MASTERED, Status.DUE_FOR_REVIEW, Status.LIKELY_KNOWN)
            if not self.required[c] and np.isin(sc.status[s][self.required], done_kinds).all():
                reasons.append(Reason("enrichment", {"competency": code}))
            if not reasons:
                reasons.append(Reason("frontier", {"competency": code}))
        if step < 0:
            activity = Activity("lesson", code)
        else:
            activity = Activity(kind, self.bank.keys[step], self.bank.items[step])  # type: ignore[arg-type]
        return Recommendation(code, activity, score, tuple(reasons))


def _top(row: Float, k: int) -> list[int]:
    finite = np.nonzero(np.isfinite(row))[0]
    if finite.size == 0 or k <= 0:
        return []
    order = finite[np.argsort(-row[finite], kind="stable")]
    return [int(i) for i in order[:k]]


def _date_text(day: float, origin: dt.date | None) -> str:
    if origin is None:
        return f"day {day:g}"
    return (origin + dt.timedelta(days=float(day))).strftime("%b %-d")


def goal_mask(graph: CompetencyGraph, goals: Sequence[Iterable[str]]) -> Bool:
    """Goals per student (lists of codes) as a boolean ``(students, competencies)`` array."""
    out = np.zeros((len(goals), graph.n), dtype=bool)
    for s, codes in enumerate(goals):
        for code in codes:
            out[s, graph.index[code]] = True
    return out
