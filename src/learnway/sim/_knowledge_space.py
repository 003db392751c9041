"""A second simulated world: a knowledge space with fringe learning, learning curves of the
additive-factor kind, and individual exponential forgetting with a spacing effect.

It differs from :mod:`learnway.sim._world` in each part, so that a planner tuned to one world
is seen in another:

- *Prior knowledge* is a downset of the prerequisite graph (a student knows a competency only
  with all its prerequisites), reached along the course with a wide, individual spread, and
  often *rusty*: learned long ago, with any amount of it faded.
- *Learning* is all or nothing per competency, with a hazard that rises with practice on an
  additive-factor curve, ``sigmoid(ability[s] - difficulty[c] + step * opportunities)``, and only
  on the *fringe*: while a prerequisite is not retrievable the hazard is a small fraction.
- *Memory* is exponential: recall ``2 ** (-elapsed / half_life)``, each student with a half-life
  of their own after learning, multiplied on spaced practice by more the more it had faded
  (the spacing effect), barely on massed practice.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from learnway.paths import CompetencyGraph

Float = NDArray[np.float64]


@dataclass(frozen=True)
class SpacePopulation:
    """How the students of the knowledge-space world are drawn (spreads are of the log or raw
    value)."""

    reach_max: float = 0.65
    reach_noise: float = 0.12
    rusty_share: float = 0.5
    ability_sd: float = 0.8
    difficulty_mean: float = 1.0
    difficulty_sd: float = 0.7
    opportunity_step: float = 0.35
    fringe_factor: float = 0.15
    fringe_recall: float = 0.6
    half_life_median: float = 4.0
    half_life_sd: float = 0.5
    spacing_gain: tuple[float, float] = (1.5, 4.0)
    massed_gain: float = 0.03
    prior_half_life: tuple[float, float] = (10.0, 60.0)
    slip: tuple[float, float] = (0.02, 0.12)
    guess: tuple[float, float] = (0.05, 0.25)
    hint_propensity: tuple[float, float] = (2.0, 5.0)
    minutes_per_step: float = 1.5
    speed_sd: float = 0.25
    wrong_learning: float = 0.6


@dataclass(frozen=True)
class SpaceStudents:
    """The hidden truth about students of the knowledge-space world (arrays updated in place).

    ``ease`` (the competencies' difficulty) belongs to the content; the rest to the students.
    """

    prior_level: Float
    learned: NDArray[np.bool_]
    half_life: Float
    last_practice: Float
    opportunities: Float
    ability: Float
    ease: Float
    slip: Float
    guess: Float
    hint_propensity: Float
    speed: Float
    own_half_life: Float
    spacing: Float
    population: SpacePopulation

    @property
    def n(self) -> int:
        return int(self.ability.size)

    def copy(self) -> SpaceStudents:
        return replace(
            self,
            **{
                f.name: getattr(self, f.name).copy()
                for f in fields(self)
                if isinstance(getattr(self, f.name), np.ndarray)
            },
        )

    def retrieval(
        self,
        now: float,
        rows: NDArray[np.int64] | None = None,
        competencies: NDArray[np.int64] | None = None,
    ) -> Float:
        """Probability of retrieving each competency now: recall if learned, 0 otherwise."""
        at: Any
        if competencies is None:
            at = slice(None) if rows is None else rows
        else:
            at = (rows, competencies)
        elapsed = np.clip(np.nan_to_num(now - self.last_practice[at], nan=0.0), 0.0, None)
        recall = np.exp2(-elapsed / self.half_life[at])
        return np.asarray(np.where(self.learned[at], recall, 0.0))

    def practise(
        self,
        rows: NDArray[np.int64],
        competency: NDArray[np.int64],
        now: float,
        graph: CompetencyGraph,
        rng: np.random.Generator,
        *,
        allow_hints: bool = True,
    ) -> tuple[NDArray[np.bool_], NDArray[np.int64], Float]:
        """One attempt for each listed student; returns ``(correct, hints_used, minutes)``."""
        pop = self.population
        r, c = rows, competency
        recall_all = self.retrieval(now, r)
        recall = recall_all[np.arange(r.size), c]
        p_right = self.guess[r] + (1 - self.guess[r] - self.slip[r]) * recall
        wants_hint = allow_hints & (rng.random(r.size) < self.hint_propensity[r] * (1 - p_right))
        hints = np.where(wants_hint, rng.integers(1, 4, r.size), 0)
        correct = (rng.random(r.size) < p_right) & ~wants_hint

        parents = graph.prereq[c]
        ready = ((recall_all < pop.fringe_recall) & parents).sum(axis=1) == 0
        logit = self.ability[r] - self.ease[c] + pop.opportunity_step * self.opportunities[r, c]
        hazard = 1 / (1 + np.exp(-logit))
        hazard = hazard * np.where(ready, 1.0, pop.fringe_factor)
        hazard = hazard * np.where(correct | wants_hint, 1.0, pop.wrong_learning)
        was = self.learned[r, c]
        learns = ~was & (rng.random(r.size) < hazard)
        gap = np.nan_to_num(now - self.last_practice[r, c], nan=0.0)
        faded = 1.0 - recall
        grown = np.where(
            gap >= 0.5,
            1.0 + self.spacing[r] * faded,
            1.0 + pop.massed_gain,
        )
        self.half_life[r, c] = np.where(
            learns, self.own_half_life[r], np.where(was, self.half_life[r, c] * grown, 1.0)
        )
        self.learned[r, c] = was | learns
        self.opportunities[r, c] += 1.0
        self.last_practice[r, c] = np.where(
            self.learned[r, c] | np.isfinite(self.last_practice[r, c]), now, np.nan
        )
        minutes = (
            pop.minutes_per_step
            * self.speed[r]
            * rng.lognormal(0.0, 0.3, r.size)
            * (1 + 0.5 * hints)
        )
        return correct, hints.astype(np.int64), minutes


def sample_space_students(
    graph: CompetencyGraph,
    n: int,
    rng: np.random.Generator,
    population: SpacePopulation | None = None,
    *,
    ease: Float | None = None,
) -> SpaceStudents:
    """Draw ``n`` students of the knowledge-space world. ``ease`` (each competency's difficulty)
    is the content's: pass another cohort's to give this one the same course."""
    pop = population or SpacePopulation()
    c = graph.n
    position = np.asarray((graph.rank + 0.5) / max(graph.n, 1))
    reach = rng.uniform(0.0, pop.reach_max, n)
    jitter = rng.normal(0.0, pop.reach_noise, (n, c))
    wanted = position[None, :] < reach[:, None] + jitter
    learned = np.zeros((n, c), dtype=bool)
    for j in graph.order:  # a downset: known only with every prerequisite known
        parents = graph.prereq[j]
        learned[:, j] = wanted[:, j] & learned[:, parents].all(axis=1)
    rusty = rng.random((n, c)) < pop.rusty_share
    lo, hi = pop.prior_half_life
    half_life = np.where(learned, rng.uniform(lo, hi, (n, c)), 1.0)
    # learned long ago: rusty ones were last used a half-life or two ago, the others lately
    age = np.where(rusty, rng.uniform(0.2, 2.0, (n, c)) * half_life, rng.uniform(0, 2, (n, c)))
    drawn_ease = rng.normal(pop.difficulty_mean, pop.difficulty_sd, c)
    if ease is not None and ease.shape != drawn_ease.shape:
        raise ValueError(f"ease has shape {ease.shape}, the course needs {drawn_ease.shape}")
    return SpaceStudents(
        prior_level=reach,
        learned=learned,
        half_life=half_life,
        last_practice=np.where(learned, -age, np.nan),
        opportunities=np.zeros((n, c)),
        ability=rng.normal(0.0, pop.ability_sd, n),
        ease=drawn_ease if ease is None else np.asarray(ease, dtype=np.float64).copy(),
        slip=rng.uniform(*pop.slip, n),
        guess=rng.uniform(*pop.guess, n),
        hint_propensity=rng.beta(*pop.hint_propensity, n),
        speed=rng.lognormal(0.0, pop.speed_sd, n),
        own_half_life=pop.half_life_median * rng.lognormal(0.0, pop.half_life_sd, n),
        spacing=rng.uniform(*pop.spacing_gain, n),
        population=pop,
    )
