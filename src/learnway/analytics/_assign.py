"""Stable assignment of units (students or sections) to the conditions of an experiment.

A unit's condition is a function of the experiment's key and the unit's key only: the
SHA-256 of ``"<experiment>:<unit>"`` read as a number in [0, 1) picks a condition by the
cumulative shares. The same student therefore sees the same condition on every device and in
every session, without any state shared between servers. Stratified assignment (balanced within
each stratum) orders a stratum's units by that same number and deals the conditions out in
shuffled blocks, so it too is reproducible from the keys alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np


def unit_draw(experiment: str, unit: str) -> float:
    """The unit's number in [0, 1), from the experiment's and the unit's keys alone."""
    if not experiment or not unit:
        raise ValueError("experiment and unit keys must not be empty")
    digest = hashlib.sha256(f"{experiment}:{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def _check(conditions: Sequence[str], shares: Sequence[float]) -> np.ndarray:
    if len(conditions) < 2:
        raise ValueError("an experiment needs at least two conditions")
    if len(set(conditions)) != len(conditions):
        raise ValueError("condition names must be distinct")
    if len(shares) != len(conditions):
        raise ValueError("one share per condition")
    w = np.asarray(shares, dtype=float)
    if np.any(~np.isfinite(w)) or np.any(w <= 0):
        raise ValueError("every share must be positive")
    return w / w.sum()


def assign(
    experiment: str, units: Sequence[str], conditions: Sequence[str], shares: Sequence[float]
) -> list[str]:
    """Each unit's condition, by its own hash (independent of the other units)."""
    w = _check(conditions, shares)
    edges = np.cumsum(w)
    draws = np.array([unit_draw(experiment, u) for u in units])
    picks = np.minimum(np.searchsorted(edges, draws, side="right"), len(conditions) - 1)
    return [conditions[i] for i in picks]


def assign_stratified(
    experiment: str,
    units: Sequence[str],
    strata: Sequence[str],
    conditions: Sequence[str],
    shares: Sequence[float],
) -> list[str]:
    """Conditions balanced within each stratum: the shares rounded to a block of at most 20
    units, each block shuffled by the hashes, dealt in the units' hash order."""
    w = _check(conditions, shares)
    if len(strata) != len(units):
        raise ValueError("one stratum per unit")
    block_size = next(
        (b for b in range(len(w), 21) if np.allclose(w * b, np.round(w * b), atol=1e-9)), 20
    )
    counts = np.maximum(np.round(w * block_size).astype(int), 1)
    block = np.repeat(np.arange(len(w)), counts)
    out = [""] * len(units)
    by_stratum: dict[str, list[int]] = {}
    for i, s in enumerate(strata):
        by_stratum.setdefault(s, []).append(i)
    for stratum, members in by_stratum.items():
        order = sorted(members, key=lambda i: unit_draw(experiment, units[i]))
        for start in range(0, len(order), len(block)):
            seed = int(unit_draw(f"{experiment}/{stratum}", str(start)) * 2**32)
            dealt = np.random.default_rng(seed).permutation(block)
            for i, k in zip(order[start : start + len(block)], dealt, strict=False):
                out[i] = conditions[int(k)]
    return out
