"""A student's path as a small map: the units on the way to their goal, linked where one
unit's competencies are prerequisites of another's, drawn as server-side SVG with a text
equivalent (the same units and links, in words)."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from learnway.paths import CourseGraph
from learnway.web._catalog import Catalog
from learnway.web._schemas import PathOut

MAX_UNITS = 12
COLUMNS = 4
BOX_W, BOX_H, GAP_X, GAP_Y, PAD, TOP = 190, 58, 34, 44, 10, 30


class MapUnit(BaseModel):
    code: str
    title: str
    mastered: int
    total: int
    state: str = Field(description="done, started or ahead")
    goal: bool = Field(description="holds the goal")
    needs: list[str] = Field(description="units on the map this one builds on (their codes)")
    x: float
    y: float


class PathMap(BaseModel):
    """The units toward the goal, in course order, with the links between them."""

    goal: str | None = Field(description="the goal's title (the course's end when none)")
    units: list[MapUnit]
    more: int = Field(description="units further on the way, not drawn")
    done_before: int = Field(description="units on the way already mastered, not drawn")
    width: int
    height: int
    edges: list[str] = Field(description="SVG path data of each link, for the drawing")


def path_map(course: CourseGraph, catalog: Catalog, path: PathOut, goals: list[str]) -> PathMap:
    """The map of ``path``: the units holding the goals (or the course's last competency) and
    their prerequisites, the mastered ones summarized, the next ``MAX_UNITS`` drawn."""
    graph = course.graph
    target = np.zeros(graph.n, dtype=bool)
    for code in goals:
        if code in graph.index:
            target[graph.index[code]] = True
    goal_title = None
    if target.any():
        first = int(np.nonzero(target)[0][0])
        goal_title = catalog.titles[first]
    else:
        target[int(graph.order[-1])] = True
    needed = target | graph.ancestors[target].any(axis=0)
    unit_index = {u.code: i for i, u in enumerate(catalog.units)}
    unit_of = np.array([unit_index.get(catalog.unit_of[c], -1) for c in range(graph.n)])
    on_way = sorted({int(unit_of[c]) for c in np.nonzero(needed)[0] if unit_of[c] >= 0})
    counts = {u.code: (u.mastered, u.total) for u in path.units}
    goal_units = {int(unit_of[c]) for c in np.nonzero(target)[0]}

    def state(code: str) -> str:
        mastered, total = counts.get(code, (0, 1))
        return "done" if total and mastered >= total else "started" if mastered else "ahead"

    open_units = [u for u in on_way if state(catalog.units[u].code) != "done"]
    done_before = len(on_way) - len(open_units)
    shown = open_units[:MAX_UNITS]
    more = len(open_units) - len(shown)
    pos = {u: i for i, u in enumerate(shown)}
    # unit-level links: a prerequisite edge between competencies of two shown units
    after, before = np.nonzero(graph.prereq)
    links: set[tuple[int, int]] = set()
    for a, b in zip(unit_of[before], unit_of[after], strict=True):
        if a != b and int(a) in pos and int(b) in pos:
            links.add((int(a), int(b)))
    reduced = _reduce(links)
    units: list[MapUnit] = []
    for i, u in enumerate(shown):
        info = catalog.units[u]
        row, col = divmod(i, COLUMNS)
        if row % 2:  # a snake: every other row runs right to left
            col = COLUMNS - 1 - col
        mastered, total = counts.get(info.code, (0, len(info.members)))
        unit = MapUnit(
            code=info.code, title=info.title, mastered=mastered, total=total,
            state=state(info.code), goal=u in goal_units,
            needs=[catalog.units[a].code for a, b in sorted(reduced) if b == u],
            x=PAD + col * (BOX_W + GAP_X), y=TOP + row * (BOX_H + GAP_Y),
        )  # fmt: skip
        units.append(unit)
    at = {m.code: m for m in units}
    edges = []
    for m in units:
        for code in m.needs:
            src = at[code]
            edges.append(_edge(src.x, src.y, m.x, m.y))
    rows = max(1, -(-len(units) // COLUMNS))
    width = 2 * PAD + COLUMNS * BOX_W + (COLUMNS - 1) * GAP_X
    height = TOP + PAD + rows * BOX_H + (rows - 1) * GAP_Y
    return PathMap(
        goal=goal_title, units=units, more=more, done_before=done_before, width=width,
        height=height, edges=edges,
    )  # fmt: skip


def _reduce(links: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Drop a link implied by a longer chain of links (units are in course order)."""
    after: dict[int, set[int]] = {}
    for a, b in links:
        after.setdefault(a, set()).add(b)

    def reach(start: int, skip: tuple[int, int]) -> set[int]:
        seen: set[int] = set()
        stack = [start]
        while stack:
            node = stack.pop()
            for nxt in after.get(node, ()):
                if (node, nxt) != skip and nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return seen

    return {(a, b) for a, b in links if b not in reach(a, (a, b))}


def _edge(x1: float, y1: float, x2: float, y2: float) -> str:
    """SVG path data from one box to another: a straight arrow between neighbours, an arc
    over the row (or beside the rows) for a longer link, so that no link crosses a box."""
    cx1, cy1, cx2, cy2 = x1 + BOX_W / 2, y1 + BOX_H / 2, x2 + BOX_W / 2, y2 + BOX_H / 2
    if abs(cy1 - cy2) < 1:  # same row
        if abs(cx1 - cx2) <= BOX_W + GAP_X + 1:
            if cx1 < cx2:
                return f"M{x1 + BOX_W},{cy1} L{x2 - 3},{cy2}"
            return f"M{x1},{cy1} L{x2 + BOX_W + 3},{cy2}"
        top = y1 - 22
        return f"M{cx1},{y1} C{cx1},{top} {cx2},{top} {cx2},{y2 - 3}"
    if abs(cx1 - cx2) < 1:  # straight down, between rows
        return f"M{cx1},{y1 + BOX_H} L{cx2},{y2 - 3}"
    mid = y1 + BOX_H + GAP_Y / 2  # down into the gap between rows, across, then down
    return f"M{cx1},{y1 + BOX_H} C{cx1},{mid} {cx2},{mid} {cx2},{y2 - 3}"
