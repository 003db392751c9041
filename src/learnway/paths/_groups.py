"""Flexible groups: students who share a next competency or a blocking prerequisite."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from learnway.paths._mastery import LearnerState
from learnway.paths._planner import Planner


@dataclass(frozen=True)
class Group:
    """A suggested group: what it works on, who is in it, and why."""

    kind: str  # "blocking_prerequisite" | "next_competency" | "independent"
    competency: str | None
    students: tuple[str, ...]
    explanation: str


def suggest_groups(
    planner: Planner,
    state: LearnerState,
    now: float,
    *,
    students: Sequence[str] | None = None,
    min_size: int = 3,
    max_size: int = 6,
) -> list[Group]:
    """Small groups for one section and one day, plus the students best served alone.

    Students whose top recommendation goes back to the same prerequisite form
    ``blocking_prerequisite`` groups; those whose top new competency is the same form
    ``next_competency`` groups; groups above ``max_size`` are split evenly; students in a need
    shared by fewer than ``min_size``, or whose next step is a review, practise independently.
    """
    if not 1 <= min_size <= max_size:
        raise ValueError("need 1 <= min_size <= max_size")
    n_students = state.shape[0]
    names = list(students) if students is not None else [str(i) for i in range(n_students)]
    if len(names) != n_students:
        raise ValueError("one name per student in the state")
    sc = planner.scores(state, now)
    codes = planner.graph.codes
    rows = np.arange(n_students)
    best = np.argmax(sc.new, axis=1)
    has_new = np.isfinite(sc.new[rows, best])
    reviewing = np.isfinite(sc.review.max(axis=1)) & (
        sc.review.max(axis=1) > np.where(has_new, sc.new[rows, best], -np.inf)
    )
    blocked_by = sc.go_back_from[rows, best]
    needs: dict[tuple[str, int], list[int]] = {}
    alone: list[int] = []
    for s in range(n_students):
        if reviewing[s] or not has_new[s]:
            alone.append(s)
        elif blocked_by[s] >= 0:
            needs.setdefault(("blocking_prerequisite", int(best[s])), []).append(s)
        else:
            needs.setdefault(("next_competency", int(best[s])), []).append(s)
    groups: list[Group] = []
    for (kind, c), members in sorted(needs.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        if len(members) < min_size:
            alone.extend(members)
            continue
        n_groups = -(-len(members) // max_size)
        for part in np.array_split(np.array(members), n_groups):
            who = tuple(names[i] for i in part)
            if kind == "blocking_prerequisite":
                why = (
                    f"{len(who)} students are stuck further on and need {codes[c]} first; "
                    "reteach it together."
                )
            else:
                why = f"{len(who)} students are ready for {codes[c]} next; introduce it together."
            groups.append(Group(kind, codes[c], who, why))
    if alone:
        groups.append(
            Group(
                "independent",
                None,
                tuple(names[i] for i in sorted(alone)),
                "Independent practice: a review is due, or no other student shares the next step.",
            )
        )
    return groups
