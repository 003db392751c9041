"""The one-attempt Bayesian Knowledge Tracing update, vectorized over any shape."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def bkt_update(
    p_known: ArrayLike,
    correct: ArrayLike,
    *,
    p_learn: ArrayLike,
    p_guess: ArrayLike,
    p_slip: ArrayLike,
    p_forget: ArrayLike = 0.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Apply one observed attempt to the probability that a competency is known.

    Returns ``(p_correct, p_known_after)``: the probability that the attempt would be
    correct, predicted before seeing it, and the probability that the competency is known
    after the attempt and the learning (or forgetting) opportunity that follows it.
    All arguments broadcast against each other.

    >>> p_correct, p_after = bkt_update(0.5, 1, p_learn=0.1, p_guess=0.2, p_slip=0.1)
    >>> round(float(p_correct), 3), round(float(p_after), 3)
    (0.55, 0.836)
    """
    known = np.asarray(p_known, dtype=np.float64)
    obs = np.asarray(correct, dtype=np.float64)
    learn = np.asarray(p_learn, dtype=np.float64)
    guess = np.asarray(p_guess, dtype=np.float64)
    slip = np.asarray(p_slip, dtype=np.float64)
    forget = np.asarray(p_forget, dtype=np.float64)
    p_correct = known * (1.0 - slip) + (1.0 - known) * guess
    right = known * (1.0 - slip) / p_correct
    wrong = known * slip / (1.0 - p_correct)
    posterior = np.where(obs > 0.5, right, wrong)
    p_after = posterior * (1.0 - forget) + (1.0 - posterior) * learn
    return p_correct, p_after
