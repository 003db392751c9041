"""Items, steps and hints: the scored content a student practises."""

from __future__ import annotations

from dataclasses import dataclass

from learnway.frameworks import Framework

PROBLEM_TYPES = ("TextBox", "MultipleChoice")
ANSWER_TYPES = ("arithmetic", "string")


@dataclass(frozen=True, slots=True)
class Hint:
    """A hint, or a scaffold (a hint that is a small question with its own answer)."""

    key: str
    kind: str  # "hint" | "scaffold"
    title: str
    text: str
    depends_on: tuple[str, ...] = ()
    problem_type: str | None = None
    answer_type: str | None = None
    answers: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    sub_hints: tuple[Hint, ...] = ()


@dataclass(frozen=True, slots=True)
class Step:
    """One scored question of an item, aligned to one or more competencies."""

    key: str
    position: int
    prompt: str
    body: str
    problem_type: str
    answer_type: str
    answers: tuple[str, ...]
    competencies: tuple[str, ...]
    choices: tuple[str, ...] = ()
    answer_latex: str | None = None
    hints: tuple[Hint, ...] = ()


@dataclass(frozen=True, slots=True)
class Item:
    """A problem: a title, a body, and its steps; ``lesson`` is a competency code."""

    key: str
    title: str
    body: str
    lesson: str
    source: str
    license: str
    attribution: str
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class Course:
    """A content package: the framework of its skills and lessons, and its items."""

    key: str
    title: str
    language: str
    source: str
    license: str
    attribution: str
    framework: Framework
    items: tuple[Item, ...]

    @property
    def steps(self) -> list[Step]:
        return [step for item in self.items for step in item.steps]
