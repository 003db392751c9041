"""Diagnostic policies for the benchmark: the planner given one piece of the simulator's truth.

They are not teaching policies (a school has no truth to give); they locate the planner's gap to
the oracle: how much of it closes with a perfect starting state (instead of the placement check),
with reviews timed on the true forgetting curve (instead of the planner's predicted recall), with
the true knowledge state before every choice (instead of the learner model's estimate), or with
the simulator's own model in place of BKT (the state still estimated from the answers).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtri

from learnway.paths import Placement, Planner
from learnway.sim._policies import Ints, PlannerPolicy
from learnway.sim._world import KNOWN, Population, Students, course_position, retrieval

NOT_KNOWN = 0.3  # the highest p_known the true-state planner leaves on what is not known
STRENGTH_GRID = np.linspace(-6.0, 6.0, 97)  # starting strengths the own-model planner weighs
LOGIT_KNOWN = float(np.log(KNOWN / (1 - KNOWN)))
# The simulator's per-student parameters the own-model planner may be given (``individual``).
STUDENT_PARAMETERS = ("rate", "slip", "guess", "hint_propensity", "decay")


class TrueStartPlanner(PlannerPolicy):
    """The planner starting from the true knowledge state: what the student truly knows at the
    start counts as mastered with the minimum evidence, and no placement check is asked."""

    def __init__(self, planner: Planner, *, deadline: float | None = None) -> None:
        super().__init__(planner, name="planner, true starting state", deadline=deadline)

    def start(self, students: Students, now: float) -> None:  # type: ignore[override]
        super().start(students, now)
        known = retrieval(students, now) >= KNOWN
        state, policy = self.state, self.planner.policy
        p = np.maximum(policy.thresholds(self.planner.graph.n), 0.95)
        state.p_known[known] = np.broadcast_to(p, known.shape)[known]
        state.peak[known] = state.p_known[known]
        state.evidence[known] = policy.min_evidence
        state.attempts[known] = np.maximum(state.attempts[known], int(np.ceil(policy.min_evidence)))
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

    def start(self, students: Students, now: float) -> None:  # type: ignore[override]
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

    def start(self, students: Students, now: float) -> None:  # type: ignore[override]
        super().start(students, now)
        self.truth = students

    def choose(self, rows: Ints, now: float) -> Ints:
        assert self.truth is not None
        known = retrieval(self.truth, now, rows) >= KNOWN
        high = np.maximum(self.planner.policy.thresholds(self.planner.graph.n), 0.99)
        p_known = np.where(known, high, np.minimum(self.state.p_known[rows], NOT_KNOWN))
        _tell(self, rows, p_known, known)
        return super().choose(rows, now)


class OwnModelPlanner(PlannerPolicy):
    """The planner on the exact posterior of the simulator's own model instead of BKT.

    The student's starting strength on each competency is unknown: a prior (the population's
    mixture of known and unknown at the student's true prior-knowledge level) on a grid, updated
    by the likelihood of every answer (right, hinted, or wrong). Everything else is the
    simulator's: the strength each attempt adds (read from the truth and rescaled to the
    model's learning rate, so the prerequisites' readiness is given too) and the forgetting
    curve. The parameters named in ``individual`` (of :data:`STUDENT_PARAMETERS`: learning
    rate, slip, guess, hint use, forgetting) are each student's true ones, the others the
    population's averages; with ``infer_rate`` (and the rate not given) each student's learning
    rate is inferred from their answers too, on a grid of ``rate_points`` quantiles of the
    population's. Before every choice ``p_known`` is the posterior probability that the
    competency is known now, and a competency at the threshold counts as mastered without
    further evidence; the planner's rules choose as usual. An upper limit for a learner model
    of the simulator's family, not a teaching policy.
    """

    def __init__(
        self,
        planner: Planner,
        *,
        individual: tuple[str, ...] = (),
        infer_rate: bool = False,
        rate_points: int = 9,
        deadline: float | None = None,
        population: Population | None = None,
    ) -> None:
        unknown = set(individual) - set(STUDENT_PARAMETERS)
        if unknown:
            raise ValueError(f"not a student parameter: {sorted(unknown)}")
        self.infer_rate = infer_rate and "rate" not in individual
        if set(individual) == set(STUDENT_PARAMETERS):
            which = "each student's parameters"
        elif self.infer_rate:
            which = "each student's learning rate inferred from the answers"
        else:
            which = "the population's parameters"
        super().__init__(planner, name=f"planner, simulator's model, {which}", deadline=deadline)
        self.individual = individual
        self.rate_points = rate_points
        self.population = pop = population or Population()
        self.means = {  # the population's average of each parameter not given per student
            "slip": sum(pop.slip) / 2,  # uniform
            "guess": sum(pop.guess) / 2,
            "hint_propensity": pop.hint_propensity[0] / sum(pop.hint_propensity),  # beta
            "decay": sum(pop.decay) / 2,
        }
        self.truth: Students | None = None
        self.start_strength = np.zeros((0, 0))
        self.rates = np.zeros((0, 1))  # (students, rate hypotheses)
        self.log_weight = np.zeros((0, 1))  # log posterior weight of each hypothesis
        # the posterior over starting strengths, kept as its upper tail (see _tail)
        self.strength_tail = np.zeros((0, 0, 1, STRENGTH_GRID.size + 1))
        self.pending: tuple[Ints, Ints, NDArray[np.float64]] | None = None

    def start(self, students: Students, now: float) -> None:  # type: ignore[override]
        super().start(students, now)
        pop, graph = self.population, self.planner.graph
        self.truth = students
        self.start_strength = students.strength.copy()
        if "rate" in self.individual:
            self.rates = students.rate[:, None].copy()
        elif self.infer_rate:
            quantiles = (np.arange(self.rate_points) + 0.5) / self.rate_points
            grid = pop.rate_mean * np.exp(pop.rate_sd * ndtri(quantiles))
            self.rates = np.tile(grid, (students.n, 1))
        else:
            self.rates = np.full((students.n, 1), pop.rate_mean * np.exp(pop.rate_sd**2 / 2))
        self.log_weight = np.zeros(self.rates.shape)
        position = course_position(graph)
        known = np.where(
            position[None, :] < students.prior_level[:, None],
            1 - pop.prior_noise,
            pop.prior_noise,
        )[:, :, None]

        def density(mean: float) -> NDArray[np.float64]:
            d = np.exp(-0.5 * ((STRENGTH_GRID - mean) / pop.strength_sd) ** 2)
            return np.asarray(d / d.sum())

        prior = known * density(pop.strength_known) + (1 - known) * density(pop.strength_unknown)
        tail = _tail(prior)[:, :, None, :]
        self.strength_tail = np.repeat(tail, self.rates.shape[1], axis=2)

    def _model(self, name: str, rows: Ints) -> NDArray[np.float64]:
        """One of the student's parameters (not the rate), or the population's average."""
        assert self.truth is not None
        value = getattr(self.truth, name)[rows]
        if name in self.individual:
            return np.asarray(value)
        return np.full(value.shape, self.means[name])

    def _offset(self, rows: Ints, now: float, comp: Ints | None = None) -> NDArray[np.float64]:
        """Strength added since the start, less what is forgotten now, under each rate
        hypothesis: retrieval is ``sigmoid(starting strength + offset)``. Shaped (rows,
        competencies, rates), or (rows, rates) for one competency per row."""
        assert self.truth is not None
        t = self.truth
        at = (rows, comp) if comp is not None else rows
        gained = t.strength[at] - self.start_strength[at]
        elapsed = np.clip(np.nan_to_num(now - t.last_practice[at], nan=0.0), 0.0, None)
        decay = self._model("decay", rows)
        forgotten = (decay if comp is not None else decay[:, None]) * np.log1p(
            elapsed / t.stability[at]
        )
        scale = self.rates[rows] / t.rate[rows, None]
        if comp is None:
            return np.asarray(gained[:, :, None] * scale[:, None, :] - forgotten[:, :, None])
        return np.asarray(gained[:, None] * scale - forgotten[:, None])

    def known_probability(self, rows: Ints, now: float) -> NDArray[np.float64]:
        """Posterior probability that each competency is known now: (rows, competencies)."""
        index = np.searchsorted(STRENGTH_GRID, LOGIT_KNOWN - self._offset(rows, now))
        known = np.take_along_axis(self.strength_tail[rows], index[..., None], axis=3)[..., 0]
        return np.asarray((known * self._weights(rows)[:, None, :]).sum(axis=2))

    def learning_rate(self) -> NDArray[np.float64]:
        """Each student's learning rate under the model: the posterior mean where inferred."""
        return np.asarray((self._weights(slice(None)) * self.rates).sum(axis=1))

    def _weights(self, rows: Ints | slice) -> NDArray[np.float64]:
        """Posterior probability of each rate hypothesis: (rows, rates)."""
        log_weight = self.log_weight[rows]
        weight = np.exp(log_weight - log_weight.max(axis=1, keepdims=True))
        return np.asarray(weight / weight.sum(axis=1, keepdims=True))

    def choose(self, rows: Ints, now: float) -> Ints:
        p_known = self.known_probability(rows, now)
        _tell(self, rows, p_known, p_known >= self.planner.policy.thresholds(self.planner.graph.n))
        chosen = super().choose(rows, now)
        self.pending = (rows, chosen, self._offset(rows, now, chosen))
        return chosen

    def observe(
        self, rows: Ints, competency: Ints, correct: NDArray[np.bool_], hints: Ints, now: float
    ) -> None:
        super().observe(rows, competency, correct, hints, now)
        assert self.pending is not None
        r, c, offset = self.pending
        recall = 1.0 / (1.0 + np.exp(-(STRENGTH_GRID[None, None, :] + offset[:, :, None])))
        guess, slip = self._model("guess", r)[:, None, None], self._model("slip", r)[:, None, None]
        hint_use = self._model("hint_propensity", r)[:, None, None]
        right = guess + (1 - guess - slip) * recall
        asks = hint_use * (1 - right)
        likelihood = np.where(
            correct[:, None, None],
            (1 - asks) * right,
            np.where(hints[:, None, None] > 0, asks, (1 - asks) * (1 - right)),
        )
        post = -np.diff(self.strength_tail[r, c], axis=2) * likelihood
        evidence = post.sum(axis=2)
        self.log_weight[r] += np.log(evidence)
        self.strength_tail[r, c] = _tail(post / evidence[:, :, None])


def _tell(
    planner: PlannerPolicy, rows: Ints, p_known: NDArray[np.float64], mastered: NDArray[np.bool_]
) -> None:
    """Overwrite the planner's belief about ``rows``: their ``p_known``, and the minimum evidence
    (as the competency's own) where ``mastered`` (so the threshold alone decides)."""
    state, policy = planner.state, planner.planner.policy
    state.p_known[rows] = p_known
    evidence, attempts = state.evidence[rows], state.attempts[rows]
    state.evidence[rows] = np.where(mastered, np.maximum(evidence, policy.min_evidence), evidence)
    least = int(np.ceil(policy.min_evidence))
    state.attempts[rows] = np.where(mastered, np.maximum(attempts, least), attempts)
    state.peak[rows] = np.maximum(state.peak[rows], p_known)
    state.mastered_once[rows] |= mastered


def _tail(posterior: NDArray[np.float64]) -> NDArray[np.float64]:
    """``tail[..., k]``: posterior mass at grid points ``k`` and above (``tail[..., -1] = 0``)."""
    upper = np.cumsum(posterior[..., ::-1], axis=-1)[..., ::-1]
    return np.concatenate([upper, np.zeros((*upper.shape[:-1], 1))], axis=-1)
