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
    figures = []
    for name in sorted(by_group):
        if name in hidden:
            figures.append(GroupFigure(name, None, True, None, None))
            continue
        ids = by_group[name]
        now = np.array([values.get(s, 0.0) for s in ids], dtype=np.float64)
        growth = None
        if before is not None:
            then = np.array([before.get(s, 0.0) for s in ids], dtype=np.float64)
            growth = round(float(np.mean(now - then)), 2)
        figures.append(GroupFigure(name, len(ids), False, round(float(np.mean(now)), 2), growth))
    return figures
