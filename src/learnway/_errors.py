"""The one error type for bad input: every problem found, each naming where it was."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input: the file (or source), the record in it, and why."""

    source: str
    record: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}: {self.record}" if self.record else self.source
        return f"{where}: {self.message}"


class InputError(ValueError):
    """Raised when an input is rejected. Nothing has been written when it is raised.

    ``problems`` lists every problem found (the per-row report), not only the first.
    """

    def __init__(self, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("InputError needs at least one problem")
        self.problems = list(problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:20])
        more = len(self.problems) - 20
        if more > 0:
            shown += f"\n  ... and {more} more"
        super().__init__(f"{len(self.problems)} problem(s) in the input:\n{shown}")

    @classmethod
    def one(cls, source: str, record: str, message: str) -> InputError:
        return cls([Problem(source, record, message)])
