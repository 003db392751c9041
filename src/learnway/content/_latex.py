"""Read a typed or stored answer, plain text or LaTeX, into a sympy object.

The reader covers the notation that answers actually use: numbers (with ``.5`` and exact
decimals), single-letter variables with implicit multiplication (``2pr`` is ``2*p*r``),
``+ - * / ^ **``, ``\\frac``, ``\\dfrac``, ``\\sqrt`` and ``\\sqrt[n]``, ``\\cdot``, ``\\times``,
``\\div``, ``\\left( \\right)``, ``|x|``, ``\\pi``, ``\\infty``, ``\\pm``, percent signs, currency
signs, trailing unit words, equations and inequalities, ordered pairs, intervals, matrices
(``\\begin{bmatrix}``), lists of answers (``,`` ``;`` ``or`` ``and``) and labelled values written
as ``521a842c``.

What comes back:

* an expression (``sympy.Expr``);
* ``Eq``/``Lt``/``Le``/``Gt``/``Ge``/``Ne`` (never evaluated, so ``3 = 3`` stays an equation),
  or ``And`` of them for a chain such as ``1 < x < 3``;
* ``Tuple`` for an ordered pair or triple, ``Interval`` for an interval;
* ``ImmutableMatrix`` for a matrix;
* ``true``/``false`` for the words TRUE and FALSE;
* ``FiniteSet`` of any of the above for a list of answers.

Nothing is computed before its size is known: a power, product or root whose result would have
more than :data:`MAX_DIGITS` digits, a polynomial degree above :data:`MAX_DEGREE`, more than
:data:`MAX_TERMS` terms once multiplied out, or more than :data:`MAX_TOWER` variable exponents
stacked on one another raises :class:`AnswerTooLarge`
(``9^99999999``, ``9^9^9^9``, ``10^-999999999``, ``(x+1)^5000``) instead of being worked out.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import sympy
from sympy.core.relational import Relational

__all__ = [
    "MAX_DEGREE",
    "MAX_DIGITS",
    "MAX_TERMS",
    "MAX_TOWER",
    "AnswerParseError",
    "AnswerTooLarge",
    "parse_answer",
]

MAX_DIGITS = 300
"""The most digits a number in an answer may reach (numerator or denominator), once worked out."""
MAX_DEGREE = 60
"""The highest polynomial degree an answer may reach, once multiplied out."""
MAX_TOWER = 2
"""The most exponents with a variable in them that may be stacked (``2^{3^x}`` is two)."""
MAX_TERMS = 400
"""The most terms an answer may have once multiplied out (``(a+b+c+d+1)^{14}`` has 3,060):
well below the size at which comparing two answers takes about the checker's whole time limit,
so that whether an answer is checked or refused never depends on the machine's load."""


class AnswerParseError(ValueError):
    """The text cannot be read as a mathematical answer; the message says why."""


class AnswerTooLarge(ValueError):
    """The answer's numbers or expressions are too large to work out; it is not checked."""

    def __init__(self, message: str = "this answer is too large to check") -> None:
        super().__init__(message)


_MAX_PLUS_MINUS = 3

_UNIT_WORDS = frozenset(
    """
    dollar dollars cent cents hour hours hr hrs minute minutes min mins second seconds sec
    day days week weeks month months year years mile miles mph feet foot inch inches yard yards
    meter meters metre metres cm mm km kilometers kilometres centimeters gram grams kg kilograms
    pound pounds lb lbs ounce ounces oz gallon gallons liter liters litre litres quart quarts
    cup cups degree degrees units unit square sq cubic per people person tickets ticket
    """.split()
)
_TRAILING_UNITS = re.compile(
    r"(?<=\S)(?:\s+(?:" + "|".join(sorted(_UNIT_WORDS, key=len, reverse=True)) + r"))+\s*$",
    re.IGNORECASE,
)

_CHAR_MAP = str.maketrans(
    {
        "\u2212": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2012": "-",
        "\u00d7": "*",
        "\u00b7": "*",
        "\u22c5": "*",
        "\u2219": "*",
        "\u00f7": "/",
        "\u2264": "<=",
        "\u2265": ">=",
        "\u2260": "!=",
        "\u00b1": r"\pm ",
        "\u221e": "oo",
        "\u03c0": "pi",
        "\u221a": "sqrt",
        "\u00b2": "^2",
        "\u00b3": "^3",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\uff0c": ",",
    }
)

_COMMAND_ALIASES: dict[str, str] = {
    r"\dfrac": r"\frac",
    r"\tfrac": r"\frac",
    r"\cdot": "*",
    r"\times": "*",
    r"\ast": "*",
    r"\div": "/",
    r"\le": "<=",
    r"\leq": "<=",
    r"\leqslant": "<=",
    r"\ge": ">=",
    r"\geq": ">=",
    r"\geqslant": ">=",
    r"\lt": "<",
    r"\gt": ">",
    r"\ne": "!=",
    r"\neq": "!=",
    r"\infty": "oo",
    r"\infin": "oo",
    r"\pi": "pi",
}
_GREEK = frozenset("alpha beta gamma delta epsilon theta lambda mu phi rho sigma tau omega".split())

_TOKEN = re.compile(
    r"""
    (?P<num>\d+(?:\.\d*)?|\.\d+)
   |(?P<env>\\(?:begin|end)\s*\{\s*[A-Za-z*]+\s*\})
   |(?P<cmd>\\[A-Za-z]+)
   |(?P<word>[A-Za-z]+)
   |(?P<op><=|>=|!=|=<|=>|\\\\|\\[{}]|[-+*/^=<>(){}\[\],;|&%])
   |(?P<ws>\s+)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # num, name, const, func, cmd, env, op, bool
    text: str


def _prepare(text: str) -> str:
    """Normalize characters and strip what carries no mathematical meaning."""
    s = text.translate(_CHAR_MAP)
    s = s.replace("$$", " ").replace(r"\$", " ").replace("$", " ")
    s = re.sub(r"\\left\s*\.|\\right\s*\.", " ", s)
    s = re.sub(r"\\(?:left|right|big|Big|bigg|Bigg)\b\s*", "", s)
    s = re.sub(r"(?<!\\)\\[,;:! ]|~", " ", s)
    s = s.replace(r"\%", "%").replace(r"\lvert", "|").replace(r"\rvert", "|")
    s = re.sub(r"\\(?:text|mathrm|textrm|mbox|operatorname)\s*\{([^{}]*)\}", r" \1 ", s)
    s = s.replace("**", "^").strip()
    for _ in range(2):  # "14 mph." loses its period, then its unit
        if s.endswith(".") and not re.search(r"\d\.$", s):
            s = s[:-1].rstrip()
        s = _TRAILING_UNITS.sub("", s).strip()
    return s


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise AnswerParseError(f"unexpected character {text[pos]!r}")
        pos = m.end()
        kind = m.lastgroup
        value = m.group()
        if kind == "ws":
            continue
        if kind == "env":
            tokens.append(_Token("env", re.sub(r"\s+", "", value)))
        elif kind == "cmd":
            tokens.extend(_command_tokens(value))
        elif kind == "word":
            tokens.extend(_word_tokens(value))
        elif kind == "op":
            op = {"=<": "<=", "=>": ">=", r"\{": "{", r"\}": "}"}.get(value, value)
            tokens.append(_Token("op", op))
        else:
            tokens.append(_Token("num", value))
    return tokens


def _command_tokens(command: str) -> list[_Token]:
    alias = _COMMAND_ALIASES.get(command, command)
    if alias in ("oo", "pi"):
        return [_Token("const", alias)]
    if not alias.startswith("\\"):
        return [_Token("op", alias)]
    if alias in (r"\frac", r"\sqrt", r"\pm", r"\mp"):
        return [_Token("cmd", alias)]
    if alias[1:] in _GREEK:
        return [_Token("name", alias[1:])]
    raise AnswerParseError(f"unsupported LaTeX command {command}")


def _word_tokens(word: str) -> list[_Token]:
    low = word.lower()
    if low in ("oo", "inf", "infinity"):
        return [_Token("const", "oo")]
    if low == "pi":
        return [_Token("const", "pi")]
    if low in ("sqrt", "abs"):
        return [_Token("func", low)]
    if low in ("or", "and"):
        return [_Token("op", ",")]
    if low in ("true", "false"):
        return [_Token("bool", low)]
    if len(word) > 3:
        raise AnswerParseError(f"unknown word {word!r}")
    return [_Token("name", letter) for letter in word]


_RELATIONS = {
    "=": sympy.Eq,
    "<": sympy.Lt,
    "<=": sympy.Le,
    ">": sympy.Gt,
    ">=": sympy.Ge,
    "!=": sympy.Ne,
}
_ATOM_START_OPS = frozenset({"(", "{", "["})


class _Parser:
    """Recursive descent over the token list; one instance reads one answer."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.abs_depth = 0

    # -- token helpers -------------------------------------------------------------------
    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def at_op(self, *ops: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "op" and tok.text in ops

    def take(self) -> _Token:
        tok = self.peek()
        if tok is None:
            raise AnswerParseError("the answer ends too early")
        self.pos += 1
        return tok

    def expect(self, op: str) -> None:
        tok = self.peek()
        if tok is None or tok.kind != "op" or tok.text != op:
            found = "the end" if tok is None else repr(tok.text)
            raise AnswerParseError(f"expected {op!r} but found {found}")
        self.pos += 1

    # -- grammar -------------------------------------------------------------------------
    def answer(self) -> sympy.Basic:
        items = self.items(closers=())
        if self.peek() is not None:
            raise AnswerParseError(f"unexpected {self.peek().text!r}")  # type: ignore[union-attr]
        return items[0] if len(items) == 1 else sympy.FiniteSet(*items)

    def items(self, closers: tuple[str, ...]) -> list[sympy.Basic]:
        found = [self.relation()]
        while self.at_op(",", ";"):
            self.pos += 1
            if self.peek() is None or self.at_op(*closers):
                break
            found.append(self.relation())
        return found

    def relation(self) -> sympy.Basic:
        first = self.expression()
        parts: list[sympy.Basic] = []
        left = first
        while self.peek() is not None and self.at_op(*_RELATIONS):
            op = self.take().text
            right = self.expression()
            _require_expr(left, op)
            _require_expr(right, op)
            parts.append(_RELATIONS[op](left, right, evaluate=False))
            left = right
        if not parts:
            return first
        return parts[0] if len(parts) == 1 else sympy.And(*parts, evaluate=False)

    def expression(self) -> sympy.Basic:
        value = self.term()
        while self.at_op("+", "-"):
            op = self.take().text
            right = _as_expr(self.term(), op)
            value = _as_expr(value, op) + (right if op == "+" else -right)
        return value

    def term(self) -> sympy.Basic:
        value = self.signed()
        while True:
            if self.at_op("*", "/"):
                op = self.take().text
                right = _as_expr(self.signed(), op)
                left = _as_expr(value, op)
                value = _product(left, right, divide=op == "/")
            elif self.starts_factor():
                tok = self.peek()
                if tok is not None and tok.kind == "num" and _is_number_literal(value):
                    raise AnswerParseError("two numbers side by side")
                value = _product(_as_expr(value, "*"), _as_expr(self.power(), "*"))
            else:
                return value

    def signed(self) -> sympy.Basic:
        if self.at_op("-"):
            self.pos += 1
            return -_as_expr(self.signed(), "-")
        if self.at_op("+"):
            self.pos += 1
            return self.signed()
        return self.power()

    def starts_factor(self) -> bool:
        tok = self.peek()
        if tok is None:
            return False
        if tok.kind == "op":
            if tok.text == "|":
                return self.abs_depth == 0
            return tok.text in _ATOM_START_OPS
        return tok.kind in ("num", "name", "const", "func", "cmd") and tok.text not in (
            r"\pm",
            r"\mp",
        )

    def power(self) -> sympy.Basic:
        base = self.postfix()
        if self.at_op("^"):
            self.pos += 1
            exponent = self.signed_exponent()
            return _power(_as_expr(base, "^"), exponent)
        return base

    def signed_exponent(self) -> sympy.Expr:
        if self.at_op("-"):
            self.pos += 1
            return -self.signed_exponent()
        if self.at_op("+"):
            self.pos += 1
        return _as_expr(self.power(), "^")

    def postfix(self) -> sympy.Basic:
        value = self.atom()
        while self.at_op("%"):
            self.pos += 1
            value = _as_expr(value, "%") / 100
        return value

    def atom(self) -> sympy.Basic:
        tok = self.take()
        if tok.kind == "num":
            return _number(tok.text)
        if tok.kind == "name":
            return sympy.Symbol(tok.text)
        if tok.kind == "const":
            return sympy.oo if tok.text == "oo" else sympy.pi
        if tok.kind == "bool":
            return sympy.true if tok.text == "true" else sympy.false
        if tok.kind == "func":
            arg = _as_expr(self.atom_or_power_arg(), tok.text)
            return sympy.sqrt(arg) if tok.text == "sqrt" else sympy.Abs(arg)
        if tok.kind == "cmd":
            if tok.text == r"\frac":
                numerator = _as_expr(self.latex_argument(), "/")
                denominator = _as_expr(self.latex_argument(), "/")
                return _product(numerator, denominator, divide=True)
            if tok.text == r"\sqrt":
                index: sympy.Expr | None = None
                if self.at_op("["):
                    self.pos += 1
                    index = _as_expr(self.expression(), "root index")
                    self.expect("]")
                return _root(_as_expr(self.latex_argument(), "sqrt"), index)
            raise AnswerParseError(f"misplaced {tok.text}")
        if tok.kind == "env":
            return self.matrix(tok.text)
        if tok.text == "|":
            self.abs_depth += 1
            inner = _as_expr(self.expression(), "|")
            self.abs_depth -= 1
            self.expect("|")
            return sympy.Abs(inner)
        if tok.text == "{":
            items = self.items(closers=("}",))
            self.expect("}")
            return items[0] if len(items) == 1 else sympy.FiniteSet(*items)
        if tok.text in ("(", "["):
            return self.bracket(tok.text)
        raise AnswerParseError(f"unexpected {tok.text!r}")

    def atom_or_power_arg(self) -> sympy.Basic:
        return self.postfix()

    def latex_argument(self) -> sympy.Basic:
        """A LaTeX macro argument: a ``{...}`` group, or a single character or token."""
        tok = self.peek()
        if tok is not None and tok.kind == "num" and len(tok.text) > 1 and tok.text.isdigit():
            # \frac12 reads its arguments one digit at a time.
            self.tokens[self.pos] = _Token("num", tok.text[1:])
            return sympy.Integer(int(tok.text[0]))
        if tok is not None and tok.kind == "op" and tok.text == "{":
            self.pos += 1
            value = self.relation()
            self.expect("}")
            return value
        return self.atom()

    def bracket(self, opener: str) -> sympy.Basic:
        items = self.items(closers=(")", "]"))
        closer = self.take()
        if closer.kind != "op" or closer.text not in (")", "]"):
            raise AnswerParseError(f"expected a closing bracket but found {closer.text!r}")
        if len(items) == 1:
            if closer.text != {"(": ")", "[": "]"}[opener]:
                raise AnswerParseError("mismatched brackets")
            return items[0]
        exprs = [_as_expr(item, "pair") for item in items]
        if opener == "(" and closer.text == ")":
            if len(exprs) == 2 and any(e in (sympy.oo, -sympy.oo) for e in exprs):
                return sympy.Interval(exprs[0], exprs[1], left_open=True, right_open=True)
            return sympy.Tuple(*exprs)
        if len(exprs) != 2:
            raise AnswerParseError("an interval has two endpoints")
        return sympy.Interval(
            exprs[0], exprs[1], left_open=opener == "(", right_open=closer.text == ")"
        )

    def matrix(self, begin: str) -> sympy.Basic:
        name = begin[len(r"\begin{") : -1]
        if not begin.startswith(r"\begin") or not name.endswith("matrix"):
            raise AnswerParseError(f"unsupported LaTeX environment {begin}")
        rows: list[list[sympy.Expr]] = [[]]
        while True:
            tok = self.peek()
            if tok is None:
                raise AnswerParseError(f"missing \\end{{{name}}}")
            if tok.kind == "env":
                self.pos += 1
                if tok.text != rf"\end{{{name}}}":
                    raise AnswerParseError(f"{tok.text} does not close \\begin{{{name}}}")
                break
            if tok.kind == "op" and tok.text == "\\\\":
                self.pos += 1
                rows.append([])
                continue
            if tok.kind == "op" and tok.text == "&":
                self.pos += 1
                continue
            rows[-1].append(_as_expr(self.expression(), "matrix entry"))
        rows = [row for row in rows if row]
        if not rows or len({len(row) for row in rows}) != 1:
            raise AnswerParseError("matrix rows have different lengths")
        return sympy.ImmutableMatrix(rows)


def _is_number_literal(value: sympy.Basic) -> bool:
    return isinstance(value, sympy.Number)


def _number(text: str) -> sympy.Rational:
    if text.endswith("."):
        text = text[:-1]
    return sympy.Rational(text) if "." in text else sympy.Integer(int(text))


def _root(radicand: sympy.Expr, index: sympy.Expr | None) -> sympy.Expr:
    if index is None:
        return sympy.sqrt(radicand)
    if index.free_symbols:
        _check_power(radicand, index)
    elif index != 0:
        _check_power(radicand, 1 / index)
    if index.is_Integer and int(index) % 2 == 1 and radicand.is_number and radicand.is_negative:
        # School algebra reads an odd root of a negative number as the real root.
        return -sympy.root(-radicand, index)
    return sympy.root(radicand, index)


# -- size limits: checked before anything is worked out -------------------------------------


def _digits(number: sympy.Rational) -> float:
    """Decimal digits (as a logarithm) of the larger of a rational's numerator and denominator."""
    return math.log10(max(abs(int(number.p)), int(number.q), 1))


def _magnitude(value: sympy.Expr) -> float:
    """The size of a constant (``inf`` when it cannot be told or is not finite)."""
    if isinstance(value, sympy.Rational):
        return abs(int(value.p)) / int(value.q) if _digits(value) < 300 else math.inf
    try:
        size = abs(complex(value.evalf(15)))
    except (TypeError, ValueError, OverflowError):
        return math.inf
    return size if math.isfinite(size) else math.inf


def _degree(value: sympy.Basic) -> float:
    """An upper estimate of the polynomial degree of ``value`` once multiplied out."""
    if isinstance(value, sympy.Symbol):
        return 1.0
    if not value.free_symbols:
        return 0.0
    if isinstance(value, sympy.Mul):
        return sum(_degree(arg) for arg in value.args)
    if isinstance(value, sympy.Pow):
        if value.exp.free_symbols:
            return _degree(value.base) + _degree(value.exp)
        return _degree(value.base) * _magnitude(value.exp)
    return max((_degree(arg) for arg in value.args), default=0.0)


def _terms(value: sympy.Basic) -> float:
    """An upper estimate of how many terms ``value`` has once multiplied out."""
    if not value.free_symbols:
        return 1.0
    if isinstance(value, sympy.Add):
        return float(sum(_terms(arg) for arg in value.args))
    if isinstance(value, sympy.Mul):
        return math.prod(_terms(arg) for arg in value.args)
    if isinstance(value, sympy.Pow) and not value.exp.free_symbols:
        return _power_terms(_terms(value.base), _magnitude(value.exp))
    return math.prod(_terms(arg) for arg in value.args)


def _power_terms(terms: float, exponent: float) -> float:
    """Terms of a sum of ``terms`` terms raised to ``exponent``: C(n + t - 1, t - 1)."""
    if terms <= 1 or exponent < 1:
        return terms
    if not (math.isfinite(exponent) and terms <= MAX_TERMS and exponent <= MAX_DEGREE):
        return math.inf
    n, t = math.ceil(exponent), int(terms)
    return float(math.comb(n + t - 1, t - 1))


def _tower(value: sympy.Basic) -> int:
    """How many exponents holding a variable are stacked in ``value``."""
    if isinstance(value, sympy.Pow) and value.exp.free_symbols:
        return 1 + max(_tower(value.base), _tower(value.exp))
    return max((_tower(arg) for arg in value.args), default=0)


def _check_power(base: sympy.Expr, exponent: sympy.Expr) -> None:
    if exponent.free_symbols:
        if 1 + max(_tower(base), _tower(exponent)) > MAX_TOWER:
            raise AnswerTooLarge()
        return
    size = _magnitude(exponent)
    if base.free_symbols:
        if not _degree(base) * size <= MAX_DEGREE:
            raise AnswerTooLarge()
        if _power_terms(_terms(base), size) > MAX_TERMS:
            raise AnswerTooLarge()
    elif isinstance(base, sympy.Rational):
        if base not in (0, 1, -1) and not _digits(base) * size <= MAX_DIGITS:
            raise AnswerTooLarge()
    elif math.isfinite(size):
        # a constant such as pi or sqrt(2): at least one digit, and as many as its numbers
        digits = max([1.0] + [_digits(r) for r in base.atoms(sympy.Rational)])
        if digits * size > MAX_DIGITS:
            raise AnswerTooLarge()


def _power(base: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr:
    """``base ** exponent``, refused before it is worked out when the result would be too large."""
    _check_power(base, exponent)
    return base**exponent


def _product(left: sympy.Expr, right: sympy.Expr, *, divide: bool = False) -> sympy.Expr:
    """``left * right`` (or ``/``), refused before it is worked out when too large."""
    if _degree(left) + _degree(right) > MAX_DEGREE:
        raise AnswerTooLarge()
    if _terms(left) * _terms(right) > MAX_TERMS:
        raise AnswerTooLarge()
    numbers = isinstance(left, sympy.Rational) and isinstance(right, sympy.Rational)
    if numbers and _digits(left) + _digits(right) > MAX_DIGITS:
        raise AnswerTooLarge()
    return left / right if divide else left * right


def _as_expr(value: sympy.Basic, where: str) -> sympy.Expr:
    if isinstance(value, sympy.Expr) and not isinstance(value, sympy.MatrixBase):
        return value
    raise AnswerParseError(f"cannot use {_describe(value)} with {where!r}")


def _require_expr(value: sympy.Basic, op: str) -> None:
    _as_expr(value, op)


def _describe(value: sympy.Basic) -> str:
    if isinstance(value, Relational):
        return "an equation or inequality"
    if isinstance(value, sympy.Tuple):
        return "an ordered pair"
    if isinstance(value, sympy.Interval):
        return "an interval"
    if isinstance(value, sympy.FiniteSet):
        return "a list"
    if isinstance(value, sympy.MatrixBase):
        return "a matrix"
    return "this part"


_LABELLED = re.compile(r"(?:\d+(?:\.\d+)?[A-Za-z])+")
_LABELLED_PART = re.compile(r"(\d+(?:\.\d+)?)([A-Za-z])")


def _labelled_values(text: str) -> sympy.Basic | None:
    """``521a842c`` (521 of a, 842 of c) as the list of equations ``a = 521, c = 842``."""
    compact = re.sub(r"\s+", "", text)
    if not _LABELLED.fullmatch(compact):
        return None
    parts = _LABELLED_PART.findall(compact)
    letters = [letter for _, letter in parts]
    if len(parts) < 2 or len(set(letters)) != len(letters):
        return None
    return sympy.FiniteSet(
        *(sympy.Eq(sympy.Symbol(letter), _number(num), evaluate=False) for num, letter in parts)
    )


def _expand_plus_minus(text: str) -> list[str]:
    marks = re.findall(r"\\pm|\\mp|\+-|\+/-", text)
    if len(marks) > _MAX_PLUS_MINUS:
        raise AnswerParseError("too many plus-or-minus signs")
    variants = [text]
    for _ in marks:
        expanded: list[str] = []
        for variant in variants:
            m = re.search(r"\\pm|\\mp|\+-|\+/-", variant)
            assert m is not None
            first, second = ("-", "+") if m.group() == r"\mp" else ("+", "-")
            for sign in (first, second):
                expanded.append(f"{variant[: m.start()]}{sign} {variant[m.end() :]}")
        variants = expanded
    return variants


def _flatten(values: list[sympy.Basic]) -> list[sympy.Basic]:
    out: list[sympy.Basic] = []
    for value in values:
        if isinstance(value, sympy.FiniteSet):
            out.extend(value.args)
        else:
            out.append(value)
    return out


@lru_cache(maxsize=8192)
def parse_answer(text: str) -> sympy.Basic:
    """Read ``text`` (plain or LaTeX) into a sympy object; raise AnswerParseError if unreadable.

    >>> parse_answer(r"$$\\frac{3}{c+3}$$")
    3/(c + 3)
    >>> parse_answer("y = -x - 3")
    Eq(y, -x - 3)
    >>> parse_answer(r"$$[\\frac{-1}{20},\\infty)$$")
    Interval(-1/20, oo)
    """
    prepared = _prepare(text)
    if not prepared:
        raise AnswerParseError("the answer is empty")
    labelled = _labelled_values(prepared)
    if labelled is not None:
        return labelled
    variants = _expand_plus_minus(prepared)
    values: list[sympy.Basic] = []
    for variant in variants:
        try:
            values.append(_Parser(_tokenize(variant)).answer())
        except (AnswerParseError, AnswerTooLarge):
            raise
        except (TypeError, ValueError, ZeroDivisionError, RecursionError) as exc:
            raise AnswerParseError(f"cannot be evaluated ({type(exc).__name__})") from exc
    if len(values) == 1:
        return values[0]
    return sympy.FiniteSet(*_flatten(values))
