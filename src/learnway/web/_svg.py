"""Small server-rendered SVG charts: no chart library, readable without colour."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

import numpy as np

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


@dataclass(frozen=True)
class PacingChart:
    """Mastered competencies over time, then the forecast to the finish with its band, the
    deadline and the goal line (drawn by ``_pacing_chart.html``)."""

    width: int
    height: int
    history: str
    forecast: str
    band: str
    deadline_x: float | None
    goal_y: float
    y_ticks: list[tuple[float, int]]
    x_labels: list[tuple[float, str]]
    description: str


def pacing_chart(
    history: list[tuple[dt.date, int]],
    *,
    total: int,
    today: dt.date,
    forecast: dt.date | None,
    early: dt.date | None,
    late: dt.date | None,
    deadline: dt.date | None,
    width: int = 560,
    height: int = 220,
) -> PacingChart:
    """Mastered so far (``history``: day and count), then a dashed forecast from today to
    ``total`` at ``forecast``, shaded between ``early`` and ``late``; dates beyond a year from
    today are drawn at its end."""
    left, right, top, bottom = 44, 14, 12, 30
    horizon = today + dt.timedelta(days=365)
    start = min([d for d, _ in history] + [today])
    ends = [today, *(d for d in (forecast, early, late, deadline) if d is not None)]
    end = min(max(ends), horizon)
    if late is None or forecast is None:
        end = horizon
    span = max((end - start).days, 1)
    top_value = max(total, 1)

    def x(day: dt.date) -> float:
        return round(left + (width - left - right) * (min(day, end) - start).days / span, 1)

    def y(v: float) -> float:
        return round(top + (height - top - bottom) * (1 - v / top_value), 1)

    now = history[-1][1] if history else 0
    line = [(x(d), y(m)) for d, m in history] + [(x(today), y(now))]
    history_path = " ".join(f"{'M' if i == 0 else 'L'}{a},{b}" for i, (a, b) in enumerate(line))
    finish = forecast or horizon
    forecast_path = f"M{x(today)},{y(now)} L{x(finish)},{y(total)}"
    band = f"{x(today)},{y(now)} {x(early or horizon)},{y(total)} {x(late or horizon)},{y(total)}"
    months = sorted({dt.date(d.year, d.month, 1) for d in _days(start, end)} - {start})
    step = max(1, -(-len(months) // 5))
    shown = months[::step]
    labels = [
        (x(m), f"{m:%b %Y}" if i == 0 or m.month <= step else f"{m:%b}")
        for i, m in enumerate(shown)
    ]
    ticks = sorted({0, top_value // 2, top_value})
    when = f"{forecast:%-d %B %Y}" if forecast else "more than a year from now"
    band_text = f" (80% band {early:%-d %b} to {late:%-d %b %Y})" if early and late else ""
    text = f"{now} of {total} mastered by {today:%-d %B %Y}; forecast to finish {when}{band_text}"
    text += f"; deadline {deadline:%-d %B %Y}." if deadline else "; no deadline set."
    return PacingChart(
        width, height, history_path, forecast_path, band,
        x(deadline) if deadline and deadline <= end else None, y(total),
        [(y(t), t) for t in ticks], labels, text,
    )  # fmt: skip


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def estimate_chart(
    points: list[tuple[dt.datetime, float]], width: int = 560, height: int = 200
) -> Chart:
    """The model's estimate of mastery (0 to 100%) after each change, in time order."""
    left, right, top, bottom = 44, 30, 10, 30
    span_x = max(len(points) - 1, 1)

    def x(i: int) -> float:
        return round(left + (width - left - right) * i / span_x, 1)

    def y(p: float) -> float:
        return round(top + (height - top - bottom) * (1 - p), 1)

    coords = [(x(i), y(p), f"{at:%-d %b %H:%M}: {p:.0%}") for i, (at, p) in enumerate(points)]
    path = " ".join(f"{'M' if i == 0 else 'L'}{cx},{cy}" for i, (cx, cy, _) in enumerate(coords))
    labels: list[tuple[float, str]] = []
    for i, (at, _) in enumerate(points):  # one label per day, a label's width apart
        text = f"{at:%-d %b}"
        if (not labels or labels[-1][1] != text) and (not labels or x(i) - labels[-1][0] > 60):
            labels.append((x(i), text))
    if points:
        text = (
            f"The estimate went from {points[0][1]:.0%} on {points[0][0]:%-d %B} to "
            f"{points[-1][1]:.0%} on {points[-1][0]:%-d %B}, over {len(points)} changes."
        )
    else:
        text = "No change of the estimate recorded yet."
    ticks = [(y(v / 100), v) for v in (0, 50, 100)]
    return Chart(width, height, path, coords, ticks, labels, text)


@dataclass(frozen=True)
class IntervalChart:
    """Estimates with their intervals, one row each, around a zero line (a forest plot),
    drawn by ``experiment_charts.html``: ``rows`` are (label, y, x of the estimate, x of the
    interval's ends, the row's text)."""

    width: int
    height: int
    zero_x: float
    rows: list[tuple[str, float, float, float, float, str]]
    x_ticks: list[tuple[float, str]]
    description: str


def interval_chart(
    rows: list[tuple[str, float, float, float]], *, unit: str, width: int = 560,
    row_height: int = 28,
) -> IntervalChart:  # fmt: skip
    """(label, estimate, low, high) rows on one horizontal scale that always shows zero."""
    left, right, top, bottom = 170, 16, 8, 28
    height = top + bottom + row_height * max(len(rows), 1)
    values = [v for _, e, lo, hi in rows for v in (e, lo, hi)] + [0.0]
    low, high = min(values), max(values)
    pad = (high - low) * 0.08 or 1.0
    low, high = low - pad, high + pad

    def x(v: float) -> float:
        return round(left + (width - left - right) * (v - low) / (high - low), 1)

    drawn = [
        (label, float(top + row_height * (i + 0.5)), x(e), x(lo), x(hi),
         f"{label}: {e:+.3g} (95% interval {lo:+.3g} to {hi:+.3g}) {unit}")
        for i, (label, e, lo, hi) in enumerate(rows)
    ]  # fmt: skip
    ticks = [(x(v), f"{v:+.2g}") for v in np.linspace(low + pad, high - pad, 5)]
    if rows:
        text = "; ".join(r[5] for r in drawn) + ". The vertical line is no difference."
    else:
        text = "No estimate to show yet."
    return IntervalChart(width, height, x(0.0), drawn, ticks, text)


@dataclass(frozen=True)
class TwoLineChart:
    """Two series over the same x values, solid and dashed (drawn by
    ``experiment_charts.html``), with a vertical marker at x = 0."""

    width: int
    height: int
    solid: str
    dashed: str
    solid_label: str
    dashed_label: str
    marker_x: float
    y_ticks: list[tuple[float, str]]
    x_labels: list[tuple[float, str]]
    description: str


def two_line_chart(
    xs: list[int], solid: list[float], dashed: list[float], *, labels: tuple[str, str],
    x_unit: str, width: int = 560, height: int = 220,
) -> TwoLineChart:  # fmt: skip
    """Growth of two groups relative to a start (x = 0), e.g. supported and comparison."""
    left, right, top, bottom = 44, 14, 10, 30
    values = [*solid, *dashed, 0.0]
    low, high = min(values), max(max(values), min(values) + 1)
    span = max(max(xs, default=1) - min(xs, default=0), 1)

    def x(v: float) -> float:
        return round(left + (width - left - right) * (v - min(xs, default=0)) / span, 1)

    def y(v: float) -> float:
        return round(top + (height - top - bottom) * (1 - (v - low) / (high - low)), 1)

    def path(ys: list[float]) -> str:
        pairs = enumerate(zip(xs, ys, strict=True))
        return " ".join(f"{'M' if i == 0 else 'L'}{x(a)},{y(b)}" for i, (a, b) in pairs)

    ticks = [(y(v), f"{v:.1f}") for v in np.linspace(low, high, 3)]
    step = max(1, len(xs) // 6)
    x_labels = [(x(v), f"{v:+d}") for i, v in enumerate(xs) if i % step == 0]
    if xs:
        text = (
            f"From {xs[0]} to {xs[-1]} {x_unit} around the start, {labels[0]} gained "
            f"{solid[-1] - solid[0]:.1f} and {labels[1]} {dashed[-1] - dashed[0]:.1f}."
        )
    else:
        text = "Not enough data to draw."
    return TwoLineChart(
        width, height, path(solid), path(dashed), labels[0], labels[1], x(0), ticks, x_labels,
        text,
    )  # fmt: skip


@dataclass(frozen=True)
class BarChart:
    """One horizontal bar per group from a zero line (drawn by ``report_charts.html``):
    ``rows`` are (label, y, x where the bar starts, x where it ends, the value's text); a
    suppressed group has no bar (both x at zero) and says so in its text. Labels end at
    ``label_x``."""

    width: int
    height: int
    label_x: float
    zero_x: float
    rows: list[tuple[str, float, float, float, str]]
    x_ticks: list[tuple[float, str]]
    description: str


def nice_ticks(low: float, high: float, most: int = 6) -> list[float]:
    """Round values (1, 2, 2.5 or 5 times a power of ten apart) covering [low, high]."""
    span = max(high - low, 1e-9)
    raw = span / (most - 1)
    power = 10.0 ** np.floor(np.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first, last = np.floor(low / step) * step, np.ceil(high / step) * step
    return [round(float(v), 10) for v in np.arange(first, last + step / 2, step)]


def bar_chart(
    rows: list[tuple[str, float | None]], *, unit: str, hidden: str = "not shown",
    width: int = 560, row_height: int = 26,
) -> BarChart:  # fmt: skip
    """(label, value) rows on one horizontal scale from zero; a value of None is a group not
    shown (``hidden`` says why)."""
    longest = max([len(label) for label, _ in rows] + [4])
    left = min(12 + 6.2 * longest, width * 0.45)  # room for the longest label at 11px
    right, top, bottom = 60, 8, 28
    height = top + bottom + row_height * max(len(rows), 1)
    values = [v for _, v in rows if v is not None] + [0.0]
    lowest, highest = min(values), max(values)
    ticks = nice_ticks(lowest, highest if highest > lowest else lowest + 1.0)
    low, high = ticks[0], ticks[-1]

    def x(v: float) -> float:
        return round(left + (width - left - right) * (v - low) / (high - low), 1)

    drawn = []
    for i, (label, v) in enumerate(rows):
        y = float(top + row_height * (i + 0.5))
        if v is None:
            drawn.append((label, y, x(0.0), x(0.0), hidden))
        else:
            a, b = sorted((x(0.0), x(v)))
            drawn.append((label, y, a, b, f"{v:.3g}"))
    shown = [f"{label} {text}" for label, _, _, _, text in drawn if text != hidden]
    if shown:
        text = f"{unit}: " + "; ".join(shown) + "."
        if len(shown) < len(rows):
            text += f" {len(rows) - len(shown)} group(s) {hidden}."
    else:
        text = f"No group large enough to show ({hidden})."
    return BarChart(width, height, round(left - 6, 1), x(0.0), drawn,
                    [(x(v), f"{v:g}") for v in ticks], text)  # fmt: skip


DASHES = ("", "8 4", "2 3", "10 3 2 3", "4 4", "1 5")
"""Line styles that tell series apart without colour (cycled beyond six series)."""


@dataclass(frozen=True)
class LinesChart:
    """Several series over the same x labels (drawn by ``report_charts.html``): ``series``
    are (name, path, dash pattern, points as (x, y, text), x and y of the name's label at the
    series' last point); a missing value breaks its line."""

    width: int
    height: int
    series: list[tuple[str, str, str, list[tuple[float, float, str]], float, float]]
    y_ticks: list[tuple[float, str]]
    x_labels: list[tuple[float, str]]
    description: str


def lines_chart(
    x_labels: list[str], series: list[tuple[str, list[float | None]]], *, unit: str,
    width: int = 560, height: int = 240,
) -> LinesChart:  # fmt: skip
    """One line per series (each a value per x label, None where not shown), named at its end."""
    left, right, top, bottom = 44, 110, 10, 30
    values = [v for _, ys in series for v in ys if v is not None]
    grid = nice_ticks(min([0.0, *values]), max([*values, 1.0]), 5)
    low, high = grid[0], grid[-1]
    span = max(len(x_labels) - 1, 1)

    def x(i: int) -> float:
        return round(left + (width - left - right) * i / span, 1)

    def y(v: float) -> float:
        return round(top + (height - top - bottom) * (1 - (v - low) / (high - low)), 1)

    drawn = []
    for k, (name, ys) in enumerate(series):
        parts, points, pen_up = [], [], True
        for i, v in enumerate(ys):
            if v is None:
                pen_up = True
                continue
            parts.append(f"{'M' if pen_up else 'L'}{x(i)},{y(v)}")
            points.append((x(i), y(v), f"{name}, {x_labels[i]}: {v:.3g}"))
            pen_up = False
        end = points[-1] if points else (x(0), y(low), "")
        drawn.append((name, " ".join(parts), DASHES[k % len(DASHES)], points,
                      end[0] + 6, end[1] + 4))  # fmt: skip
    order = sorted(range(len(drawn)), key=lambda k: drawn[k][5])
    for prev, k in itertools.pairwise(order):  # names at least a line apart
        if drawn[k][5] - drawn[prev][5] < 12:
            drawn[k] = (*drawn[k][:5], drawn[prev][5] + 12)
    ticks = [(y(v), f"{v:g}") for v in grid]
    step = max(1, len(x_labels) // 6)
    labels = [(x(i), t) for i, t in enumerate(x_labels) if i % step == 0]
    said = []
    for name, ys in series:
        kept = [(t, v) for t, v in zip(x_labels, ys, strict=True) if v is not None]
        if kept:
            said.append(f"{name} from {kept[0][1]:.3g} ({kept[0][0]}) to {kept[-1][1]:.3g} "
                        f"({kept[-1][0]})")  # fmt: skip
        else:
            said.append(f"{name} not shown")
    text = f"{unit}: " + "; ".join(said) + "." if said else "No group to show yet."
    return LinesChart(width, height, drawn, ticks, labels, text)
