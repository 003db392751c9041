"""Answer checking, construct by construct: what must be accepted and what must not."""

from __future__ import annotations

import time

import pytest
import sympy

from learnway.content._answers import AnswerCheck, AnswerParseError, check_answer, parse_answer


def arithmetic(expected: str | list[str], response: str) -> AnswerCheck:
    answers = [expected] if isinstance(expected, str) else expected
    return check_answer(
        answer_type="arithmetic", problem_type="TextBox", expected=answers, response=response
    )


RIGHT = [
    # numbers and fractions
    (r"$$\frac{1}{2}$$", "1/2"),
    (r"$$\frac{1}{2}$$", "0.5"),
    (r"$$\frac{1}{2}$$", "2/4"),
    (r"$$\frac{1}{2}$$", ".5"),
    (r"$$\frac{-1}{3}$$", "-1/3"),
    (r"$$\frac{7}{\left(-4\right)}$$", "-1.75"),
    (r"$$\dfrac{3}{4}$$", r"\frac34"),
    ("$$-4$$", "−4"),
    ("$$12$$", " 12 "),
    # expressions
    (r"$$\frac{3}{c+3}$$", "3/(c+3)"),
    (r"$$\frac{3}{c+3}$$", r"\frac{3}{3+c}"),
    (r"$$6p+3-\frac{2}{p}$$", "(6p^2+3p-2)/p"),
    (r"$$\left(8m-1\right)^2$$", "64m^2 - 16m + 1"),
    (r"$$\left(x-6\right) \left(x+2\right)$$", "x**2-4x-12"),
    ("$$125w^3 x^3$$", "(5wx)^3"),
    ("20xy", "20*x*y"),
    ("20xy", "20 y x"),
    (r"$$0.05\times2 x$$", "0.1x"),
    (r"$$3x+3\times4$$", r"3x+12"),
    (r"$$9.6\times{10}^4$$", "96000"),
    (r"$$7.8\times{10}^{\left(-3\right)}$$", "0.0078"),
    # roots, absolute values, pi
    (r"$$9\sqrt{5}$$", "sqrt(405)"),
    (r"$$\frac{\sqrt{25}}{\sqrt{16}}$$", "5/4"),
    (r"$$\sqrt[3]{y}$$", "y^(1/3)"),
    (r"$$2\sqrt[3]{2}$$", "16^(1/3)"),
    (r"$$|x|$$", "sqrt(x^2)"),
    (r"$$|x| \sqrt[4]{x^3}$$", r"\left|x\right| x^{3/4}"),
    (r"$$6\sqrt{a}\sqrt{b}$$", "6sqrt(ab)"),
    (r"$$2\pi$$", "2π"),
    ("$$6$$", "√36"),
    # equations: rearranged, scaled, fractions cleared, solved form
    ("$$y=-x-3$$", "y = -x - 3"),
    ("$$y=-x-3$$", "-x-3=y"),
    ("$$y=-x-3$$", "y+x=-3"),
    ("$$y=-x-3$$", "x + y + 3 = 0"),
    ("$$y=-x-3$$", "2y=-2x-6"),
    (r"$$\frac{p}{\left(-9\right)}=81$$", "p = -729"),
    (r"$$\frac{1}{4}$$ + $$\frac{1}{2}$$ $$=$$ $$\frac{1}{t}$$", "1/t = 3/4"),
    (r"$$\frac{1}{4}$$ + $$\frac{1}{2}$$ $$=$$ $$\frac{1}{t}$$", "t = 4/3"),
    ("$$m=2$$", "2"),
    ("$$2$$", "m = 2"),
    ("$$n^2$$ + $$2n$$ - $$99=$$ $$0$$", "(n+11)(n-9)=0"),
    ("$$27=-22$$", "-22=27"),
    # inequalities
    ("$$y<2x-4$$", "2x-4>y"),
    (r"$$x \geq 3$$", "3 ≤ x"),
    ("$$x>3$$", "-x < -3"),
    # lists of solutions, plus-or-minus, labelled values
    (r"$$\pm 3$$", "3, -3"),
    (r"$$\pm 3$$", "-3 or 3"),
    (r"$$\pm 3$$", "x = 3, x = -3"),
    (r"$$x=\pm \sqrt{3}$$", "x = -sqrt(3), x = sqrt(3)"),
    (r"$$\frac{5\pm \sqrt{61}}{2}$$", "(5-sqrt(61))/2, (5+sqrt(61))/2"),
    (r"$$\frac{5\pm \sqrt{61}}{2}$$", "5/2 +- sqrt(61)/2"),
    ("$$r$$ $$=$$ $$30$$ or $$1$$", "1, 30"),
    ("521a842c", "521a842c"),
    ("521a842c", "842c 521a"),
    ("521a842c", "a = 521, c = 842"),
    # intervals and ordered pairs
    (r"$$(-25,\infty)$$", "(-25, oo)"),
    (r"$$(-25,\infty)$$", "(-25, ∞)"),
    (r"$$[\frac{-1}{20},\infty)$$", "[-0.05, infinity)"),
    (r"$$(-\infty,\frac{11}{12}]$$", r"(-\infty, 11/12]"),
    ("$$(-2,5)$$", "(-2, 5)"),
    # matrices
    (
        r"$$\begin{bmatrix} 1 & \frac{1}{2} \\ 4 & 2 \end{bmatrix}$$",
        r"\begin{bmatrix} 1 & 0.5 \\ 4 & 2 \end{bmatrix}",
    ),
    # thousands separators, percents, currency, units, words
    ("$$1363$$", "1,363"),
    ("$$1363$$", "1, 363"),
    ("$$12146$$", "$12,146"),
    ("$$0.071$$", "7.1%"),
    ("$$7.1$$", "7.1%"),
    ("$$1.79$$", r"\$1.79"),
    ("$$5.5$$", "5.5 feet"),
    ("$$14$$", "14 mph."),
    ("TRUE", "true"),
]


@pytest.mark.parametrize(("expected", "response"), RIGHT)
def test_equivalent_answers_are_right(expected: str, response: str) -> None:
    check = arithmetic(expected, response)
    assert check == AnswerCheck(True, "equivalent"), check


WRONG = [
    # numbers: near misses
    (r"$$\frac{1}{2}$$", "1/3"),
    (r"$$\frac{1}{2}$$", "-1/2"),
    (r"$$\frac{1}{2}$$", "0.51"),
    (r"$$\frac{1}{3}$$", "0.33"),
    ("$$92400$$", "92401"),
    ("$$-4$$", "4"),
    # expressions: sign errors, dropped terms, wrong exponents, wrong factorings
    (r"$$\frac{3}{c+3}$$", "3/(c-3)"),
    (r"$$\frac{3}{c+3}$$", "3/c+3"),
    (r"$$\left(8m-1\right)^2$$", "64m^2 + 16m + 1"),
    (r"$$\left(8m-1\right)^2$$", "64m^2 + 1"),
    (r"$$\left(x-6\right) \left(x+2\right)$$", "(x+6)(x-2)"),
    ("$$125w^3 x^3$$", "125w^3x^2"),
    ("20xy", "20x"),
    ("$$x^4$$", "4x"),
    (r"$$|x|$$", "x"),
    (r"$$\sqrt[3]{y}$$", "sqrt(y)"),
    (r"$$9\sqrt{5}$$", "9*5"),
    ("$$2W - 4$$", "2w - 4"),
    # equations: a different line, a different equation, missing solutions, value vs equation
    ("$$y=-x-3$$", "y = x - 3"),
    ("$$y=-x-3$$", "y = -x + 3"),
    ("$$y=-x-3$$", "x = -y + 3"),
    ("$$y=-x-3$$", "-x-3"),
    ("$$x^2=9$$", "x = 3"),
    ("$$m=2$$", "m = 3"),
    ("$$m=2$$", "3"),
    (r"$$g=\frac{92400}{w}$$", "g = 92401/w"),
    ("$$27=-22$$", "27=-23"),
    ("$$14m+27=14m-22$$", "14m+27=14m-23"),
    ("$$x=4$$", "y = 4"),
    # inequalities: direction and strictness
    ("$$x>3$$", "x < 3"),
    ("$$x>3$$", "x >= 3"),
    ("$$x>3$$", "-x > -3"),
    ("$$x>3$$", "x = 3"),
    # lists: a missing solution, an extra one, a wrong one
    (r"$$\pm 3$$", "3"),
    (r"$$\pm 3$$", "3, -3, 0"),
    (r"$$\pm 3$$", "3, 3"),
    (r"$$\frac{5\pm \sqrt{61}}{2}$$", "(5+sqrt(61))/2"),
    ("$$r$$ $$=$$ $$30$$ or $$1$$", "30, -1"),
    ("521a842c", "842a521c"),
    ("521a842c", "521a"),
    ("521a842c", "521a843c"),
    # intervals: wrong endpoint, open versus closed, reversed
    (r"$$(-25,\infty)$$", "[-25, oo)"),
    (r"$$(-25,\infty)$$", "(-24, oo)"),
    (r"$$(-25,\infty)$$", "(-oo, -25)"),
    (r"$$[\frac{-1}{20},\infty)$$", "(-1/20, oo)"),
    (r"$$(-\infty,\frac{11}{12}]$$", "(-oo, 11/12)"),
    # ordered pairs: swapped coordinates, a sign, one coordinate
    ("$$(-2,5)$$", "(5, -2)"),
    ("$$(-2,5)$$", "(2, 5)"),
    ("$$(-2,5)$$", "-2"),
    ("$$(-2,5)$$", "(-2, 5, 0)"),
    # matrices: one entry, the shape
    (
        r"$$\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}$$",
        r"\begin{bmatrix} 1 & 2 \\ 3 & 5 \end{bmatrix}",
    ),
    (
        r"$$\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}$$",
        r"\begin{bmatrix} 1 & 3 \\ 2 & 4 \end{bmatrix}",
    ),
    (r"$$\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}$$", r"\begin{bmatrix} 1 & 2 \end{bmatrix}"),
    # thousands and percents are not read loosely where a list or a value decides
    ("$$1363$$", "1,364"),
    ("$$7.1$$", "71%"),
    ("TRUE", "false"),
]


@pytest.mark.parametrize(("expected", "response"), WRONG)
def test_near_misses_are_wrong(expected: str, response: str) -> None:
    check = arithmetic(expected, response)
    assert not check.correct, check
    assert not check.reason.startswith("could not read"), check


@pytest.mark.parametrize(
    ("expected", "response", "reason"),
    [
        (r"$$\pm 3$$", "3", "expected 2 answers, got 1"),
        ("$$x>3$$", "x >= 3", "strict and non-strict inequality differ"),
        ("$$(-25,\\infty)$$", "[-25, oo)", "an endpoint is open where it should be closed"),
        ("$$(-2,5)$$", "(-2, 5, 0)", "expected 2 coordinates, got 3"),
        ("$$y=-x-3$$", "-x-3", "expected an equation"),
    ],
)
def test_wrong_answers_say_why(expected: str, response: str, reason: str) -> None:
    check = arithmetic(expected, response)
    assert not check.correct
    assert check.reason.startswith(reason), check


@pytest.mark.parametrize(
    "garbage",
    [
        "asdfgh",
        "(5",
        "5)",
        "5 +",
        "= 5",
        "x ==",
        "@#!",
        "1/",
        r"\frac{1}",
        r"\begin{bmatrix} 1 & 2 \\ 3 \end{bmatrix}",
        r"\unknown{3}",
        "2 3",
        "[1, 2, 3]",
        "(1]",
        "1 ± 2 ± 3 ± 4 ± 5",
        "x" * 5,
    ],
)
def test_unreadable_answers_are_refused_with_a_reason(garbage: str) -> None:
    check = arithmetic("$$5$$", garbage)
    assert not check.correct
    assert check.reason.startswith("could not read your answer: "), check


def test_an_empty_answer_is_refused() -> None:
    assert arithmetic("$$5$$", "   ") == AnswerCheck(False, "no answer given")


def test_division_by_zero_is_not_an_error() -> None:
    assert not arithmetic("$$5$$", "1/0").correct
    assert not arithmetic("$$5$$", "x/0").correct


def test_any_of_several_expected_answers_is_right() -> None:
    assert arithmetic(["$$4$$", "$$-4$$"], "-4").correct
    assert not arithmetic(["$$4$$", "$$-4$$"], "5").correct


def test_an_unreadable_stored_answer_still_matches_its_own_text() -> None:
    assert arithmetic("y**(3/4-1/4", "y**(3/4-1/4").correct
    assert not arithmetic("y**(3/4-1/4", "y**(1/2)").correct


# -- string answers ------------------------------------------------------------------------


def string(expected: str, response: str) -> AnswerCheck:
    return check_answer(
        answer_type="string", problem_type="TextBox", expected=[expected], response=response
    )


@pytest.mark.parametrize(
    ("expected", "response"),
    [
        ("DNE", "dne"),
        ("DNE", "  DNE. "),
        ("m=4, m=-2", "m = 4,m = -2"),
        ("x−7/4(x+3)", "x-7/4(x+3)"),
        ("$1.79", "1.79"),
        ("$1.79", "$ 1.79"),
        (
            "Country road speed = 50, Interstate speed = 65",
            "country road speed=50, interstate speed=65",
        ),
        ("x**3", "x^3"),
        ("(0,13), DNE", "$$(0,13)$$, DNE"),
    ],
)
def test_string_answers_are_normalized(expected: str, response: str) -> None:
    assert string(expected, response) == AnswerCheck(True, "matches the answer")


@pytest.mark.parametrize(
    ("expected", "response"),
    [
        ("DNE", "DN"),
        ("m=4, m=-2", "m=4, m=2"),
        ("m=4, m=-2", "m=4"),
        ("(0,13), DNE", "(13,0), DNE"),
        ("$1.79", "1.97"),
        ("Complex", "Real"),
        (
            "Country road speed = 50, Interstate speed = 65",
            "countryroad speed=50, interstate speed=65",
        ),
    ],
)
def test_string_near_misses_are_wrong(expected: str, response: str) -> None:
    assert string(expected, response) == AnswerCheck(False, "does not match the answer")


# -- multiple choice ------------------------------------------------------------------------

CHOICES = [
    "$$(-\\infty,\\frac{11}{12})$$",
    "$$(-\\infty,\\frac{11}{12}]$$",
    "$$(\\frac{11}{12},\\infty]$$",
]


def choice(response: str, choices: list[str] | None = CHOICES) -> AnswerCheck:
    return check_answer(
        answer_type="string",
        problem_type="MultipleChoice",
        expected=[CHOICES[1]],
        response=response,
        choices=choices,
    )


def test_the_right_choice_is_right() -> None:
    assert choice(CHOICES[1]) == AnswerCheck(True, "matches choice")
    assert choice("$$(-\\infty, \\frac{11}{12}]$$ ").correct


def test_another_choice_is_wrong() -> None:
    assert choice(CHOICES[0]) == AnswerCheck(False, "not the right choice")
    assert choice(CHOICES[2]) == AnswerCheck(False, "not the right choice")


def test_a_response_that_is_no_choice_is_refused() -> None:
    assert choice("(-oo, 11/12]") == AnswerCheck(False, "not one of the choices")
    assert choice("B") == AnswerCheck(False, "not one of the choices")


def test_without_the_choices_only_the_answer_is_right() -> None:
    assert choice(CHOICES[1], choices=None).correct
    assert choice("B", choices=None) == AnswerCheck(False, "not the right choice")


def test_near_duplicate_choices_are_told_apart() -> None:
    choices = ["$$8$$ lb. $$13$$ oz", "$$8$$ lb. $$13$$ oz."]
    check = check_answer(
        answer_type="string",
        problem_type="MultipleChoice",
        expected=[choices[1]],
        response=choices[0],
        choices=choices,
    )
    assert check == AnswerCheck(False, "not the right choice")


# -- the API ----------------------------------------------------------------------------------


def test_programming_errors_raise() -> None:
    with pytest.raises(ValueError, match="answer_type"):
        check_answer(answer_type="essay", problem_type="TextBox", expected=["a"], response="a")
    with pytest.raises(ValueError, match="problem_type"):
        check_answer(answer_type="string", problem_type="Slider", expected=["a"], response="a")
    with pytest.raises(ValueError, match="expected"):
        check_answer(answer_type="string", problem_type="TextBox", expected=[], response="a")
    with pytest.raises(ValueError, match="expected"):
        check_answer(answer_type="string", problem_type="TextBox", expected="a", response="a")


def test_check_is_frozen() -> None:
    check = arithmetic("$$1$$", "1")
    with pytest.raises(AttributeError):
        check.correct = False  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (r"$$\frac{3}{c+3}$$", 3 / (sympy.Symbol("c") + 3)),
        ("y = -x - 3", sympy.Eq(sympy.Symbol("y"), -sympy.Symbol("x") - 3)),
        (r"[\frac{-1}{20},\infty)", sympy.Interval(sympy.Rational(-1, 20), sympy.oo)),
        ("(1, 2)", sympy.Tuple(1, 2)),
        ("1, 2", sympy.FiniteSet(1, 2)),
        ("0.1", sympy.Rational(1, 10)),
        (r"\sqrt[3]{-8}", sympy.Integer(-2)),
        ("3 = 3", sympy.Eq(3, 3, evaluate=False)),
    ],
)
def test_parse_answer(text: str, value: sympy.Basic) -> None:
    assert parse_answer(text) == value


def test_parse_answer_raises_with_a_reason() -> None:
    with pytest.raises(AnswerParseError, match="unknown word 'hello'"):
        parse_answer("hello")
    with pytest.raises(AnswerParseError, match="unsupported LaTeX command"):
        parse_answer(r"\int x")


def test_checking_is_fast() -> None:
    responses = [f"{n}x^2 - {n + 1}x + 3 = 0" for n in range(200)]
    started = time.perf_counter()
    for response in responses:
        arithmetic("$$3x^2 - 4x + 3 = 0$$", response)
    assert (time.perf_counter() - started) / len(responses) < 0.05
