"""Recommendations and their reasons, as data first and as a sentence second."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

ActivityKind = Literal["step", "review", "lesson", "worked_example"]

# Each reason code has one sentence template; its params fill the placeholders.
REASON_TEMPLATES: dict[str, str] = {
    "frontier": "Next on your path: the prerequisites of {competency} are in place.",
    "almost_mastered": "You are close to mastering {competency} ({p_known:.0%} sure).",
    "goal": "{competency} is one of your goals.",
    "prerequisite_for_goal": "{competency} is a prerequisite for your goal {goal}.",
    "interest": "{competency} matches your interests.",
    "deadline": "Closes the gap on required standard {competency} before {deadline}.",
    "unlocks": "Mastering {competency} unlocks {count} more competencies.",
    "review_due": "Due for review: {competency} was last seen {days_ago} days ago.",
    "go_back": (
        "You seem stuck on {stuck_on}; go back to its prerequisite {competency}, "
        "where the evidence is still weak."
    ),
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
