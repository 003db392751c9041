"""The simulated world: students whose knowledge follows a logistic learning curve and a
forgetting curve, not knowledge tracing, so a BKT-based planner cannot win by assuming its own
world.

Each student ``s`` holds a strength ``x[s, c]`` (log-odds) per competency. Practice adds
``rate[s] * ease[c]`` times a prerequisite-readiness factor (learning is slow while the
prerequisites are not retrievable). Retrieval decays with the time since the last practice:
``x - decay[s] * log(1 + elapsed / stability)``, and spaced practice raises the stability.
An answer is correct with ``guess + (1 - guess - slip) * sigmoid(retrieval)``; students ask for
hints more when they are unlikely to succeed, and a hinted answer takes longer.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any, Union

import numpy as np
from numpy.typing import NDArray

from learnway.paths import CompetencyGraph

if TYPE_CHECKING:
    from learnway.sim._knowledge_space import SpaceStudents

Float = NDArray[np.float64]
KNOWN = 0.75  # a competency is truly known when the probability of retrieving it is this high


@dataclass(frozen=True)
class Population:
    """How heterogeneous the simulated students are (all spreads are of the log or raw value)."""

    prior_level_max: float = 0.6
    prior_noise: float = 0.05
    strength_known: float = 2.5
    strength_unknown: float = -3.0
    strength_sd: float = 0.7
    rate_mean: float = 1.0
    rate_sd: float = 0.45
    ease_sd: float = 0.3
    slip: tuple[float, float] = (0.03, 0.15)
    guess: tuple[float, float] = (0.05, 0.25)
    hint_propensity: tuple[float, float] = (2.0, 5.0)
    minutes_per_step: float = 1.5
    speed_sd: float = 0.25
    decay: tuple[float, float] = (0.8, 1.6)
    stability_new: float = 1.0
    stability_prior: float = 60.0
    spacing_gain: float = 1.2
    massed_gain: float = 0.1
    wrong_learning: float = 0.7
    hint_learning: float = 0.8
    readiness_floor: float = 0.25


@dataclass(frozen=True)
class Students:
    """The hidden truth about a batch of simulated students (mutable arrays, updated in place)."""

    prior_level: Float
    strength: Float
    stability: Float
    last_practice: Float
    rate: Float
    ease: Float
    slip: Float
    guess: Float
    hint_propensity: Float
    speed: Float
    decay: Float

    @property
    def n(self) -> int:
        return int(self.rate.size)

    def copy(self) -> Students:
        return replace(self, **{f.name: getattr(self, f.name).copy() for f in fields(self)})


Learners = Union[Students, "SpaceStudents"]
"""Simulated students of either world."""


def sample_students(
    graph: CompetencyGraph,
    n: int,
    rng: np.random.Generator,
    population: Population | None = None,
    *,
    ease: Float | None = None,
) -> Students:
    """Draw ``n`` students: a prior-knowledge level along the course (a share of it already
    known, with noise on both sides), learning rate, slip, guess, hint use, speed, forgetting.

    ``ease`` (how much a practice adds on each competency) belongs to the content: pass another
    cohort's ``Students.ease`` to give this one the same course. Without it, it is drawn."""
    pop = population or Population()
    c = graph.n
    level = rng.uniform(0.0, pop.prior_level_max, n)
    position = course_position(graph)
    flip = rng.random((n, c)) < pop.prior_noise
    known = (position[None, :] < level[:, None]) ^ flip
    strength = np.where(known, pop.strength_known, pop.strength_unknown)
    strength = strength + rng.normal(0.0, pop.strength_sd, (n, c))
    return Students(
        prior_level=level,
        strength=strength,
        stability=np.where(known, pop.stability_prior, pop.stability_new),
        last_practice=np.where(known, 0.0, np.nan),
        rate=pop.rate_mean * rng.lognormal(0.0, pop.rate_sd, n),
        # drawn even when given, so that the draws after it stay those of the seed
        ease=_given(ease, rng.lognormal(0.0, pop.ease_sd, c)),
        slip=rng.uniform(*pop.slip, n),
        guess=rng.uniform(*pop.guess, n),
        hint_propensity=rng.beta(*pop.hint_propensity, n),
        speed=rng.lognormal(0.0, pop.speed_sd, n),
        decay=rng.uniform(*pop.decay, n),
    )


def course_position(graph: CompetencyGraph) -> Float:
    """Each competency's place along the course order, in (0, 1): a student whose prior-knowledge
    level is above it knows it at the start (but for noise)."""
    return np.asarray((graph.rank + 0.5) / max(graph.n, 1))


def _given(value: Float | None, drawn: Float) -> Float:
    if value is None:
        return drawn
    if value.shape != drawn.shape:
        raise ValueError(f"ease has shape {value.shape}, the course needs {drawn.shape}")
    return np.asarray(value, dtype=np.float64).copy()


def retrieval(
    students: Students | SpaceStudents,
    now: float,
    rows: NDArray[np.int64] | None = None,
    competencies: NDArray[np.int64] | None = None,
) -> Float:
    """Probability that each competency is retrieved now (``sigmoid`` of decayed strength):
    a (rows, competencies) matrix, or with ``competencies`` (one per row) those pairs only.
    Students of another world (with a ``retrieval`` method of their own) answer for
    themselves."""
    if not isinstance(students, Students):
        return np.asarray(students.retrieval(now, rows, competencies))
    at: Any
    if competencies is None:
        at = slice(None) if rows is None else rows
        decay = students.decay[at, None]
    else:
        at = (rows, competencies)
        decay = students.decay[rows]
    elapsed = np.nan_to_num(now - students.last_practice[at], nan=0.0)
    logit = students.strength[at] - decay * np.log1p(
        np.clip(elapsed, 0.0, None) / students.stability[at]
    )
    return np.asarray(1.0 / (1.0 + np.exp(-logit)))


def practise(
    students: Students | SpaceStudents,
    rows: NDArray[np.int64],
    competency: NDArray[np.int64],
    now: float,
    graph: CompetencyGraph,
    rng: np.random.Generator,
    population: Population | None = None,
    *,
    allow_hints: bool = True,
) -> tuple[NDArray[np.bool_], NDArray[np.int64], Float]:
    """One attempt for each listed student on ``competency``, updating the truth in place.

    Returns ``(correct, hints_used, minutes)``; ``correct`` means right without hints.
    Students of another world practise by their own rules (``population`` is this world's).
    """
    if not isinstance(students, Students):
        return students.practise(rows, competency, now, graph, rng, allow_hints=allow_hints)
    pop = population or Population()
    r, c = rows, competency
    recall_all = retrieval(students, now, r)
    recall = recall_all[np.arange(r.size), c]
    p_right = students.guess[r] + (1 - students.guess[r] - students.slip[r]) * recall
    wants_hint = allow_hints & (rng.random(r.size) < students.hint_propensity[r] * (1 - p_right))
    hints = np.where(wants_hint, rng.integers(1, 4, r.size), 0)
    correct = (rng.random(r.size) < p_right) & ~wants_hint

    parents = graph.prereq[c]
    n_parents = parents.sum(axis=1)
    readiness = np.where(
        n_parents > 0, (recall_all * parents).sum(axis=1) / np.maximum(n_parents, 1), 1.0
    )
    factor = pop.readiness_floor + (1 - pop.readiness_floor) * readiness
    factor = factor * np.where(correct, 1.0, pop.wrong_learning)
    factor = factor * np.where(wants_hint, pop.hint_learning, 1.0)
    # Practice resets the forgetting clock (below) and adds strength.
    students.strength[r, c] += students.rate[r] * students.ease[c] * factor
    gap = np.nan_to_num(now - students.last_practice[r, c], nan=0.0)
    students.stability[r, c] += np.where(
        gap >= 0.5, pop.spacing_gain * np.minimum(gap, 30.0), pop.massed_gain
    )
    students.last_practice[r, c] = now
    minutes = (
        pop.minutes_per_step
        * students.speed[r]
        * rng.lognormal(0.0, 0.3, r.size)
        * (1 + 0.5 * hints)
    )
    return correct, hints.astype(np.int64), minutes
