"""Group figures for leader reports, with small-cell suppression.

Pure functions over plain mappings: the store says which groups each student counts in and
how many competencies each has mastered; these functions turn that into the figures a report
shows. No figure is shown for fewer than ``MIN_CELL`` students.

Suppression is primary (a group under ``min_cell`` students shows nothing) and secondary: when
exactly one group of a breakdown is suppressed, the next smallest is suppressed too, so that
the hidden one cannot be recovered by subtraction from a total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np

MIN_CELL = 10


@dataclass(frozen=True)
class GroupFigure:
    """One group's figures; every number is ``None`` when the group is suppressed."""

    group: str
    students: int | None
    suppressed: bool
    mean: float | None
    mean_growth: float | None


def suppressed(counts: Mapping[str, int], *, min_cell: int = MIN_CELL) -> set[str]:
    """The groups of a breakdown whose figures must not be shown.

    >>> sorted(suppressed({"a": 30, "b": 12, "c": 4}))
    ['b', 'c']
    >>> sorted(suppressed({"a": 30, "b": 12, "c": 4, "d": 3}))
    ['c', 'd']
    """
    hidden = {g for g, n in counts.items() if n < min_cell}
    if len(hidden) == 1 and len(counts) > 1:
        rest = sorted((n, g) for g, n in counts.items() if g not in hidden)
        hidden.add(rest[0][1])
    return hidden


def members(groups: Mapping[int, Sequence[str]]) -> dict[str, list[int]]:
    """Invert student -> groups into group -> students."""
    out: dict[str, list[int]] = {}
    for student, names in groups.items():
        for name in names:
            out.setdefault(name, []).append(student)
    return out


def group_figures(
    groups: Mapping[int, Sequence[str]],
    values: Mapping[int, float],
    *,
    before: Mapping[int, float] | None = None,
    min_cell: int = MIN_CELL,
) -> list[GroupFigure]:
    """Mean of ``values`` per group (and mean growth since ``before``), suppressed where small.

    A student missing from ``values`` counts as 0 (nothing mastered yet).

    >>> groups = {s: ["A" if s < 12 else "B"] for s in range(20)}
    >>> [(f.group, f.students, f.mean) for f in group_figures(groups, {s: 2.0 for s in range(20)})]
    [('A', None, None), ('B', None, None)]
    """
    by_group = members(groups)
    hidden = suppressed({g: len(m) for g, m in by_group.items()}, min_cell=min_cell)
    names = sorted(by_group)
    # every member's value looked up once, in group order; each group a slice of it
    order = [s for name in names for s in by_group[name]]
    now_all = _looked_up(values, order)
    then_all = None if before is None else _looked_up(before, order)
    figures, start = [], 0
    for name in names:
        size = len(by_group[name])
        at, start = slice(start, start + size), start + size
        if name in hidden:
            figures.append(GroupFigure(name, None, True, None, None))
            continue
        now = now_all[at]
        growth = None
        if then_all is not None:
            growth = round(float(np.mean(now - then_all[at])), 2)
        figures.append(GroupFigure(name, size, False, round(float(np.mean(now)), 2), growth))
    return figures


def _looked_up(values: Mapping[int, float], ids: Sequence[int]) -> np.ndarray:
    """``values`` of ``ids`` (0 where missing) as one array."""
    return np.fromiter(map(values.get, ids, repeat(0.0)), dtype=np.float64, count=len(ids))
