"""The school calendar: the weekdays a section practises and its days off.

The planner's clock counts days (floats) from an origin date; the calendar says which of those
days are school days, so that pacing, deadline urgency and the simulators count the practice
time there really is, and forgetting still runs over weekends and holidays.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

EVERY_DAY = "1111111"
WEEKDAYS = "1111100"


@dataclass(frozen=True)
class SchoolCalendar:
    """Practice weekdays (``"1111100"``: Monday to Friday, Monday first) and days off (pairs of
    dates, both ends included) around an ``origin``: day 0 of the planner's clock.

    >>> cal = SchoolCalendar(dt.date(2026, 11, 23), "1010100")  # Mon, Wed, Fri
    >>> cal.school_days_between(0.0, 7.0)
    3.0
    """

    origin: dt.date
    weekdays: str = EVERY_DAY
    days_off: tuple[tuple[dt.date, dt.date], ...] = ()

    def __post_init__(self) -> None:
        if len(self.weekdays) != 7 or set(self.weekdays) - {"0", "1"} or "1" not in self.weekdays:
            raise ValueError(
                f"practice weekdays must be 7 characters of 0 and 1 with at least one 1, "
                f"Monday first (e.g. 1111100), not {self.weekdays!r}"
            )
        for start, end in self.days_off:
            if end < start:
                raise ValueError(f"a day off ends ({end}) before it starts ({start})")

    @classmethod
    def every_day(cls, origin: dt.date | None = None) -> SchoolCalendar:
        return cls(origin or dt.date(2000, 1, 3))

    def _school(self, days: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Whether each whole day (on the planner's clock) is a school day."""
        ordinal = self.origin.toordinal() + days
        weekday = (ordinal - 1) % 7  # date.fromordinal(1) is a Monday
        mask = np.array([c == "1" for c in self.weekdays])
        out = mask[weekday]
        for start, end in self.days_off:
            out &= ~((ordinal >= start.toordinal()) & (ordinal <= end.toordinal()))
        return np.asarray(out)

    def is_school_day(self, day: ArrayLike) -> NDArray[np.bool_]:
        return self._school(np.floor(np.asarray(day, dtype=np.float64)).astype(np.int64))

    def school_days_between(self, start: ArrayLike, end: ArrayLike) -> NDArray[np.float64]:
        """School days in ``[start, end)`` on the planner's clock, counting the part of the
        current day that is left (vectorized over either end)."""
        a = np.asarray(start, dtype=np.float64)
        b = np.asarray(end, dtype=np.float64)
        a, b = np.broadcast_arrays(a, b)
        lo = int(np.floor(np.nanmin(np.minimum(a, b)))) if a.size else 0
        hi = int(np.ceil(np.nanmax(np.maximum(a, b)))) + 1 if a.size else 1
        days = np.arange(lo, hi)
        school = self._school(days).astype(np.float64)
        cum = np.r_[0.0, np.cumsum(school)]

        def at(x: NDArray[np.float64]) -> NDArray[np.float64]:
            whole = np.floor(x).astype(np.int64) - lo
            frac = x - np.floor(x)
            return cum[whole] + frac * school[np.minimum(whole, school.size - 1)]

        out = np.clip(at(b) - at(a), 0.0, None)
        return out if out.ndim else out[()]

    def after_school_days(self, start: float, n: ArrayLike) -> NDArray[np.float64]:
        """The day on the planner's clock by which ``n`` more school days have passed from
        ``start`` (vectorized over ``n``; infinite stays infinite)."""
        need = np.asarray(n, dtype=np.float64)
        finite = need[np.isfinite(need)]
        horizon = (
            int(np.ceil(finite.max() * 7 / max(self.weekdays.count("1"), 1)))
            if (finite.size)
            else 0
        )
        horizon += 400 + sum((e - s).days + 1 for s, e in self.days_off)
        days = np.arange(int(np.floor(start)), int(np.floor(start)) + horizon + 1)
        school = self._school(days).astype(np.float64)
        first = school[0] * (1 - (start - np.floor(start)))
        cum = np.r_[first, first + np.cumsum(school[1:])]
        idx = np.searchsorted(cum, np.where(np.isfinite(need), need, 0.0), side="left")
        idx = np.minimum(idx, days.size - 1)
        out = np.where(np.isfinite(need), days[idx] + 1.0, np.inf)
        out = np.where(need <= 0, start, out)
        return out if out.ndim else out[()]

    def day(self, date: dt.date) -> float:
        """A date on the planner's clock."""
        return float((date - self.origin).days)


def breaks_between_sessions(
    sessions: Iterable[tuple[dt.date, dt.date]],
) -> tuple[tuple[dt.date, dt.date], ...]:
    """Days off from academic sessions (OneRoster terms or grading periods of one school year):
    the days between one session's end and the next one's start."""
    ordered = sorted(sessions)
    out = []
    for (_, end), (start, _) in itertools.pairwise(ordered):
        if (start - end).days > 1:
            out.append((end + dt.timedelta(days=1), start - dt.timedelta(days=1)))
    return tuple(out)
