"""Frameworks: competencies with a hierarchy, prerequisite edges (a DAG) and related edges."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from learnway._errors import InputError, Problem

KINDS = ("domain", "cluster", "standard", "substandard", "lesson", "skill")


@dataclass(frozen=True, slots=True)
class Competency:
    """A standard or skill. ``parent`` is the code of the enclosing competency, if any.

    ``mastery_threshold`` and the ``p_*`` priors come from the content where it gives them
    (OATutor's learning objectives and default BKT parameters); ``None`` means "use the default".
    """

    code: str
    title: str
    description: str = ""
    kind: str = "standard"
    grade: str | None = None
    parent: str | None = None
    sequence: int = 0
    mastery_threshold: float | None = None
    p_init: float | None = None
    p_learn: float | None = None
    p_guess: float | None = None
    p_slip: float | None = None
    p_forget: float | None = None


@dataclass(frozen=True)
class Framework:
    """A validated set of competencies. Build one with :meth:`build`, which checks it."""

    key: str
    title: str
    source: str
    license: str
    attribution: str
    competencies: tuple[Competency, ...]
    prerequisites: tuple[tuple[str, str], ...] = ()
    """(before, after): ``before`` must be learned before ``after``."""
    related: tuple[tuple[str, str], ...] = ()
    """Undirected conceptual connections, kept apart from prerequisites."""

    @classmethod
    def build(cls, *, origin: str, **fields: object) -> Framework:
        """Make a framework and validate it; ``origin`` names the input in error messages."""
        framework = cls(**fields)  # type: ignore[arg-type]
        problems = framework.problems(origin)
        if problems:
            raise InputError(problems)
        return framework

    @cached_property
    def _index(self) -> dict[str, int]:
        return {c.code: i for i, c in enumerate(self.competencies)}

    def __getitem__(self, code: str) -> Competency:
        return self.competencies[self._index[code]]

    def __contains__(self, code: object) -> bool:
        return code in self._index

    @property
    def codes(self) -> list[str]:
        return [c.code for c in self.competencies]

    def problems(self, origin: str) -> list[Problem]:
        """Every structural problem: duplicates, dangling references, bad values, cycles."""
        found: list[Problem] = []
        seen: set[str] = set()
        for c in self.competencies:
            if not c.code:
                found.append(Problem(origin, repr(c.title), "competency without a code"))
            elif c.code in seen:
                found.append(Problem(origin, c.code, "duplicate competency code"))
            seen.add(c.code)
            if c.kind not in KINDS:
                found.append(Problem(origin, c.code, f"unknown kind {c.kind!r}"))
            for name in ("mastery_threshold", "p_init", "p_learn", "p_guess", "p_slip", "p_forget"):
                value = getattr(c, name)
                if value is not None and not 0.0 <= value <= 1.0:
                    found.append(Problem(origin, c.code, f"{name}={value} is not in [0, 1]"))
        for c in self.competencies:
            if c.parent is not None and c.parent not in seen:
                found.append(Problem(origin, c.code, f"parent {c.parent!r} does not exist"))
        for label, edges in (("prerequisite", self.prerequisites), ("related", self.related)):
            for a, b in edges:
                record = f"{label} {a} -> {b}"
                for end in (a, b):
                    if end not in seen:
                        found.append(Problem(origin, record, f"unknown competency {end!r}"))
                if a == b:
                    found.append(Problem(origin, record, "a competency cannot point to itself"))
        if not found:
            cycle = find_cycle(self.prerequisites)
            if cycle:
                path = " -> ".join(cycle)
                found.append(Problem(origin, path, "prerequisite cycle"))
        return found

    def topological_order(self) -> list[str]:
        """Codes ordered so that every prerequisite comes before what needs it."""
        return topological_order(self.codes, self.prerequisites)


def topological_order(nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> list[str]:
    """Kahn's algorithm, stable in the order of ``nodes``. Raises ``ValueError`` on a cycle."""
    order_of = {n: i for i, n in enumerate(nodes)}
    children: dict[str, list[str]] = defaultdict(list)
    indegree = dict.fromkeys(order_of, 0)
    for a, b in edges:
        children[a].append(b)
        indegree[b] += 1
    ready = deque(n for n in order_of if indegree[n] == 0)
    order: list[str] = []
    while ready:
        n = ready.popleft()
        order.append(n)
        for m in sorted(children[n], key=order_of.__getitem__):
            indegree[m] -= 1
            if indegree[m] == 0:
                ready.append(m)
    if len(order) != len(order_of):
        raise ValueError("the prerequisite edges contain a cycle")
    return order


def find_cycle(edges: Iterable[tuple[str, str]]) -> list[str] | None:
    """One cycle in a directed graph as a closed path ``[a, b, ..., a]``, or ``None``."""
    children: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        children[a].append(b)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in list(children):
        if root in state:
            continue
        path = [root]
        stack = [iter(children[root])]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(children[nxt]))
    return None
