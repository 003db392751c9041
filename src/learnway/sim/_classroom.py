"""Running a policy on simulated students over a term, school day by school day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from learnway.paths import CompetencyGraph, CourseGraph, SchoolCalendar
from learnway.sim._policies import Policy
from learnway.sim._world import KNOWN, Learners, Population, practise, retrieval

Float = NDArray[np.float64]

# What an attempt was for, judged on the simulator's truth just before it (see ``RunResult``).
ATTEMPT_KINDS = (
    "learning, prerequisites known",
    "learning, a prerequisite not known",
    "relearning what was forgotten",
    "already known, same day",
    "already known, spaced review",
)


@dataclass(frozen=True)
class Term:
    """The school calendar of a run: ``days`` school days of ``minutes_per_day`` minutes of
    practice, on the ``weekdays`` of the week (Monday first; day 0 is a Monday), so that
    forgetting runs on through the days without practice.

    A student has mastered the course when ``target_share`` of the required competencies are
    known at the same time (retrieval probability at least ``KNOWN``).
    """

    days: int = 90
    minutes_per_day: float = 25.0
    target_share: float = 0.95
    weekdays: str = "1111111"
    after_deadline: int = 0
    """School days simulated past the deadline, so that attempts to master the course are
    counted for students who need longer (mastered *by the deadline* is judged at it)."""
    stop_when_mastered: bool = False
    """Past the deadline, a student who has mastered the course stops practising (nothing
    after that is measured; it saves the time of simulating them to the end)."""

    def calendar(self, origin: dt.date = dt.date(2026, 8, 31)) -> SchoolCalendar:
        """The term's calendar (``origin``, day 0, must be a Monday)."""
        if origin.weekday() != 0:
            raise ValueError("a term starts on a Monday")
        return SchoolCalendar(origin, self.weekdays)

    def school_days(self, *, extended: bool = False) -> NDArray[np.int64]:
        """The days (on the run's clock) with practice, until the deadline (or past it by
        ``after_deadline`` school days, ``extended``)."""
        days = self.days + (self.after_deadline if extended else 0)
        per_week = self.weekdays.count("1")
        span = np.arange((days // max(per_week, 1) + 2) * 7)
        school = self.calendar().is_school_day(span)
        return span[school][:days].astype(np.int64)

    @property
    def deadline(self) -> float:
        return float(self.school_days()[-1] + 1) if self.days else 0.0


@dataclass
class RunResult:
    """Outcomes per student of one policy over one term (all arrays indexed by student)."""

    policy: str
    attempts: NDArray[np.int64]  # of a student who never mastered the course: all, to the end
    minutes: Float
    attempts_to_master: Float  # attempts until the course was mastered (nan: not by the end)
    minutes_to_master: Float
    mastered: NDArray[np.bool_]  # the course was mastered by the deadline
    known_end: Float  # share of required competencies known at the end
    retention: Float  # share of competencies ever known that are still known at the end
    prior_level: Float
    # attempts before the student mastered the course, per kind (ATTEMPT_KINDS order)
    attempt_kinds: NDArray[np.int64] = field(
        default_factory=lambda: np.zeros(len(ATTEMPT_KINDS), dtype=np.int64)
    )
    attempt_log: pd.DataFrame | None = field(default=None, repr=False)


def run_term(
    course: CourseGraph,
    students: Learners,
    policy: Policy,
    term: Term,
    rng: np.random.Generator,
    *,
    population: Population | None = None,
    required: NDArray[np.bool_] | None = None,
    log: bool = False,
    progress: Callable[[int], None] | None = None,
) -> RunResult:
    """Simulate ``policy`` teaching ``students`` (a copy: the caller's truth is untouched).

    Every school day each student practises for ``term.minutes_per_day``; each slot, every
    student with time left makes one attempt on the step the policy chose.
    """
    with threadpool_limits(1):  # small matrices: one BLAS thread avoids contention
        return _run(course, students, policy, term, rng, population, required, log, progress)


def _run(
    course: CourseGraph,
    students: Learners,
    policy: Policy,
    term: Term,
    rng: np.random.Generator,
    population: Population | None,
    required: NDArray[np.bool_] | None,
    log: bool,
    progress: Callable[[int], None] | None,
) -> RunResult:
    truth = students.copy()
    graph, bank = course.graph, course.bank
    req = np.ones(graph.n, dtype=bool) if required is None else required
    n = truth.n
    policy.start(truth, 0.0)
    ever = retrieval(truth, 0.0) >= KNOWN
    turns = np.zeros((n, graph.n), dtype=np.int64)
    attempts = np.zeros(n, dtype=np.int64)
    minutes = np.zeros(n)
    n_req = max(int(req.sum()), 1)
    to_master = np.full(n, np.nan)
    minutes_master = np.full(n, np.nan)
    mastered = (ever & req).sum(axis=1) >= term.target_share * n_req
    to_master[mastered] = 0
    minutes_master[mastered] = 0
    kinds = np.zeros(len(ATTEMPT_KINDS), dtype=np.int64)
    chunks: list[dict[str, NDArray[np.generic]]] = []
    slot_days = 1.0 / (24 * 60)
    deadline_mastered: NDArray[np.bool_] | None = None
    known_deadline: NDArray[np.bool_] | None = None
    ever_deadline = ever
    for done, day in enumerate(term.school_days(extended=True).tolist()):
        if known_deadline is None and day >= term.deadline:
            deadline_mastered, ever_deadline = mastered.copy(), ever.copy()
            known_deadline = retrieval(truth, term.deadline) >= KNOWN
        budget = np.full(n, float(term.minutes_per_day))
        if term.stop_when_mastered and known_deadline is not None:
            budget[mastered] = 0.0
        slot = 0
        while True:
            rows = np.nonzero(budget > 0)[0]
            if rows.size == 0:
                break
            now = day + slot * slot_days * 1.5
            comp = policy.choose(rows, now)
            learning = ~mastered[rows]
            kinds += _kinds(truth, graph, rows[learning], comp[learning], ever, now)
            correct, hints, spent = practise(truth, rows, comp, now, graph, rng, population)
            policy.observe(rows, comp, correct, hints, now)
            if log:
                step = bank.pick(comp, turns[rows, comp])
                chunks.append(
                    {
                        "student": rows,
                        "step": step,
                        "competency": comp,
                        "correct": correct,
                        "hints_used": hints,
                        "duration_s": np.round(spent * 60.0, 1),
                        "day": day + (term.minutes_per_day - budget[rows]) / (24 * 60),
                    }
                )
            turns[rows, comp] += 1
            budget[rows] -= spent
            attempts[rows] += 1
            minutes[rows] += spent
            known_now = retrieval(truth, now, rows) >= KNOWN
            ever[rows, comp] |= known_now[np.arange(rows.size), comp]
            share = (known_now & req).sum(axis=1) / n_req
            newly = rows[~mastered[rows] & (share >= term.target_share)]
            mastered[newly] = True
            to_master[newly] = attempts[newly]
            minutes_master[newly] = minutes[newly]
            slot += 1
        if progress is not None:
            progress(done + 1)
    known = retrieval(truth, term.deadline) >= KNOWN if known_deadline is None else known_deadline
    if deadline_mastered is None:
        deadline_mastered, ever_deadline = mastered, ever
    known_end = (known & req).sum(axis=1) / n_req
    retention = (known & ever_deadline).sum(axis=1) / np.maximum(ever_deadline.sum(axis=1), 1)
    frame = None
    if log:
        frame = _attempt_frame(chunks, course)
    return RunResult(
        policy=policy.name,
        attempts=attempts,
        minutes=minutes,
        attempts_to_master=to_master,
        minutes_to_master=minutes_master,
        mastered=deadline_mastered,
        known_end=known_end,
        retention=retention,
        prior_level=truth.prior_level,
        attempt_kinds=kinds,
        attempt_log=frame,
    )


def _kinds(
    truth: Learners,
    graph: CompetencyGraph,
    rows: NDArray[np.int64],
    comp: NDArray[np.int64],
    ever: NDArray[np.bool_],
    now: float,
) -> NDArray[np.int64]:
    """Counts of the attempts about to be made, per kind of ``ATTEMPT_KINDS``."""
    known_c = retrieval(truth, now, rows, comp) >= KNOWN
    ever_c = ever[rows, comp]
    attempt, prereq = np.nonzero(graph.prereq[comp])
    unknown = retrieval(truth, now, rows[attempt], prereq) < KNOWN
    prereq_missing = np.bincount(attempt[unknown], minlength=rows.size) > 0
    same_day = (now - np.nan_to_num(truth.last_practice[rows, comp], nan=-np.inf)) < 0.5
    kind = np.select(
        [~known_c & ~ever_c & ~prereq_missing, ~known_c & ~ever_c, ~known_c, same_day],
        [0, 1, 2, 3],
        4,
    )
    return np.bincount(kind, minlength=len(ATTEMPT_KINDS)).astype(np.int64)


def _attempt_frame(
    chunks: list[dict[str, NDArray[np.generic]]], course: CourseGraph
) -> pd.DataFrame:
    columns = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]} if chunks else {}
    if not columns:
        return pd.DataFrame(
            columns=["student", "step", "competency", "correct", "hints_used", "duration_s", "day"]
        )
    keys = np.array((*course.bank.keys, ""), dtype=object)
    codes = np.array(course.graph.codes, dtype=object)
    return pd.DataFrame(
        {
            "student": columns["student"].astype(np.int64),
            "step": keys[columns["step"]],
            "competency": codes[columns["competency"].astype(np.int64)],
            "correct": columns["correct"].astype(bool),
            "hints_used": columns["hints_used"].astype(np.int64),
            "duration_s": columns["duration_s"].astype(np.float64),
            "day": columns["day"].astype(np.float64),
        }
    )
