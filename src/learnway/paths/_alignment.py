"""A course's skills aligned to a standards framework, and the prerequisites that follow.

An alignment file (CSV) has one row per skill: ``skill``, ``lesson``, ``standards`` (the
framework codes it addresses, space-separated, the first being the one it teaches; empty where
the skill is not covered by the standards), ``builds_on`` (skills of the same lesson it
follows) and a ``justification``. :func:`aligned_prerequisites` turns it into prerequisite
edges:

- *standards*: a skill *teaches* the first standard of its row and *uses* all of them. Skill
  ``a`` comes before skill ``b`` when the standard ``a`` teaches is a direct prerequisite, in
  the framework, of a standard ``b`` uses (a substandard counts with its parent standard), and
  ``a`` comes earlier in the course. An application that merely uses a standard (a formula
  evaluated in a unit conversion) is thereby not made a prerequisite of everything that
  standard leads to. Within one standard, the skill that teaches it comes before the later
  skills that use it (the framework has no edge from a standard to itself). A dependency that
  the framework draws against the course's order is left out, so the graph stays acyclic; a
  dependency that passes only through standards the course does not address is not bridged,
  so that a skill is never made a prerequisite through knowledge the course does not teach.
- *lesson*: the ``builds_on`` edges within a lesson.

The result is transitively reduced: every edge is a direct prerequisite.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from learnway._errors import InputError, Problem

COLUMNS = ("skill", "lesson", "standards", "builds_on", "justification")

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "alignment"
"""Alignments shipped with Learnway, one file per course: ``<course>-<framework>.csv``."""


@dataclass(frozen=True, slots=True)
class AlignedSkill:
    """One row of an alignment: the standards a skill addresses and why."""

    skill: str
    lesson: str
    standards: tuple[str, ...]
    builds_on: tuple[str, ...]
    justification: str

    @property
    def covered(self) -> bool:
        """False where the skill is marked as not covered by the standards."""
        return bool(self.standards)


@dataclass(frozen=True, slots=True)
class AlignedEdges:
    """Prerequisite edges from an alignment, with where each came from."""

    edges: tuple[tuple[str, str], ...]
    from_standards: int
    from_lessons: int
    against_course_order: int


def read_alignment(source: str | Path, *, text: str | None = None) -> tuple[AlignedSkill, ...]:
    """Read and check an alignment file; :class:`InputError` lists every problem."""
    origin = str(source)
    if text is None:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError.one(origin, "", f"cannot read the alignment: {exc}") from exc
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise InputError.one(origin, "line 1", f"expected the columns {', '.join(COLUMNS)}")
    problems: list[Problem] = []
    rows: list[AlignedSkill] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        record = f"line {line}"
        if None in row or any(v is None for v in row.values()):
            problems.append(Problem(origin, record, "wrong number of fields"))
            continue
        skill = row["skill"].strip()
        if not skill:
            problems.append(Problem(origin, record, "no skill"))
            continue
        if skill in seen:
            problems.append(Problem(origin, record, f"skill {skill!r} aligned twice"))
        seen.add(skill)
        why = row["justification"].strip()
        if not why:
            problems.append(Problem(origin, record, f"no justification for {skill!r}"))
        standards = tuple(row["standards"].split())
        if not standards and not why.lower().startswith("not covered by the standards"):
            problems.append(
                Problem(
                    origin,
                    record,
                    f"{skill!r} has no standard; mark it 'Not covered by the standards: ...'",
                )
            )
        rows.append(
            AlignedSkill(
                skill, row["lesson"].strip(), standards, tuple(row["builds_on"].split()), why
            )
        )
    lessons = {r.skill: r.lesson for r in rows}
    for r in rows:
        for before in r.builds_on:
            if lessons.get(before) != r.lesson:
                problems.append(
                    Problem(origin, r.skill, f"builds on {before!r}, not a skill of its lesson")
                )
    if problems:
        raise InputError(problems)
    return tuple(rows)


def check_alignment(
    alignment: Sequence[AlignedSkill], skills: Iterable[str], framework: Any, origin: str
) -> list[Problem]:
    """Problems between an alignment, the course's skills and the framework's codes."""
    problems: list[Problem] = []
    skills = list(skills)
    aligned = {a.skill for a in alignment}
    for skill in skills:
        if skill not in aligned:
            problems.append(Problem(origin, skill, "skill missing from the alignment"))
    known = set(skills)
    for a in alignment:
        if a.skill not in known:
            problems.append(Problem(origin, a.skill, "aligned skill is not in the course"))
        for code in a.standards:
            if code not in framework:
                problems.append(Problem(origin, a.skill, f"unknown standard {code!r}"))
    return problems


def aligned_prerequisites(
    skills: Sequence[str], alignment: Sequence[AlignedSkill], framework: Any
) -> AlignedEdges:
    """Prerequisite edges between ``skills`` (in course order) from the alignment and the
    framework's prerequisite graph (see the module's docstring for the rule)."""
    index = {s: i for i, s in enumerate(skills)}
    by_skill = {a.skill: a for a in alignment if a.skill in index}
    parent = {c.code: c.parent for c in framework.competencies if c.kind == "substandard"}

    def lifted(codes: Iterable[str]) -> set[str]:
        codes = set(codes)
        return codes | {parent[c] for c in codes if parent.get(c)}

    teaches: dict[str, set[int]] = {}
    uses: dict[str, set[int]] = {}
    teachers: dict[str, set[int]] = {}
    for skill, row in by_skill.items():
        if row.standards:
            teachers.setdefault(row.standards[0], set()).add(index[skill])
        for code in lifted(row.standards[:1]):
            teaches.setdefault(code, set()).add(index[skill])
        for code in lifted(row.standards):
            uses.setdefault(code, set()).add(index[skill])
    n = len(skills)
    adjacency = np.zeros((n, n), dtype=bool)  # adjacency[b, a]: a before b
    against = 0
    for before, after in framework.prerequisites:
        for a in teaches.get(before, ()):
            for b in uses.get(after, ()):
                if a < b:
                    adjacency[b, a] = True
                elif a > b:
                    against += 1
    for aligned in by_skill.values():  # within one standard: exact codes, no parent
        b = index[aligned.skill]
        for code in aligned.standards:
            for a in teachers.get(code, ()):
                if a < b:
                    adjacency[b, a] = True
    standard_edges = int(adjacency.sum())
    lesson_edges = 0
    for row in by_skill.values():
        for before in row.builds_on:
            if before not in index:
                continue
            if not adjacency[index[row.skill], index[before]]:
                lesson_edges += 1
            adjacency[index[row.skill], index[before]] = True
    reduced = _transitive_reduction(adjacency)
    after_idx, before_idx = np.nonzero(reduced)
    edges = tuple(
        sorted((skills[int(b)], skills[int(a)]) for a, b in zip(after_idx, before_idx, strict=True))
    )
    return AlignedEdges(edges, standard_edges, lesson_edges, against)


def _transitive_reduction(adjacency: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Drop every edge implied by a longer path (``adjacency[b, a]``: ``a`` before ``b``).

    Raises :class:`ValueError` on a cycle."""
    n = adjacency.shape[0]
    order: list[int] = []
    indegree = adjacency.sum(axis=1).astype(np.int64)
    ready = [i for i in range(n) if indegree[i] == 0]
    while ready:
        j = ready.pop()
        order.append(j)
        for child in np.nonzero(adjacency[:, j])[0].tolist():
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    if len(order) != n:
        raise ValueError("the aligned prerequisites contain a cycle")
    ancestors = adjacency.copy()
    for c in order:
        parents = np.nonzero(adjacency[c])[0]
        if parents.size:
            ancestors[c] |= ancestors[parents].any(axis=0)
    # an edge a -> b is implied when a is an ancestor of another direct parent of b
    implied = np.zeros_like(adjacency)
    for b in range(n):
        parents = np.nonzero(adjacency[b])[0]
        if parents.size > 1:
            implied[b] = ancestors[parents].any(axis=0)
    return np.asarray(adjacency & ~implied)


SHIPPED_ALIGNMENTS = {
    "oatutor-openstax-elementary-algebra": "elementary-algebra-ccssm.csv",
}
"""Course key -> the file in :data:`SHIPPED` that aligns it to the Common Core (CCSSM)."""


def shipped_alignment(course_key: str) -> Path | None:
    """The shipped CCSSM alignment of a course, if Learnway ships one."""
    name = SHIPPED_ALIGNMENTS.get(course_key)
    return SHIPPED / name if name else None
