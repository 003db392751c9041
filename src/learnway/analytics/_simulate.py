"""Simulated schools where the truth is known, to validate the analyses.

Three thin simulators, each a few vectorized numpy steps:

- :func:`simulate_experiment`: students in sections learn at a rate (log-normal, with a
  section effect), practise for some hours, and master competencies as a Poisson count of
  rate x hours; a condition adds ``effect`` to the learning rate (competencies per hour), so
  the true effect on the outcome, mastery gained per hour of practice, is ``effect`` itself;
  some students leave before the outcome (attrition).
- :func:`simulate_supports`: a weekly panel of competencies mastered, with individual growth
  rates, section-wide weekly shocks (a holiday, a test week), and supports started more often
  by students who grow slowly; after the start, growth rises by ``effect`` per week.
- :func:`simulate_practice`: attempts on a course's items under knowledge tracing, where each
  item has its own learning value (the chance one use teaches an unknown competency).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Float = NDArray[np.float64]
Int = NDArray[np.int64]


@dataclass(frozen=True)
class School:
    """The shape of a simulated school for an experiment."""

    schools: int = 4
    sections_per_school: int = 12
    students_per_section: int = 25
    rate_log_mean: float = np.log(0.5)
    rate_section_sd: float = 0.25
    rate_student_sd: float = 0.45
    hours_mean: float = 12.0
    hours_shape: float = 4.0
    attrition: float = 0.05

    @property
    def sections(self) -> int:
        return self.schools * self.sections_per_school

    @property
    def students(self) -> int:
        return self.sections * self.students_per_section

    @property
    def mean_rate(self) -> float:
        """The population's expected learning rate (competencies per hour)."""
        return float(
            np.exp(self.rate_log_mean + (self.rate_section_sd**2 + self.rate_student_sd**2) / 2)
        )


@dataclass(frozen=True)
class ExperimentData:
    section: Int
    school: Int
    rate: Float
    hours: Float
    mastered: Float
    outcome: Float  # mastery per hour; NaN for a student lost to attrition


def simulate_experiment(
    rng: np.random.Generator, school: School, treated: NDArray[np.bool_], effect: float
) -> ExperimentData:
    """One run: ``treated`` (one flag per student) adds ``effect`` to the learning rate."""
    n = school.students
    section = np.repeat(np.arange(school.sections), school.students_per_section)
    school_of = section // school.sections_per_school
    log_rate = (
        school.rate_log_mean
        + rng.normal(0, school.rate_section_sd, school.sections)[section]
        + rng.normal(0, school.rate_student_sd, n)
    )
    rate = np.exp(log_rate) + np.where(treated, effect, 0.0)
    hours = rng.gamma(school.hours_shape, school.hours_mean / school.hours_shape, n)
    mastered = rng.poisson(rate * hours).astype(float)
    outcome = mastered / hours
    outcome[rng.random(n) < school.attrition] = np.nan
    return ExperimentData(section, school_of, rate, hours, mastered, outcome)


def pilot_variance(rng: np.random.Generator, school: School, runs: int = 20) -> tuple[float, float]:
    """The outcome's standard deviation and intra-section correlation, estimated from
    ``runs`` control-only terms (what a school would read from last year's data)."""
    sds, iccs = [], []
    for _ in range(runs):
        data = simulate_experiment(rng, school, np.zeros(school.students, dtype=bool), 0.0)
        y, sec = data.outcome, data.section
        ok = np.isfinite(y)
        y, sec = y[ok], sec[ok]
        counts = np.bincount(sec)
        means = np.bincount(sec, y) / counts
        within = np.sum((y - means[sec]) ** 2) / (len(y) - len(counts))
        m0 = (len(y) - np.sum(counts**2) / len(y)) / (len(counts) - 1)
        between = np.sum(counts * (means - y.mean()) ** 2) / (len(counts) - 1)
        tau2 = max((between - within) / m0, 0.0)
        sds.append(np.sqrt(tau2 + within))
        iccs.append(tau2 / (tau2 + within))
    return float(np.mean(sds)), float(np.mean(iccs))


@dataclass(frozen=True)
class SupportData:
    mastery: Float  # students x weeks, cumulative competencies mastered
    start_week: Float  # NaN: never supported
    section: Int
    subgroup: Int


def simulate_supports(
    rng: np.random.Generator,
    *,
    effect: float,
    sections: int = 20,
    per_section: int = 25,
    weeks: int = 30,
    supported_share: float = 0.25,
) -> SupportData:
    """A school's weekly mastery; supports go more often to slow growers and add ``effect``
    competencies a week from the week after they start."""
    n = sections * per_section
    section = np.repeat(np.arange(sections), per_section)
    subgroup = rng.integers(0, 3, n)
    growth = np.exp(rng.normal(np.log(1.5), 0.4, n) + 0.1 * (subgroup - 1))
    shocks = rng.lognormal(0, 0.3, (sections, weeks))[section]
    slow = np.argsort(np.argsort(growth)) / n  # 0 for the slowest grower
    p_support = supported_share * 2 * (1 - slow)
    supported = rng.random(n) < p_support
    start = np.where(supported, rng.integers(12, weeks - 5, n), -1)
    week = np.arange(weeks)[None, :]
    after = supported[:, None] & (week > start[:, None])
    mean = growth[:, None] * shocks + effect * after
    gains = rng.poisson(mean).astype(float)
    return SupportData(
        mastery=np.cumsum(gains, axis=1),
        start_week=np.where(supported, start.astype(float), np.nan),
        section=section,
        subgroup=subgroup,
    )


@dataclass(frozen=True)
class PracticeData:
    student: Int
    competency: Int
    item: Int
    correct: Float


def simulate_practice(
    rng: np.random.Generator,
    item_competency: Int,
    item_value: Float,
    *,
    p_init: Float,
    p_guess: Float,
    p_slip: Float,
    students: int = 1000,
    attempts: int = 6,
) -> PracticeData:
    """Every student makes ``attempts`` attempts on each competency that has items, each on
    one of its items at random; an unknown competency is learned after an attempt with the
    item's ``item_value``."""
    rows_s, rows_c, rows_i, rows_y = [], [], [], []
    for c in np.unique(item_competency):
        items = np.flatnonzero(item_competency == c)
        known = rng.random(students) < p_init[c]
        for _ in range(attempts):
            pick = items[rng.integers(0, len(items), students)]
            right = np.where(known, rng.random(students) > p_slip[c],
                             rng.random(students) < p_guess[c])  # fmt: skip
            known = known | (rng.random(students) < item_value[pick])
            rows_s.append(np.arange(students))
            rows_c.append(np.full(students, c))
            rows_i.append(pick)
            rows_y.append(right.astype(float))
    return PracticeData(
        student=np.concatenate(rows_s).astype(np.int64),
        competency=np.concatenate(rows_c).astype(np.int64),
        item=np.concatenate(rows_i).astype(np.int64),
        correct=np.concatenate(rows_y),
    )
