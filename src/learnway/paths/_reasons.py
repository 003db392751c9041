"""Recommendations and their reasons, as data first and as a sentence second."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from learnway.paths._graph import CompetencyGraph

ActivityKind = Literal["step", "review", "lesson", "worked_example"]

# Each reason code has one sentence template; its params fill the placeholders.
REASON_TEMPLATES: dict[str, str] = {
    "frontier": "Next on your path: the prerequisites of {competency} are in place.",
    "almost_mastered": "You are close to mastering {competency} ({p_known:.0%} sure).",
    "goal": "{competency} is one of your goals.",
    "prerequisite_for_goal": "{competency} is a prerequisite for your goal {goal}.",
    "toward_goal": "{competency} leads to {next}, the next step toward your goal {goal}.",
    "interest": "{competency} matches your interests.",
    "deadline": "Closes the gap on required standard {competency} before {deadline}.",
    "unlocks": "Mastering {competency} opens {count} {noun} that build directly on it.",
    "review_due": "Due for review: {competency} was last seen {days_ago} days ago.",
    "quick_check": "Quick check: {competency} looks known already; one right answer confirms it.",
    "go_back": (
        "You seem stuck on {stuck_on}; go back to its prerequisite {competency}, "
        "where the evidence is still weak."
    ),
    "go_back_toward": (
        "You seem stuck on {stuck_on}; go back to {competency}, where the evidence is still "
        "weak: it leads to {next}, on the way back to {stuck_on}."
    ),
    "required_done": (
        "The required work is done: reviewing {competency} keeps it fresh "
        "(last seen {days_ago} days ago)."
    ),
    "enrichment": "The required work is done; {competency} goes further, beyond it.",
    "stuck_worked_example": (
        "You seem stuck on {competency}; a worked example with hints comes before more practice."
    ),
}


@dataclass(frozen=True)
class Reason:
    """Why an activity is recommended: a code, its parameters, and a sentence for people."""

    code: str
    params: Mapping[str, object] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return REASON_TEMPLATES[self.code].format(**self.params)

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "params": dict(self.params), "text": self.text}


@dataclass(frozen=True)
class Activity:
    """A concrete thing to do: a step (or the item holding it), a review, or a lesson."""

    kind: ActivityKind
    key: str
    item: str | None = None


@dataclass(frozen=True)
class Recommendation:
    """One entry of a student's short ranked list of next activities."""

    competency: str
    activity: Activity
    score: float
    reasons: tuple[Reason, ...]

    @property
    def is_review(self) -> bool:
        return self.activity.kind == "review"

    def as_dict(self) -> dict[str, object]:
        return {
            "competency": self.competency,
            "activity": {
                "kind": self.activity.kind,
                "key": self.activity.key,
                "item": self.activity.item,
            },
            "score": self.score,
            "reasons": [r.as_dict() for r in self.reasons],
        }


# Reasons name only what is one edge away: a direct prerequisite, or the next step (a direct
# successor) toward a goal; never a count or a chain of transitive prerequisites.


def next_step_toward(graph: CompetencyGraph, c: int, targets: NDArray[np.bool_]) -> int | None:
    """The direct successor of ``c`` that is a target or leads to one (first in course order)."""
    after = np.nonzero(graph.prereq[:, c])[0]
    if after.size == 0:
        return None
    leads = targets[after] | graph.ancestors[np.asarray(targets, dtype=bool)][:, after].any(axis=0)
    chosen = after[leads]
    if chosen.size == 0:
        return None
    return int(chosen[np.argmin(graph.rank[chosen])])


def goal_reason(graph: CompetencyGraph, c: int, goals: NDArray[np.bool_]) -> Reason | None:
    """Why ``c`` serves one of the student's goals, naming only what is one edge away: the goal
    itself where ``c`` is its direct prerequisite, else the next step from ``c`` toward it."""
    code = graph.codes[c]
    goals = np.asarray(goals, dtype=bool)
    direct = np.nonzero(goals & graph.prereq[:, c])[0]
    if direct.size:
        goal = int(direct[np.argmin(graph.rank[direct])])
        return Reason("prerequisite_for_goal", {"competency": code, "goal": graph.codes[goal]})
    step = next_step_toward(graph, c, goals)
    if step is None:
        return None
    reached = np.nonzero(goals & (graph.ancestors[:, step] | (np.arange(graph.n) == step)))[0]
    goal = int(reached[np.argmin(graph.rank[reached])])
    return Reason(
        "toward_goal",
        {"competency": code, "next": graph.codes[step], "goal": graph.codes[goal]},
    )


def go_back_reason(graph: CompetencyGraph, c: int, stuck_on: int) -> Reason:
    """Why to go back from ``stuck_on`` to its earlier prerequisite ``c``, one edge at a time."""
    code, stuck = graph.codes[c], graph.codes[stuck_on]
    if graph.prereq[stuck_on, c]:
        return Reason("go_back", {"competency": code, "stuck_on": stuck})
    target = np.zeros(graph.n, dtype=bool)
    target[stuck_on] = True
    step = next_step_toward(graph, c, target)
    nxt = graph.codes[step] if step is not None else stuck
    return Reason("go_back_toward", {"competency": code, "stuck_on": stuck, "next": nxt})


def unlocks_reason(graph: CompetencyGraph, c: int, open_: NDArray[np.bool_]) -> Reason | None:
    """How many competencies not yet mastered build directly on ``c`` (its direct successors)."""
    count = int((graph.prereq[:, c] & np.asarray(open_, dtype=bool)).sum())
    if count == 0:
        return None
    noun = "competency" if count == 1 else "competencies"
    return Reason("unlocks", {"competency": graph.codes[c], "count": count, "noun": noun})
