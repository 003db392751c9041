"""Small server-rendered SVG charts: no chart library, readable without colour."""

from __future__ import annotations

from dataclasses import dataclass

from learnway.web._schemas import GrowthOut


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    path: str
    points: list[tuple[float, float, str]]
    y_ticks: list[tuple[float, int]]
    x_labels: list[tuple[float, str]]
    description: str


def growth_chart(data: GrowthOut, width: int = 560, height: int = 220) -> Chart:
    """A line of competencies mastered per day (drawn by the template as inline SVG)."""
    left, right, top, bottom = 40, 10, 10, 30
    pts = data.points
    top_value = max([p.mastered for p in pts] + [5])
    span_x = max(len(pts) - 1, 1)

    def x(i: int) -> float:
        return left + (width - left - right) * i / span_x

    def y(v: float) -> float:
        return top + (height - top - bottom) * (1 - v / top_value)

    coords = [(round(x(i), 1), round(y(p.mastered), 1), f"{p.day:%-d %b}: {p.mastered}")
              for i, p in enumerate(pts)]  # fmt: skip
    path = " ".join(f"{'M' if i == 0 else 'L'}{cx},{cy}" for i, (cx, cy, _) in enumerate(coords))
    ticks = sorted({0, top_value // 2, top_value})
    step = max(1, len(pts) // 6)
    labels = [(round(x(i), 1), f"{p.day:%-d %b}") for i, p in enumerate(pts) if i % step == 0]
    if pts:
        first, last = pts[0], pts[-1]
        text = (
            f"Competencies mastered rose from {first.mastered} on {first.day:%-d %B} "
            f"to {last.mastered} on {last.day:%-d %B}, out of {data.total}."
        )
    else:
        text = "No practice recorded yet."
    return Chart(width, height, path, coords, [(round(y(t), 1), t) for t in ticks], labels, text)
