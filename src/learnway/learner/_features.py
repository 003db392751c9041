"""Sequence features of a student's earlier attempts, for the logistic models.

One definition, two executions: :func:`history_features` computes them for a whole table at
once (compiled), :func:`online_features` for one attempt from a student's state; both call the
same :func:`_row` and :func:`_fold` so that online and batch agree exactly.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

FAST = 0.5  # decay of the fast recency-weighted success rate
SLOW = 0.9  # decay of the slow one
N_PAIR = 7  # per (student, competency): wins, fails, fast num/den, slow num/den, last outcome
N_STUDENT = 7  # per student: wins, fails, fast num/den, slow num/den, previous attempt code
SHARED = (
    "log_wins_competency",
    "log_fails_competency",
    "log_wins_total",
    "log_fails_total",
    "rate_competency_fast",
    "rate_competency_slow",
    "rate_total_fast",
    "rate_total_slow",
    "seen_competency",
    "last_competency_correct",
    "previous_correct",
    "previous_same_competency",
)
N_SHARED = len(SHARED)


@numba.njit(cache=True, inline="always")
def _row(pair: NDArray[np.float64], stud: NDArray[np.float64], comp: int, out: NDArray[np.float64]):
    """Fill ``out`` with the shared features of an attempt on ``comp`` from the two states."""
    out[0] = math.log1p(pair[0])
    out[1] = math.log1p(pair[1])
    out[2] = math.log1p(stud[0])
    out[3] = math.log1p(stud[1])
    out[4] = (pair[2] + 0.5) / (pair[3] + 1.0)
    out[5] = (pair[4] + 0.5) / (pair[5] + 1.0)
    out[6] = (stud[2] + 0.5) / (stud[3] + 1.0)
    out[7] = (stud[4] + 0.5) / (stud[5] + 1.0)
    out[8] = 1.0 if pair[6] >= 0.0 else 0.0
    out[9] = 1.0 if pair[6] == 1.0 else 0.0
    prev = stud[6]
    out[10] = 1.0 if prev >= 0.0 and prev % 2.0 == 1.0 else 0.0
    out[11] = 1.0 if prev >= 0.0 and prev // 2.0 == comp else 0.0


@numba.njit(cache=True, inline="always")
def _fold(pair: NDArray[np.float64], stud: NDArray[np.float64], comp: int, correct: int) -> None:
    """Fold an attempt's outcome into the two states."""
    o = 1.0 if correct else 0.0
    pair[0] += o
    pair[1] += 1.0 - o
    pair[2] = FAST * pair[2] + o
    pair[3] = FAST * pair[3] + 1.0
    pair[4] = SLOW * pair[4] + o
    pair[5] = SLOW * pair[5] + 1.0
    pair[6] = o
    stud[0] += o
    stud[1] += 1.0 - o
    stud[2] = FAST * stud[2] + o
    stud[3] = FAST * stud[3] + 1.0
    stud[4] = SLOW * stud[4] + o
    stud[5] = SLOW * stud[5] + 1.0
    stud[6] = 2.0 * comp + o


def new_pair_state() -> NDArray[np.float64]:
    s = np.zeros(N_PAIR)
    s[6] = -1.0
    return s


def new_student_state() -> NDArray[np.float64]:
    s = np.zeros(N_STUDENT)
    s[6] = -1.0
    return s


@numba.njit(cache=True)
def _history(
    student: NDArray[np.int64],
    pair: NDArray[np.int64],
    comp: NDArray[np.int64],
    correct: NDArray[np.int8],
    n_students: int,
    n_pairs: int,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    n = student.shape[0]
    feats = np.empty((n, N_SHARED))
    prev = np.full(n, -1, dtype=np.int64)
    pstate = np.zeros((n_pairs, N_PAIR))
    pstate[:, 6] = -1.0
    sstate = np.zeros((n_students, N_STUDENT))
    sstate[:, 6] = -1.0
    for i in range(n):
        ps = pstate[pair[i]]
        ss = sstate[student[i]]
        _row(ps, ss, comp[i], feats[i])
        prev[i] = np.int64(ss[6])
        _fold(ps, ss, comp[i], correct[i])
    return feats, prev


def history_features(
    student: NDArray[np.int64], comp: NDArray[np.int64], correct: NDArray[np.int8]
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Shared features of every row from the same student's earlier rows, and the code
    ``2 * competency + outcome`` of the student's previous attempt (-1 for a first attempt).

    ``comp`` codes may be -1 (unseen competency): such rows still get their counts."""
    n_students = int(student.max()) + 1 if len(student) else 0
    key = student * (int(comp.max()) + 2 if len(comp) else 1) + (comp + 1)
    _, pair = np.unique(key, return_inverse=True)
    return _history(
        student,
        pair.astype(np.int64),
        comp,
        correct,
        n_students,
        int(pair.max()) + 1 if len(pair) else 0,
    )


def online_features(
    pair: NDArray[np.float64], stud: NDArray[np.float64], comp: int
) -> tuple[NDArray[np.float64], int]:
    out = np.empty(N_SHARED)
    _row.py_func(pair, stud, comp, out)
    return out, int(stud[6])


def online_fold(
    pair: NDArray[np.float64], stud: NDArray[np.float64], comp: int, correct: int
) -> None:
    _fold.py_func(pair, stud, comp, correct)


N_SEQUENCE = 8
SEQUENCE = (
    "last_outcome_1",
    "last_outcome_2",
    "last_outcome_3",
    "streak",
    "log_position_in_run",
    "echo",
    "echo_match",
    "runs_before",
)


@numba.njit(cache=True)
def sequence_features(
    student: NDArray[np.int64], comp: NDArray[np.int64], correct: NDArray[np.int8], look_back: int
) -> NDArray[np.float64]:
    """Order-sensitive features of every row from the same student's earlier rows.

    A *run* is a maximal stretch of one student's consecutive rows on one competency. For each
    row: the last three outcomes of the current run (-1 where there are fewer), the signed
    length of its current streak, the log of the row's position in the run, and an *echo*: the
    outcome at the same position of the most recent of the ``look_back`` previous runs whose
    first outcomes equal those of the current run so far (+1 / -1, 0 if none) with the length
    of that match (-1 if none); finally the log count of the student's earlier runs. Rows of a
    student must be contiguous and in time order. (The echo finds the repeated runs that
    multi-competency steps leave in data sets expanded one row per competency.)"""
    n = student.shape[0]
    out = np.empty((n, N_SEQUENCE))
    start = np.empty(n, dtype=np.int64)
    runs = 0
    for i in range(n):
        new_student = i == 0 or student[i] != student[i - 1]
        if new_student:
            runs = 0
        if new_student or comp[i] != comp[i - 1]:
            start[i] = i
            if not new_student:
                runs += 1
        else:
            start[i] = start[i - 1]
        b = start[i]
        j = i - b
        for t in range(3):
            out[i, t] = correct[i - 1 - t] if j > t else -1.0
        streak = 0
        for t in range(i - 1, b - 1, -1):
            if correct[t] != correct[i - 1]:
                break
            streak += 1
        out[i, 3] = streak if j > 0 and correct[i - 1] else -streak
        out[i, 4] = math.log1p(j)
        out[i, 5] = 0.0
        out[i, 6] = -1.0
        end = b
        for _ in range(look_back):
            if end == 0 or student[end - 1] != student[i]:
                break
            pb = start[end - 1]
            if end - pb > j:
                same = True
                for t in range(j):
                    if correct[pb + t] != correct[b + t]:
                        same = False
                        break
                if same:
                    out[i, 5] = 1.0 if correct[pb + j] else -1.0
                    out[i, 6] = j
                    break
            end = pb
        out[i, 7] = math.log1p(runs)
    return out
