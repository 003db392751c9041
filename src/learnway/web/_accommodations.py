"""Accommodations from the learner profile that change what the practice page does.

A profile records accommodations as free text (``kind``, as a school writes it); the ones below
act: *read aloud* adds a button that reads each prompt with the browser's speech synthesis,
*extended time* multiplies the time guide of each step, and a *reduced set* (or *reduced
choices*) shows a multiple-choice step with fewer options, the right one always among them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from learnway.store._schema import Accommodation

READ_ALOUD = ("read aloud", "text to speech", "text-to-speech")
EXTENDED_TIME = ("extended time", "extra time")
REDUCED_CHOICES = ("reduced set", "reduced choices", "fewer choices")
EXTENDED_FACTOR = 1.5
STEP_SECONDS = 90
"""The time guide of a step without accommodation (the planner's minutes per step)."""
REDUCED_TO = 3


@dataclass(frozen=True)
class Accommodations:
    read_aloud: bool = False
    time_factor: float = 1.0
    reduced_choices: bool = False

    @property
    def step_seconds(self) -> int:
        return round(STEP_SECONDS * self.time_factor)


def accommodations_of(session: Session, student_id: int) -> Accommodations:
    kinds = {
        k.strip().lower()
        for k in session.scalars(
            select(Accommodation.kind).where(Accommodation.student_id == student_id)
        )
    }
    return Accommodations(
        read_aloud=bool(kinds & set(READ_ALOUD)),
        time_factor=EXTENDED_FACTOR if kinds & set(EXTENDED_TIME) else 1.0,
        reduced_choices=bool(kinds & set(REDUCED_CHOICES)),
    )


def reduce_choices(choices: list[str], answers: list[str], keep: int = REDUCED_TO) -> list[str]:
    """At most ``keep`` choices in their order: every right answer, then the first others."""
    if len(choices) <= keep:
        return choices
    right = {a.strip() for a in answers}
    wanted = [c for c in choices if c.strip() in right]
    others = [c for c in choices if c.strip() not in right]
    chosen = set(wanted + others[: max(keep - len(wanted), 0)])
    return [c for c in choices if c in chosen]
