"""A course's competencies as the pages show them: codes, titles, units, and interest weights.

Built once per framework from the database and cached by the application context (the
planner's arrays, :class:`learnway.paths.CourseGraph`, are cached beside it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from learnway.paths import CourseGraph
from learnway.store._schema import CompetencyRow, FrameworkRow, ItemRow, StepAlignment, StepRow

STATUS_LABELS = {
    "not_started": "○ Not started",
    "practicing": "◐ Practising",
    "mastered": "● Mastered",
    "due_for_review": "↻ Review due",
    "stuck": "⚠ Stuck",
    "likely_known": "◇ Likely known: not yet shown",
}

# Words in problem texts that tie a competency to a student's interest.
INTEREST_WORDS: dict[str, tuple[str, ...]] = {
    "sports": ("team", "game", "score", "ball", "race", "runner", "soccer", "basketball",
               "football", "baseball", "tennis", "swim", "bike", "player", "coach"),
    "music": ("song", "music", "concert", "band", "guitar", "piano", "ticket"),
    "art": ("paint", "art", "picture", "frame", "draw", "poster", "photo"),
    "video games": ("game", "player", "level", "points", "computer"),
    "animals": ("dog", "cat", "animal", "bird", "fish", "horse", "zoo", "pet"),
    "space": ("planet", "earth", "moon", "sun", "star", "rocket", "light", "distance"),
    "cooking": ("recipe", "cup", "bake", "cook", "pizza", "cake", "cookie", "flour", "sugar"),
    "fashion": ("shirt", "dress", "shoes", "jeans", "clothes", "fabric", "sale"),
    "coding": ("computer", "program", "data", "phone", "code", "internet"),
    "building things": ("build", "fence", "wall", "garden", "rectangle", "area", "perimeter",
                        "wood", "board", "room", "floor"),
    "reading": ("book", "read", "page", "library", "magazine", "story"),
    "nature": ("tree", "garden", "park", "river", "lake", "rain", "plant", "trail", "hike"),
}  # fmt: skip
INTERESTS = tuple(INTEREST_WORDS)


@dataclass(frozen=True)
class UnitInfo:
    code: str
    title: str
    members: tuple[int, ...]  # column indexes into Catalog.codes


@dataclass(frozen=True)
class Catalog:
    framework_id: int
    title: str
    codes: tuple[str, ...]  # the planner's competencies, in the planner's order
    ids: tuple[int, ...]
    titles: tuple[str, ...]
    unit_of: tuple[str, ...]
    units: tuple[UnitInfo, ...]
    column_of_id: dict[int, int] = field(repr=False)
    index: dict[str, int] = field(repr=False)
    interest_weights: dict[str, dict[str, float]] = field(repr=False)

    def title_of(self, code: str | None) -> str | None:
        if code is None:
            return None
        i = self.index.get(code)
        return self.titles[i] if i is not None else code


def build_catalog(session: Session, framework_id: int, course: CourseGraph) -> Catalog:
    rows = session.execute(
        select(CompetencyRow.id, CompetencyRow.code, CompetencyRow.title, CompetencyRow.parent_id)
        .where(CompetencyRow.framework_id == framework_id)
        .order_by(CompetencyRow.sequence, CompetencyRow.id)
    ).all()
    by_id = {r.id: r for r in rows}
    by_code = {r.code: r for r in rows}
    codes = tuple(course.graph.codes)
    ids = tuple(by_code[c].id for c in codes)
    titles = tuple(by_code[c].title for c in codes)
    unit_of: list[str] = []
    members: dict[str, list[int]] = {}
    unit_title: dict[str, str] = {}
    for i, code in enumerate(codes):
        parent = by_id.get(by_code[code].parent_id or -1)
        unit = parent.code if parent is not None else "other"
        unit_title.setdefault(unit, parent.title if parent is not None else "Other")
        unit_of.append(unit)
        members.setdefault(unit, []).append(i)
    units = tuple(UnitInfo(u, unit_title[u], tuple(m)) for u, m in members.items())
    title = session.scalar(select(FrameworkRow.title).where(FrameworkRow.id == framework_id))
    return Catalog(
        framework_id=framework_id,
        title=title or "",
        codes=codes,
        ids=ids,
        titles=titles,
        unit_of=tuple(unit_of),
        units=units,
        column_of_id={cid: i for i, cid in enumerate(ids)},
        index={c: i for i, c in enumerate(codes)},
        interest_weights=_interest_weights(session, framework_id),
    )


def _interest_weights(session: Session, framework_id: int) -> dict[str, dict[str, float]]:
    """Per interest, per competency code: the share of its problems that mention the interest."""
    rows = session.execute(
        select(CompetencyRow.code, ItemRow.title, ItemRow.body, StepRow.prompt, StepRow.body)
        .join(StepAlignment, StepAlignment.competency_id == CompetencyRow.id)
        .join(StepRow, StepRow.id == StepAlignment.step_id)
        .join(ItemRow, ItemRow.id == StepRow.item_id)
        .where(CompetencyRow.framework_id == framework_id)
    ).all()
    patterns = {
        name: re.compile(r"\b(" + "|".join(words) + r")s?\b", re.IGNORECASE)
        for name, words in INTEREST_WORDS.items()
    }
    totals: dict[str, int] = {}
    hits: dict[str, dict[str, int]] = {name: {} for name in patterns}
    for code, *texts in rows:
        totals[code] = totals.get(code, 0) + 1
        text = " ".join(t or "" for t in texts)
        for name, pattern in patterns.items():
            if pattern.search(text):
                hits[name][code] = hits[name].get(code, 0) + 1
    return {
        name: {code: round(n / totals[code], 3) for code, n in counts.items()}
        for name, counts in hits.items()
    }
