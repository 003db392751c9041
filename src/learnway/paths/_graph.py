"""Competency graphs and step banks as arrays: what the planner walks and what it can assign."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, eq=False)
class CompetencyGraph:
    """Competencies and their prerequisite DAG, indexed ``0..n-1`` in course order.

    ``prereq[c, j]`` is true when ``j`` is a direct prerequisite of ``c``; ``ancestors[c, j]``
    when ``j`` is a prerequisite of ``c`` at any distance. Codes keep the order given, which is
    the course sequence; ``rank`` is a topological order that respects it as far as the edges
    allow (the order a fixed sequence would follow).
    """

    codes: tuple[str, ...]
    prereq: NDArray[np.bool_]
    ancestors: NDArray[np.bool_]
    rank: NDArray[np.int64]
    titles: tuple[str, ...] = ()
    index: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_edges(
        cls,
        codes: Sequence[str],
        edges: Iterable[tuple[str, str]],
        *,
        titles: Sequence[str] | None = None,
    ) -> CompetencyGraph:
        """Build from codes in course order and ``(before, after)`` prerequisite edges.

        Edges naming unknown codes are ignored (a framework edge outside the course);
        a cycle is an error.
        """
        codes = tuple(codes)
        index = {code: i for i, code in enumerate(codes)}
        if len(index) != len(codes):
            raise ValueError("competency codes must be unique")
        n = len(codes)
        prereq = np.zeros((n, n), dtype=bool)
        for before, after in edges:
            b, a = index.get(before), index.get(after)
            if b is not None and a is not None and a != b:
                prereq[a, b] = True
        rank = _topological_rank(prereq)
        ancestors = _closure(prereq, rank)
        return cls(
            codes=codes,
            prereq=prereq,
            ancestors=ancestors,
            rank=rank,
            titles=tuple(titles) if titles is not None else codes,
            index=index,
        )

    @property
    def n(self) -> int:
        return len(self.codes)

    @property
    def order(self) -> NDArray[np.int64]:
        """Competency indices sorted by ``rank``: the fixed course sequence."""
        return np.argsort(self.rank, kind="stable")

    def edges(self) -> list[tuple[str, str]]:
        after, before = np.nonzero(self.prereq)
        return [(self.codes[b], self.codes[a]) for a, b in zip(after, before, strict=True)]


def _topological_rank(prereq: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Kahn's algorithm, always taking the ready competency that comes first in course order."""
    import heapq

    n = prereq.shape[0]
    indegree = prereq.sum(axis=1).astype(np.int64)
    children = [np.nonzero(prereq[:, j])[0] for j in range(n)]
    ready = [int(i) for i in np.nonzero(indegree == 0)[0]]
    heapq.heapify(ready)
    rank = np.full(n, -1, dtype=np.int64)
    position = 0
    while ready:
        j = heapq.heappop(ready)
        rank[j] = position
        position += 1
        for c in children[j]:
            indegree[c] -= 1
            if indegree[c] == 0:
                heapq.heappush(ready, int(c))
    if position != n:
        stuck = [i for i in range(n) if rank[i] < 0][:5]
        raise ValueError(f"prerequisite edges contain a cycle through competencies {stuck}")
    return rank


def _closure(prereq: NDArray[np.bool_], rank: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Transitive closure, one row per competency in topological order."""
    ancestors = prereq.copy()
    for c in np.argsort(rank):
        parents = np.nonzero(prereq[c])[0]
        if parents.size:
            ancestors[c] |= ancestors[parents].any(axis=0)
    return ancestors


@dataclass(frozen=True, eq=False)
class StepBank:
    """The scored steps that practise each competency, grouped by competency.

    ``competency[k]`` is the competency index of step ``k`` (its first listed one); steps are
    stored sorted by competency so that ``steps_of(c)`` is a slice. ``minutes[k]`` is the
    expected time on step ``k``.
    """

    keys: tuple[str, ...]
    items: tuple[str, ...]
    competency: NDArray[np.int64]
    minutes: NDArray[np.float64]
    start: NDArray[np.int64]
    count: NDArray[np.int64]

    @classmethod
    def from_arrays(
        cls,
        n_competencies: int,
        keys: Sequence[str],
        competency: Sequence[int] | NDArray[np.int64],
        *,
        items: Sequence[str] | None = None,
        minutes: float | Sequence[float] | NDArray[np.float64] = 1.5,
    ) -> StepBank:
        comp = np.asarray(competency, dtype=np.int64)
        if comp.shape != (len(keys),):
            raise ValueError("competency must give one index per step key")
        if comp.size and (comp.min() < 0 or comp.max() >= n_competencies):
            raise ValueError("step competency index out of range")
        mins = np.broadcast_to(np.asarray(minutes, dtype=np.float64), comp.shape)
        order = np.argsort(comp, kind="stable")
        count = np.bincount(comp, minlength=n_competencies).astype(np.int64)
        start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
        item_keys = tuple(items) if items is not None else tuple(keys)
        return cls(
            keys=tuple(keys[i] for i in order),
            items=tuple(item_keys[i] for i in order),
            competency=comp[order],
            minutes=np.array(mins[order], dtype=np.float64),
            start=start,
            count=count,
        )

    @classmethod
    def one_per_competency(cls, graph: CompetencyGraph, minutes: float = 1.5) -> StepBank:
        """A synthetic bank with one practice step per competency (for frameworks without items)."""
        keys = [f"{code}#practice" for code in graph.codes]
        return cls.from_arrays(graph.n, keys, np.arange(graph.n), minutes=minutes)

    def pick(self, competency: NDArray[np.int64], turn: NDArray[np.int64]) -> NDArray[np.int64]:
        """Step index to assign for each competency, rotating through its steps by ``turn``.

        Returns -1 where a competency has no step.
        """
        comp = np.asarray(competency, dtype=np.int64)
        n = self.count[comp]
        step = self.start[comp] + np.mod(np.asarray(turn, dtype=np.int64), np.maximum(n, 1))
        return np.where(n > 0, step, -1)

    def minutes_per_competency(self, default: float = 1.5) -> NDArray[np.float64]:
        """Mean expected minutes of each competency's steps (``default`` where it has none)."""
        total = np.bincount(self.competency, weights=self.minutes, minlength=self.count.size)
        return np.where(self.count > 0, total / np.maximum(self.count, 1), default)
