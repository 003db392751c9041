"""Check a learner's answer to a step against the step's stored answers.

``check_answer`` is the one entry point. The rules (also in ``docs/answers.md``):

* ``MultipleChoice``: the response must be one of the choices, and right when it is one of the
  expected answers; both sides are compared after text normalization.
* ``arithmetic``: the response and each expected answer are read into sympy objects
  (``parse_answer``) and compared by mathematical equivalence:

  - expressions are equal when they agree at several sample points (real values of both signs,
    complex arithmetic, 9 significant digits); when too few points can be evaluated, sympy decides
    with ``simplify(a - b) == 0``;
  - an equation is the same equation when, with everything moved to one side and fractions
    cleared, the two sides are nonzero constant multiples of each other (``y = -x - 3``,
    ``-x - 3 = y``, ``x + y + 3 = 0`` and ``2y = -2x - 6`` are one equation; ``x = 3`` is not
    ``x^2 = 9``); a solved equation ``x = 4`` and the bare value ``4`` are interchangeable;
  - an inequality must keep its strictness and differ only by a positive multiple;
  - ordered pairs, intervals and matrices are compared element by element, in order, with
    open and closed ends told apart; lists of answers (``x = 4, x = -2``, ``\\pm 3``,
    ``521a842c``) are compared as sets;
  - a percent sign on the response is read either as "/100" or as a label, when the expected
    answer has none; ``1,363`` is read as one number when a single number is expected.

* ``string``: the texts are compared after normalization (case, spaces, unicode dashes, math
  delimiters ``$$``, a trailing period).

A response whose numbers or expressions would grow too large to work out (``9^99999999``) is not
judged at all: ``check_answer`` raises :class:`AnswerTooLarge`. Run it through
:class:`AnswerChecker` to bound the time and memory of every check.
"""

from __future__ import annotations

import cmath
import contextlib
import random
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import sympy
from sympy.core.relational import Relational

from learnway.content._latex import AnswerParseError, AnswerTooLarge, parse_answer

__all__ = [
    "AnswerCheck",
    "AnswerParseError",
    "AnswerTooLarge",
    "check_answer",
    "normalize_text",
    "parse_answer",
    "quick_check",
]

_SAMPLES = 8
_MIN_AGREEING = 3
_REL_TOL = 1e-11


@dataclass(frozen=True, slots=True)
class AnswerCheck:
    """The verdict on one response: whether it is right, and a short reason to show."""

    correct: bool
    reason: str


def check_answer(
    *,
    answer_type: str,
    problem_type: str,
    expected: Sequence[str],
    response: str,
    choices: Sequence[str] | None = None,
) -> AnswerCheck:
    """Check ``response`` against the ``expected`` answers of a step.

    >>> check_answer(answer_type="arithmetic", problem_type="TextBox",
    ...              expected=[r"$$\\frac{1}{2}$$"], response="0.5")
    AnswerCheck(correct=True, reason='equivalent')
    >>> check_answer(answer_type="arithmetic", problem_type="TextBox",
    ...              expected=["$$y=-x-3$$"], response="y = x - 3")
    AnswerCheck(correct=False, reason='not equivalent')
    """
    if isinstance(expected, str) or not expected:
        raise ValueError("expected must be a non-empty sequence of answers")
    if not response or not response.strip():
        return AnswerCheck(False, "no answer given")
    if problem_type == "MultipleChoice":
        return _check_choice(expected, response, choices)
    if problem_type != "TextBox":
        raise ValueError(f"unknown problem_type {problem_type!r}")
    if answer_type == "arithmetic":
        return _check_arithmetic(expected, response)
    if answer_type == "string":
        wanted = {normalize_text(answer) for answer in expected}
        if normalize_text(response) in wanted:
            return AnswerCheck(True, "matches the answer")
        return AnswerCheck(False, "does not match the answer")
    raise ValueError(f"unknown answer_type {answer_type!r}")


_PLAIN_DIGITS = 40
"""The most digits a plain number may have to be checked in the server's own process (far
below :data:`~learnway.content._latex.MAX_DIGITS`: exact arithmetic on it takes microseconds)."""
_PLAIN = re.compile(
    rf"(?P<sign>-?)(?:(?P<int>\d{{1,{_PLAIN_DIGITS}}})(?:\.(?P<dec>\d{{1,{_PLAIN_DIGITS}}}))?"
    rf"|(?P<num>\d{{1,{_PLAIN_DIGITS}}})/(?P<den>\d{{1,{_PLAIN_DIGITS}}})"
    rf"|\\d?frac\{{(?P<fnum>\d{{1,{_PLAIN_DIGITS}}})\}}\{{(?P<fden>\d{{1,{_PLAIN_DIGITS}}})\}})"
)


def _plain_number(text: str) -> Fraction | None:
    """The exact value of a plain number (``-12``, ``0.75``, ``3/4``, ``$$\frac{3}{4}$$``),
    read as :func:`parse_answer` reads it; None for anything else."""
    m = _PLAIN.fullmatch(text.replace("$$", "").replace(" ", ""))
    if m is None:
        return None
    if m["int"] is not None:
        value = Fraction(f"{m['int']}.{m['dec']}" if m["dec"] else m["int"])
    else:
        num, den = (m["num"], m["den"]) if m["num"] is not None else (m["fnum"], m["fden"])
        if int(den) == 0:
            return None
        value = Fraction(int(num), int(den))
    return -value if m["sign"] else value


_QUICK_TEXT = 2000
"""The longest response decided in the server's own process (the longest an answer may be)."""


def quick_check(
    *,
    answer_type: str,
    problem_type: str,
    expected: Sequence[str],
    response: str,
    choices: Sequence[str] | None = None,
) -> AnswerCheck | None:
    """The verdict of :func:`check_answer` when it needs no symbolic work, so that it can be
    given at once in the caller's process: a choice, a text answer (both compared as
    normalized text, in time linear in their length), or an arithmetic step whose expected
    answers and response are all plain numbers of at most 40 digits, compared exactly (as
    ``check_answer`` compares two numbers). None otherwise: the full check decides, in a
    bounded worker.

    >>> quick_check(answer_type="arithmetic", problem_type="TextBox",
    ...             expected=[r"$$\\frac{1}{2}$$"], response="0.5")
    AnswerCheck(correct=True, reason='equivalent')
    >>> quick_check(answer_type="arithmetic", problem_type="TextBox",
    ...             expected=["$$x+1$$"], response="2") is None
    True
    """
    if isinstance(expected, str) or not expected or len(response) > _QUICK_TEXT:
        return None
    if problem_type == "MultipleChoice" or (problem_type, answer_type) == ("TextBox", "string"):
        return check_answer(answer_type=answer_type, problem_type=problem_type,
                            expected=expected, response=response, choices=choices)  # fmt: skip
    if (problem_type, answer_type) != ("TextBox", "arithmetic"):
        return None
    got = _plain_number(response)
    if got is None:
        return None
    wanted = [_plain_number(answer) for answer in expected]
    if any(w is None for w in wanted):
        return None
    if got in wanted:
        return AnswerCheck(True, "equivalent")
    return AnswerCheck(False, "not equivalent")


def normalize_text(text: str) -> str:
    """Text as compared for string and multiple-choice answers."""
    s = unicodedata.normalize("NFKC", text).translate(_DASHES).casefold()
    s = s.replace(r"\$", "$").replace("$", "").replace("**", "^")
    s = re.sub(r"\\(?:left|right)\b", "", s)
    s = re.sub(r"\s+", " ", s).strip()
    s = re.sub(r"\s*([^\w\s])\s*", r"\1", s)
    return s[:-1] if s.endswith(".") and not s[-2:-1].isdigit() else s


_DASHES = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-", "\u2012": "-"})


def _check_choice(
    expected: Sequence[str], response: str, choices: Sequence[str] | None
) -> AnswerCheck:
    # The text of a choice as shown decides first: some courses list near-duplicate choices.
    exact = response.strip()
    if exact in (answer.strip() for answer in expected):
        return AnswerCheck(True, "matches choice")
    if choices is not None and exact in (choice.strip() for choice in choices):
        return AnswerCheck(False, "not the right choice")
    said = normalize_text(response)
    if said in {normalize_text(answer) for answer in expected}:
        return AnswerCheck(True, "matches choice")
    if choices is not None and said not in {normalize_text(choice) for choice in choices}:
        return AnswerCheck(False, "not one of the choices")
    return AnswerCheck(False, "not the right choice")


def _check_arithmetic(expected: Sequence[str], response: str) -> AnswerCheck:
    readable = [answer for answer in expected if _readable(answer)]
    if len(readable) < len(expected):
        # A stored answer that is not readable math can still be matched as text.
        said = normalize_text(response)
        if any(normalize_text(a) == said for a in expected if a not in readable):
            return AnswerCheck(True, "matches the answer")
    try:
        got = parse_answer(response)
    except AnswerParseError as exc:
        return AnswerCheck(False, f"could not read your answer: {exc}")
    reason = "not equivalent"
    for answer in readable:
        want = parse_answer(answer)
        mismatch = _compare(want, got)
        if mismatch is None:
            return AnswerCheck(True, "equivalent")
        for alternative in _alternative_readings(response, want):
            if _compare(want, alternative) is None:
                return AnswerCheck(True, "equivalent")
        reason = mismatch
    return AnswerCheck(False, reason)


def _readable(answer: str) -> bool:
    try:
        parse_answer(answer)
    except (AnswerParseError, AnswerTooLarge):
        return False
    return True


def _alternative_readings(response: str, want: sympy.Basic) -> list[sympy.Basic]:
    """Second readings of a response: ``25%`` as 25, and ``1,363`` as 1363."""
    readings: list[str] = []
    if "%" in response:
        readings.append(response.replace(r"\%", "").replace("%", ""))
    if isinstance(want, sympy.Expr) and re.search(r"\d,\s?\d{3}(?!\d)", response):
        readings.append(re.sub(r"(?<=\d),\s?(?=\d{3}(?!\d))", "", response))
    out: list[sympy.Basic] = []
    for text in readings:
        with contextlib.suppress(AnswerParseError):
            out.append(parse_answer(text))
    return out


# -- comparison --------------------------------------------------------------------------------


def _compare(want: sympy.Basic, got: sympy.Basic) -> str | None:
    """None when ``got`` is equivalent to ``want``, else a short reason."""
    if isinstance(want, sympy.FiniteSet) or isinstance(got, sympy.FiniteSet):
        return _compare_lists(_items(want), _items(got))
    if isinstance(want, sympy.Interval) or isinstance(got, sympy.Interval):
        return _compare_intervals(want, got)
    if isinstance(want, sympy.Tuple):
        if not isinstance(got, sympy.Tuple):
            return f"expected an ordered list of {len(want)} values"
        if len(want) != len(got):
            return f"expected {len(want)} coordinates, got {len(got)}"
        same = all(_same_value(a, b) for a, b in zip(want.args, got.args, strict=True))
        return None if same else "not equivalent"
    if isinstance(want, sympy.MatrixBase):
        if not isinstance(got, sympy.MatrixBase) or want.shape != got.shape:
            return f"expected a {want.shape[0]}x{want.shape[1]} matrix"
        same = all(_same_value(a, b) for a, b in zip(want, got, strict=True))
        return None if same else "not equivalent"
    if isinstance(want, sympy.And) or isinstance(got, sympy.And):
        return _compare_lists(list(_conjuncts(want)), list(_conjuncts(got)))
    if isinstance(want, Relational) or isinstance(got, Relational):
        return _compare_relations(want, got)
    if want in (sympy.true, sympy.false) or got in (sympy.true, sympy.false):
        return None if want == got else "not equivalent"
    if isinstance(got, sympy.Tuple | sympy.MatrixBase):
        return "expected a single value"
    if isinstance(want, sympy.Expr) and isinstance(got, sympy.Expr):
        return None if _same_value(want, got) else "not equivalent"
    return "not equivalent"


def _items(value: sympy.Basic) -> list[sympy.Basic]:
    return list(value.args) if isinstance(value, sympy.FiniteSet) else [value]


def _conjuncts(value: sympy.Basic) -> tuple[sympy.Basic, ...]:
    return tuple(value.args) if isinstance(value, sympy.And) else (value,)


def _compare_lists(want: list[sympy.Basic], got: list[sympy.Basic]) -> str | None:
    if len(want) != len(got):
        return f"expected {_count(len(want), 'answer')}, got {len(got)}"
    unmatched = list(got)
    for item in want:
        for i, candidate in enumerate(unmatched):
            if _compare(item, candidate) is None:
                del unmatched[i]
                break
        else:
            return "not equivalent"
    return None


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _compare_intervals(want: sympy.Basic, got: sympy.Basic) -> str | None:
    a, b = _as_interval(want), _as_interval(got)
    if a is None or b is None:
        return "expected an interval" if a is not None else "not equivalent"
    if a == b:
        return None
    if not (_same_value(a[0], b[0]) and _same_value(a[1], b[1])):
        return "not equivalent"
    if a[2:] != b[2:]:
        return "an endpoint is open where it should be closed, or closed where it should be open"
    return None


def _as_interval(value: sympy.Basic) -> tuple[sympy.Expr, sympy.Expr, bool, bool] | None:
    if isinstance(value, sympy.Interval):
        return (value.start, value.end, bool(value.left_open), bool(value.right_open))
    if isinstance(value, sympy.Tuple) and len(value) == 2:
        return (value.args[0], value.args[1], True, True)
    return None


def _solved_value(value: sympy.Basic) -> sympy.Expr | None:
    """The number in ``x = 4`` (or ``4 = x``)."""
    if not isinstance(value, sympy.Eq):
        return None
    lhs, rhs = value.lhs, value.rhs
    if isinstance(lhs, sympy.Symbol) and not rhs.free_symbols:
        return rhs
    if isinstance(rhs, sympy.Symbol) and not lhs.free_symbols:
        return lhs
    return None


def _compare_relations(want: sympy.Basic, got: sympy.Basic) -> str | None:
    if not isinstance(want, Relational) or not isinstance(got, Relational):
        solved = _solved_value(want if isinstance(want, Relational) else got)
        other = got if isinstance(want, Relational) else want
        if solved is not None and isinstance(other, sympy.Expr):
            return None if _same_value(solved, other) else "not equivalent"
        return "expected an equation" if isinstance(want, Relational) else "expected a value"
    if isinstance(want, sympy.Eq) != isinstance(got, sympy.Eq) or isinstance(
        want, sympy.Ne
    ) != isinstance(got, sympy.Ne):
        return "not the same kind of relation"
    if isinstance(want, sympy.Eq | sympy.Ne):
        if not _equation_forms(want)[0].free_symbols:
            # No variable left (3 = 3, 27 = -22): a statement about numbers, read side by side.
            return None if _same_sides(want, got) else "not equivalent"
        return None if _same_equation(want, got) else "not equivalent"
    (f_want, strict_want), (f_got, strict_got) = _positive_side(want), _positive_side(got)
    if strict_want != strict_got:
        return "strict and non-strict inequality differ"
    ratio = _constant_ratio(f_want, f_got)
    return None if ratio is not None and ratio.real > 0 else "not equivalent"


def _same_sides(want: Relational, got: Relational) -> bool:
    return any(
        _same_value(want.lhs, left) and _same_value(want.rhs, right)
        for left, right in ((got.lhs, got.rhs), (got.rhs, got.lhs))
    )


def _positive_side(rel: Relational) -> tuple[sympy.Expr, bool]:
    """``rel`` as ``f > 0`` or ``f >= 0``; returns f and whether strict."""
    if isinstance(rel, sympy.Gt | sympy.Ge):
        return rel.lhs - rel.rhs, isinstance(rel, sympy.Gt)
    return rel.rhs - rel.lhs, isinstance(rel, sympy.Lt)


@lru_cache(maxsize=8192)
def _equation_forms(rel: Relational) -> tuple[sympy.Expr, ...]:
    """``lhs - rhs``, then its numerator over a common denominator, then fully cancelled."""
    f = sympy.expand_mul(rel.lhs - rel.rhs)
    numerator = sympy.fraction(sympy.together(f))[0]
    return (f, numerator)


def _same_equation(want: Relational, got: Relational) -> bool:
    forms_want, forms_got = _equation_forms(want), _equation_forms(got)
    for f_want, f_got in zip(forms_want, forms_got, strict=True):
        if _constant_ratio(f_want, f_got) is not None:
            return True
    cancelled_want = sympy.fraction(sympy.cancel(forms_want[1]))[0]
    cancelled_got = sympy.fraction(sympy.cancel(forms_got[1]))[0]
    return _constant_ratio(cancelled_want, cancelled_got) is not None


# -- numeric evaluation ------------------------------------------------------------------------

_rng = random.Random(20240917)
# The first half of the points are positive (where every root is real); the rest have values of
# both signs and larger sizes, which tell |x| from x and separate big constants.
_POINTS: tuple[tuple[float, ...], ...] = tuple(
    tuple(
        _rng.uniform(0.5, 6.0)
        if i < _SAMPLES // 2
        else _rng.choice((-1.0, 1.0)) * _rng.uniform(0.5, 9.0)
        for _ in range(26)
    )
    for i in range(_SAMPLES)
)


class _OutsideRealDomain(ValueError):
    """A root or fractional power of a negative number: the point is not in the real domain."""


def _environments(*exprs: sympy.Expr) -> list[dict[sympy.Symbol, complex]]:
    symbols = sorted(set().union(*(e.free_symbols for e in exprs)), key=lambda s: s.name)
    if not symbols:
        return [{}]
    return [
        {
            s: complex(point[i % len(point)] + 0.37 * (i // len(point)))
            for i, s in enumerate(symbols)
        }
        for point in _POINTS
    ]


def _evaluate(expr: sympy.Expr, env: dict[sympy.Symbol, complex]) -> complex | None:
    """``expr`` at a point, or None where it is undefined or overflows."""
    try:
        value = _numeric(expr, env)
    except (ZeroDivisionError, OverflowError, ValueError, TypeError):
        return None
    if cmath.isnan(value) or cmath.isinf(value) or abs(value.imag) > _REL_TOL * abs(value):
        return None
    return value


def _numeric(expr: sympy.Basic, env: dict[sympy.Symbol, complex]) -> complex:
    if isinstance(expr, sympy.Symbol):
        return env[expr]
    if isinstance(expr, sympy.Integer):
        return complex(int(expr))
    if isinstance(expr, sympy.Rational):
        return complex(int(expr.p) / int(expr.q))
    if isinstance(expr, sympy.Add):
        return sum((_numeric(arg, env) for arg in expr.args), start=0j)
    if isinstance(expr, sympy.Mul):
        product = 1 + 0j
        for arg in expr.args:
            product *= _numeric(arg, env)
        return product
    if isinstance(expr, sympy.Pow):
        base = _numeric(expr.base, env)
        if isinstance(expr.exp, sympy.Integer):
            return base ** int(expr.exp)
        if base.imag != 0 or base.real < 0:
            raise _OutsideRealDomain
        return base ** _numeric(expr.exp, env)
    if isinstance(expr, sympy.Abs):
        return complex(abs(_numeric(expr.args[0], env)))
    if expr.is_number:
        return complex(expr.evalf(20))
    evaluated = expr.xreplace({s: sympy.Float(v.real, 20) for s, v in env.items()}).evalf(20)
    return complex(evaluated)


def _close(a: complex, b: complex) -> bool:
    return abs(a - b) <= _REL_TOL * max(1.0, abs(a), abs(b))


def _same_value(want: sympy.Basic, got: sympy.Basic) -> bool:
    if not isinstance(want, sympy.Expr) or not isinstance(got, sympy.Expr):
        return _compare(want, got) is None
    if want == got:
        return True
    if isinstance(want, sympy.Rational) and isinstance(got, sympy.Rational):
        return False
    if want.has(sympy.oo, -sympy.oo, sympy.zoo) or got.has(sympy.oo, -sympy.oo, sympy.zoo):
        return False
    return _agree(want, got, _close)


def _agree(want: sympy.Expr, got: sympy.Expr, same: Callable[[complex, complex], bool]) -> bool:
    agreeing = 0
    environments = _environments(want, got)
    for env in environments:
        a, b = _evaluate(want, env), _evaluate(got, env)
        if a is None or b is None:
            continue
        if not same(a, b):
            return False
        agreeing += 1
    if agreeing >= min(_MIN_AGREEING, len(environments)):
        return True
    return bool(sympy.simplify(want - got) == 0)


def _constant_ratio(f_want: sympy.Expr, f_got: sympy.Expr) -> complex | None:
    """The constant c with f_got = c * f_want everywhere, or None if there is none."""
    ratio: complex | None = None
    evaluated = 0
    environments = _environments(f_want, f_got)
    for env in environments:
        a, b = _evaluate(f_want, env), _evaluate(f_got, env)
        if a is None or b is None:
            continue
        evaluated += 1
        a_zero, b_zero = _close(a, 0j), _close(b, 0j)
        if a_zero and b_zero:
            continue
        if a_zero or b_zero:
            return None
        r = b / a
        if ratio is None:
            ratio = r
        elif not _close(r, ratio):
            return None
    if evaluated < min(_MIN_AGREEING, len(environments)):
        return _symbolic_ratio(f_want, f_got)
    return 1 + 0j if ratio is None else ratio


def _symbolic_ratio(f_want: sympy.Expr, f_got: sympy.Expr) -> complex | None:
    """The slow path, for functions defined at too few sample points."""
    if f_want == 0 or f_got == 0:
        return 1 + 0j if f_want == f_got else None
    ratio = sympy.simplify(f_got / f_want)
    if ratio.free_symbols or ratio == 0 or not ratio.is_finite:
        return None
    try:
        return complex(ratio)
    except TypeError:
        return None
