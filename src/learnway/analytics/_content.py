"""Content efficacy from the learner model: which items (and hints) move mastery.

Every attempt is followed, on the same competency, by the student's next attempt. The
knowledge-tracing model (BKT with the competency's parameters) predicts that next answer
from everything seen so far, assuming the attempt taught as much as an average attempt. The
residual of the next answer, weighted by how much could still be learned (the probability
the competency was not yet known after the attempt, times ``1 - slip - guess``), measures how
much more or less than average the attempt's item taught: a learning-decomposition estimate
per item, solved in closed form over all its uses at once. An item whose estimated chance of
teaching is not above zero (its interval reaches zero) is flagged for the content team.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

Float = NDArray[np.float64]
Int = NDArray[np.int64]


@dataclass(frozen=True)
class Efficacy:
    """Per unit of content (item or hint), indexed by its integer code.

    ``gain`` is the estimated probability that one use teaches the competency to a student who
    does not know it yet; ``low`` and ``high`` its 95% interval; ``uses`` the attempts that
    have a next attempt to learn from; ``flagged`` is set where ``uses >= min_uses`` and the
    interval reaches zero.
    """

    uses: Int
    gain: Float
    low: Float
    high: Float
    flagged: NDArray[np.bool_]


def _next_residuals(
    student: Int, competency: Int, correct: Float, p_init: Float, p_learn: Float,
    p_guess: Float, p_slip: Float,
) -> tuple[Int, Float, Float]:  # fmt: skip
    """For rows sorted by (student, competency, time): the rows that have a next attempt, the
    residual of that next answer, and its learning weight."""
    n = len(student)
    new_seq = np.ones(n, dtype=bool)
    new_seq[1:] = (student[1:] != student[:-1]) | (competency[1:] != competency[:-1])
    seq_start = np.maximum.accumulate(np.where(new_seq, np.arange(n), 0))
    position = np.arange(n) - seq_start
    prior = np.empty(n)
    post = np.empty(n)
    c = competency
    for k in range(int(position.max()) + 1 if n else 0):
        rows = np.flatnonzero(position == k)
        if k == 0:
            p = p_init[c[rows]]
        else:
            before = post[rows - 1]
            p = before + (1 - before) * p_learn[c[rows]]
        prior[rows] = p
        g, s = p_guess[c[rows]], p_slip[c[rows]]
        right = correct[rows]
        like_known = np.where(right > 0.5, 1 - s, s)
        like_unknown = np.where(right > 0.5, g, 1 - g)
        post[rows] = p * like_known / (p * like_known + (1 - p) * like_unknown)
    has_next = np.flatnonzero(~new_seq[1:])  # row i is followed by i + 1 in its sequence
    nxt = has_next + 1
    g, s = p_guess[c[nxt]], p_slip[c[nxt]]
    predicted = prior[nxt] * (1 - s) + (1 - prior[nxt]) * g
    residual = correct[nxt] - predicted
    weight = (1 - post[has_next]) * (1 - s - g)
    return has_next, residual, weight


def content_efficacy(
    student: ArrayLike,
    competency: ArrayLike,
    unit: ArrayLike,
    correct: ArrayLike,
    *,
    p_init: ArrayLike,
    p_learn: ArrayLike,
    p_guess: ArrayLike,
    p_slip: ArrayLike,
    n_units: int | None = None,
    min_uses: int = 20,
    shrinkage: float = 1.0,
) -> Efficacy:
    """Learning gain per content unit (item or hint code in ``unit``; -1 for none).

    Rows are attempts in time order within each student; ``competency`` indexes the BKT
    parameter arrays (the learner model's, e.g. the live fit of the course).
    """
    s = np.asarray(student, dtype=np.int64)
    c = np.asarray(competency, dtype=np.int64)
    u = np.asarray(unit, dtype=np.int64)
    y = np.asarray(correct, dtype=float)
    if not len(s) == len(c) == len(u) == len(y):
        raise ValueError("student, competency, unit and correct must have one value per attempt")
    if np.any((y < 0) | (y > 1)):
        raise ValueError("correct must lie in [0, 1]")
    params = [np.asarray(v, dtype=float) for v in (p_init, p_learn, p_guess, p_slip)]
    if len(c) and (c.min() < 0 or c.max() >= min(len(v) for v in params)):
        raise ValueError("competency codes must index the parameter arrays")
    size = int(n_units if n_units is not None else (u.max() + 1 if len(u) else 0))
    order = np.lexsort((np.arange(len(s)), c, s))
    s, c, u, y = s[order], c[order], u[order], y[order]
    rows, residual, weight = _next_residuals(s, c, y, *params)
    units = u[rows]
    keep = units >= 0
    units, residual, weight = units[keep], residual[keep], weight[keep]
    base = params[1][c[rows][keep]]
    sw2 = np.bincount(units, weight * weight, minlength=size)
    beta = np.bincount(units, weight * residual, minlength=size) / (sw2 + shrinkage)
    spread = np.bincount(units, (weight * residual) ** 2, minlength=size)
    se = np.sqrt(spread) / (sw2 + shrinkage)
    uses = np.bincount(units, minlength=size).astype(np.int64)
    mean_base = np.bincount(units, base, minlength=size) / np.maximum(uses, 1)
    gain = mean_base + beta
    low, high = gain - 1.96 * se, gain + 1.96 * se
    return Efficacy(
        uses=uses, gain=gain, low=low, high=high, flagged=(uses >= min_uses) & (low <= 0)
    )
