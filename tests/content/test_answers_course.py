"""Answer checking over every step and scaffold of the OpenStax Elementary Algebra course."""

from __future__ import annotations

import json
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from learnway.content._answers import AnswerParseError, check_answer, parse_answer

COURSE = (
    Path(__file__).resolve().parents[2].parent / "shared/content/oatutor-elementary-algebra.tar.gz"
)

# Stored answers that are not readable mathematics, with the reason. They are still accepted
# when typed exactly as stored (compared as text).
KNOWN_UNREADABLE: dict[str, str] = {
    "a4b9bbfrationalnums13b-h1": "'y**(3/4-1/4': the parenthesis is never closed",
}

# Arithmetic answers where a perturbation does not change the meaning, with the reason.
# All are equations whose only solution is 0 (72 - 240z = 72 + 33z, 0 = 207z, -13x/-13 = 0/-13):
# changing a coefficient, or the divisor of 0, leaves the same equation with the same solution.
_ONLY_ZERO = "an equation whose only solution is 0 keeps it when a coefficient changes"
KNOWN_AMBIGUOUS_PERTURBATIONS: dict[tuple[str, str], str] = {
    ("ab1ad7fGenStr21a-h2", "bump"): _ONLY_ZERO,
    ("ab1ad7fGenStr21a-h2", "flip"): _ONLY_ZERO,
    ("ab1ad7fGenStr21a-h5", "bump"): _ONLY_ZERO,
    ("ab1ad7fGenStr21a-h5", "flip"): _ONLY_ZERO,
    ("ab1ad7fGenStr21a-h8", "bump"): _ONLY_ZERO,
    ("ab1ad7fGenStr21a-h8", "flip"): _ONLY_ZERO,
    ("a870b02DivMul16f-h2", "bump"): "0/(-14) is still 0",
    ("a870b02DivMul16f-h2", "flip"): _ONLY_ZERO,
}


@dataclass(frozen=True)
class StoredAnswer:
    """One answerable thing in the course: a step, or a scaffold hint of a step."""

    id: str
    problem_type: str
    answer_type: str
    answers: tuple[str, ...]
    latex: str | None
    choices: tuple[str, ...] | None


def _stored(record: dict[str, object], answers_key: str) -> StoredAnswer:
    choices = record.get("choices")
    latex = record.get("answerLatex")
    return StoredAnswer(
        id=str(record["id"]),
        problem_type=str(record["problemType"]),
        answer_type=str(record["answerType"]),
        answers=tuple(str(a) for a in record[answers_key]),  # type: ignore[attr-defined]
        latex=str(latex) if latex else None,
        choices=tuple(str(c) for c in choices) if isinstance(choices, list) else None,
    )


def load_course(path: Path) -> tuple[list[StoredAnswer], list[StoredAnswer]]:
    """Steps and scaffolds of the course tarball, read in place."""
    steps: list[StoredAnswer] = []
    scaffolds: list[StoredAnswer] = []
    step_file = re.compile(r"/content-pool/[^/]+/steps/([^/]+)/\1\.json$")
    pathway_file = re.compile(r"/content-pool/[^/]+/steps/([^/]+)/tutoring/\1DefaultPathway\.json$")
    with tarfile.open(path) as tar:
        for member in tar:
            is_step = step_file.search(member.name) is not None
            is_pathway = pathway_file.search(member.name) is not None
            if not (is_step or is_pathway):
                continue
            handle = tar.extractfile(member)
            assert handle is not None
            data = json.load(handle)
            if is_step:
                steps.append(_stored(data, "stepAnswer"))
            else:
                scaffolds.extend(
                    _stored(hint, "hintAnswer") for hint in data if hint.get("type") == "scaffold"
                )
    return steps, scaffolds


@pytest.fixture(scope="module")
def course() -> list[StoredAnswer]:
    if not COURSE.exists():
        pytest.skip(f"course tarball not found at {COURSE}")
    steps, scaffolds = load_course(COURSE)
    assert len(steps) == 2520
    assert len(scaffolds) > 3000
    return steps + scaffolds


def _check(item: StoredAnswer, response: str) -> bool:
    return check_answer(
        answer_type=item.answer_type,
        problem_type=item.problem_type,
        expected=item.answers,
        response=response,
        choices=item.choices,
    ).correct


def test_every_stored_answer_checks_as_correct(course: list[StoredAnswer]) -> None:
    failures = []
    for item in course:
        responses = list(item.answers)
        if item.latex is not None and item.answer_type == "arithmetic":
            responses.append(item.latex)
        for response in responses:
            if not _check(item, response):
                failures.append((item.id, response))
    assert failures == []


def test_every_arithmetic_answer_is_readable(course: list[StoredAnswer]) -> None:
    unreadable: dict[str, str] = {}
    for item in course:
        if item.answer_type != "arithmetic" or item.problem_type != "TextBox":
            continue
        for answer in item.answers:
            try:
                parse_answer(answer)
            except AnswerParseError as exc:
                unreadable[item.id] = f"{answer!r}: {exc}"
    assert sorted(unreadable) == sorted(KNOWN_UNREADABLE), unreadable


def test_choice_answers_are_among_the_choices(course: list[StoredAnswer]) -> None:
    multiple = [item for item in course if item.problem_type == "MultipleChoice"]
    assert len(multiple) > 1000
    for item in multiple:
        assert item.choices is not None
        wrong = [c for c in item.choices if c not in item.answers]
        for choice in wrong:
            assert not _check(item, choice), (item.id, choice)
        assert not _check(item, "none of these"), item.id


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def bump_last_number(answer: str) -> str | None:
    """The answer with 1 added to its last number, or None when it has none."""
    found = list(_NUMBER.finditer(answer))
    if not found:
        return None
    m = found[-1]
    number = m.group()
    if "." in number:
        whole, frac = number.split(".")
        bumped = f"{int(whole) + 1}.{frac}"
    else:
        bumped = str(int(number) + 1)
    return answer[: m.start()] + bumped + answer[m.end() :]


def flip_a_sign(answer: str) -> str | None:
    """The answer with one sign changed: its first minus made a plus, else its first plus made
    a minus, else a minus put in front of its value (None for a bare plus-or-minus or a
    value of 0, where the flip changes nothing)."""
    if "-" in answer:
        return answer.replace("-", "+", 1)
    plus = re.search(r"(?<!\\pm)(?<!\\pm )\+", answer)
    if plus is not None:
        return answer[: plus.start()] + "-" + answer[plus.end() :]
    if r"\pm" in answer:
        return None
    head, equals, value = answer.rpartition("=")
    if value.strip("$ ") == "0":
        return None  # -0 is 0
    return f"{head}{equals}-{value[2:]}" if value.startswith("$$") else f"{head}{equals}-{value}"


def test_perturbed_arithmetic_answers_are_wrong(course: list[StoredAnswer]) -> None:
    missed: dict[tuple[str, str], str] = {}
    tried = 0
    for item in course:
        if item.answer_type != "arithmetic" or item.id in KNOWN_UNREADABLE:
            continue
        answer = item.answers[0]
        for kind, perturbed in (("bump", bump_last_number(answer)), ("flip", flip_a_sign(answer))):
            if perturbed is None:
                continue
            tried += 1
            if _check(item, perturbed):
                missed[(item.id, kind)] = perturbed
    assert tried > 8000
    assert sorted(missed) == sorted(KNOWN_AMBIGUOUS_PERTURBATIONS), missed
