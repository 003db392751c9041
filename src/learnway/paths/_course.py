"""A course as the planner's arrays: graph, steps, parameters and thresholds in one bundle."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from learnway.paths._graph import CompetencyGraph, StepBank
from learnway.paths._mastery import BKTParams, MasteryPolicy

ASSESSED_KINDS = ("skill", "standard", "substandard")


DEFAULT_FORGET = 0.02
"""The chance of forgetting a known competency between two attempts where the content gives
none: forgetting is on by default, so that only evidence kept up holds the estimate high
(``learnway calibrate`` fits it on the school's attempts)."""


@dataclass(frozen=True, eq=False)
class CourseGraph:
    """Everything the planner and the simulator need about one course, as arrays.

    ``section[c]`` names the group a competency belongs to (its lesson or cluster), used for
    roll-ups; ``threshold[c]`` is its mastery threshold.
    """

    key: str
    graph: CompetencyGraph
    bank: StepBank
    params: BKTParams
    threshold: NDArray[np.float64]
    section: tuple[str, ...]

    @property
    def n(self) -> int:
        return self.graph.n

    def policy(self, **overrides: Any) -> MasteryPolicy:
        """The default mastery policy of this course, with its per-competency thresholds."""
        overrides.setdefault("threshold", self.threshold)
        return MasteryPolicy(**overrides)

    @classmethod
    def from_framework(
        cls,
        framework: Any,
        *,
        steps: Iterable[tuple[str, str, Sequence[str]]] = (),
        kinds: Sequence[str] = ASSESSED_KINDS,
        default_threshold: float = 0.85,
        minutes: float = 1.5,
    ) -> CourseGraph:
        """Build from a :class:`learnway.frameworks.Framework` and ``(step, item, codes)`` rows.

        Only competencies of the given ``kinds`` are kept; prerequisite edges through dropped
        competencies (lessons, clusters) are bridged. Competencies without steps get one
        synthetic practice step, so every competency can be practised and simulated.
        """
        comps = sorted(framework.competencies, key=lambda c: c.sequence)
        kept = [c for c in comps if c.kind in kinds]
        keep = {c.code for c in kept}
        graph = CompetencyGraph.from_edges(
            [c.code for c in kept],
            _bridge(framework.prerequisites, keep),
            titles=[c.title for c in kept],
        )
        keys: list[str] = []
        items: list[str] = []
        owner: list[int] = []
        for step_key, item_key, codes in steps:
            first = next((graph.index[c] for c in codes if c in graph.index), None)
            if first is not None:
                keys.append(step_key)
                items.append(item_key)
                owner.append(first)
        covered = set(owner)
        for i, code in enumerate(graph.codes):
            if i not in covered:
                keys.append(f"{code}#practice")
                items.append(f"{code}#practice")
                owner.append(i)
        bank = StepBank.from_arrays(graph.n, keys, owner, items=items, minutes=minutes)

        def col(name: str, default: float) -> NDArray[np.float64]:
            return np.array(
                [default if getattr(c, name) is None else getattr(c, name) for c in kept]
            )

        params = BKTParams.uniform(
            graph.n,
            p_init=col("p_init", 0.1),
            p_learn=col("p_learn", 0.1),
            p_guess=col("p_guess", 0.1),
            p_slip=col("p_slip", 0.1),
            p_forget=col("p_forget", DEFAULT_FORGET),
        )
        return cls(
            key=framework.key,
            graph=graph,
            bank=bank,
            params=params,
            threshold=col("mastery_threshold", default_threshold),
            section=tuple(c.parent or "" for c in kept),
        )

    @classmethod
    def from_course(cls, course: Any, **kwargs: Any) -> CourseGraph:
        """Build from a :class:`learnway.content.Course`: its framework and its steps."""
        rows = [(s.key, item.key, s.competencies) for item in course.items for s in item.steps]
        built = cls.from_framework(course.framework, steps=rows, **kwargs)
        return cls(
            key=course.key,
            graph=built.graph,
            bank=built.bank,
            params=built.params,
            threshold=built.threshold,
            section=built.section,
        )


def _bridge(edges: Iterable[tuple[str, str]], keep: set[str]) -> list[tuple[str, str]]:
    """Edges between kept codes, joining paths that pass through dropped ones."""
    after: dict[str, set[str]] = {}
    for before, later in edges:
        after.setdefault(before, set()).add(later)
    out: set[tuple[str, str]] = set()
    for start in keep:
        stack, seen = list(after.get(start, ())), set()
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            if node in keep:
                out.add((start, node))
            else:
                stack.extend(after.get(node, ()))
    return sorted(out)
