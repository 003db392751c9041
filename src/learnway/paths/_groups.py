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

    kind: str  # "blocking_prerequisite" | "next_competency" | "nearby" | "independent"
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
    nearby: int = 8,
) -> list[Group]:
    """Small groups for one section and one day, plus the students best served alone.

    Students whose top recommendation goes back to the same prerequisite form
    ``blocking_prerequisite`` groups; those whose top new competency is the same form
    ``next_competency`` groups; groups above ``max_size`` are split evenly; students in a need
    shared by fewer than ``min_size``, or with nothing new to learn, practise independently.
    Groups are about new work: a student with a review due is grouped by their next new
    competency all the same, and does the review on their own.

    Students left over form ``nearby`` groups when their next competencies lie within
    ``nearby`` places of each other in the course order: the group starts together with the
    earliest of them (what the others have just passed), then each goes on alone. In a class
    spread over the course, this is what keeps small-group teaching possible.
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
    blocked_by = sc.go_back_from[rows, best]
    needs: dict[tuple[str, int], list[int]] = {}
    alone: list[int] = []
    for s in range(n_students):
        if not has_new[s]:
            alone.append(s)
        elif blocked_by[s] >= 0:
            needs.setdefault(("blocking_prerequisite", int(best[s])), []).append(s)
        else:
            needs.setdefault(("next_competency", int(best[s])), []).append(s)
    groups: list[Group] = []
    spread: list[int] = []
    for (kind, c), members in sorted(needs.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        if len(members) < min_size:
            (spread if kind == "next_competency" else alone).extend(members)
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
    rank = planner.graph.rank
    spread.sort(key=lambda s: (rank[best[s]], s))
    start = 0
    while start < len(spread):
        end = start + 1
        while (
            end < len(spread)
            and end - start < max_size
            and rank[best[spread[end]]] - rank[best[spread[start]]] <= nearby
        ):
            end += 1
        members = spread[start:end]
        if len(members) >= min_size:
            c = int(best[members[0]])
            why = (
                f"{len(members)} students are at nearby points of the course, the earliest at "
                f"{codes[c]}; start together there, then each goes on with their next step."
            )
            groups.append(Group("nearby", codes[c], tuple(names[i] for i in members), why))
        else:
            alone.extend(members[:1])
            end = start + 1
        start = end
    if alone:
        groups.append(
            Group(
                "independent",
                None,
                tuple(names[i] for i in sorted(alone)),
                "Independent practice: nothing new is left, or no other student is near the same "
                "point of the course.",
            )
        )
    return groups
