"""The in-process verdict on plain numbers agrees with the full check, and stays in its lane."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from learnway.content import check_answer
from learnway.content._answers import quick_check


def _forms(value: Fraction) -> list[str]:
    """Ways a student or a course writes a plain number."""
    sign = "-" if value < 0 else ""
    num, den = abs(value.numerator), value.denominator
    forms = [f"{sign}{num}/{den}", f"$${sign}\\frac{{{num}}}{{{den}}}$$"]
    forms.append(f"{sign}\\dfrac{{{num}}}{{{den}}}")
    if den == 1:
        forms += [f"{sign}{num}", f"$${sign}{num}$$", f"{sign}{num}.0"]
    if 10**6 % den == 0:
        forms.append(f"{sign}{num * 10**6 // den // 10**6}.{num * 10**6 // den % 10**6:06d}")
    return forms


numbers = st.fractions(min_value=-(10**6), max_value=10**6, max_denominator=40)


@settings(max_examples=150, deadline=None)
@given(want=numbers, got=numbers, pick=st.integers(0, 10), pick2=st.integers(0, 10))
def test_plain_numbers_get_the_full_checks_verdict(
    want: Fraction, got: Fraction, pick: int, pick2: int
) -> None:
    expected = _forms(want)[pick % len(_forms(want))]
    response = _forms(got)[pick2 % len(_forms(got))]
    quick = quick_check(answer_type="arithmetic", problem_type="TextBox",
                        expected=[expected], response=response)  # fmt: skip
    full = check_answer(answer_type="arithmetic", problem_type="TextBox",
                        expected=[expected], response=response)  # fmt: skip
    assert quick == full
    assert quick.correct == (want == got)


@pytest.mark.parametrize(
    "response",
    [
        "",
        "x+1",
        "2^3",
        "1/0",
        "\\frac{1}{0}",
        "25%",
        "1,363",
        "1e5",
        "9^99999999",
        "3.",
        "+3",
        "1" * 41,
        "0." + "1" * 41,
        "\\sqrt{4}",
        "4, -2",
        "x = 4",
        "(1,2)",
    ],
)
def test_anything_but_a_plain_number_goes_to_the_full_check(response: str) -> None:
    assert quick_check(answer_type="arithmetic", problem_type="TextBox",
                       expected=["4"], response=response) is None  # fmt: skip


@pytest.mark.parametrize(
    ("answer_type", "problem_type", "expected", "choices", "response"),
    [
        ("string", "TextBox", ["Four"], None, " four. "),
        ("string", "TextBox", ["four"], None, "4"),
        ("arithmetic", "MultipleChoice", ["$$4$$"], ["$$4$$", "$$5$$"], "$$5$$"),
        ("string", "MultipleChoice", ["Yes"], ["Yes", "No"], "yes"),
        ("string", "MultipleChoice", ["Yes"], ["Yes", "No"], "maybe"),
        ("string", "TextBox", ["four"], None, ""),
    ],
)
def test_text_and_choices_get_the_full_checks_verdict(
    answer_type: str, problem_type: str, expected: list[str], choices: list[str] | None,
    response: str,
) -> None:  # fmt: skip
    kwargs = {"answer_type": answer_type, "problem_type": problem_type, "expected": expected,
              "response": response, "choices": choices}  # fmt: skip
    assert quick_check(**kwargs) == check_answer(**kwargs)


@pytest.mark.parametrize("expected", [["$$x=4$$"], ["4", "\\pm 4"], ["$$4x+12$$"], ["$$3^8$$"]])
def test_symbolic_expected_answers_go_to_the_full_check(expected: list[str]) -> None:
    assert quick_check(answer_type="arithmetic", problem_type="TextBox",
                       expected=expected, response="4") is None  # fmt: skip


def test_an_overlong_response_goes_to_the_full_check() -> None:
    assert quick_check(answer_type="string", problem_type="TextBox",
                       expected=["a"], response="a" * 2001) is None  # fmt: skip


def test_the_checker_answers_plain_numbers_without_a_worker() -> None:
    from learnway.content import AnswerChecker

    checker = AnswerChecker(workers=1)
    try:
        verdict = checker.check(key=1, answer_type="arithmetic", problem_type="TextBox",
                                expected=["$$\\frac{3}{4}$$"], response="0.75")  # fmt: skip
        assert verdict.correct
        assert checker._pool._zygote is None  # no worker process was started for it
        symbolic = checker.check(key=1, answer_type="arithmetic", problem_type="TextBox",
                                 expected=["$$x+1$$"], response="1+x")  # fmt: skip
        assert symbolic.correct
        assert checker._pool._zygote is not None
    finally:
        checker.close()
