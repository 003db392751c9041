"""A section's school calendar from what is stored: its practice weekdays, its days off, and the
breaks between the terms of its school year (OneRoster academic sessions, where present)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from learnway.paths import SchoolCalendar, breaks_between_sessions
from learnway.paths._calendar import EVERY_DAY
from learnway.store._schema import AcademicSession, Section, SectionDayOff

EPOCH = dt.date(1970, 1, 1)
"""Day 0 of the planner's clock on the live path (days since the Unix epoch)."""


def section_calendar(
    session: Session, section_id: int, *, origin: dt.date = EPOCH
) -> SchoolCalendar:
    """The calendar of a section on the planner's clock: its practice weekdays (every day when
    none are stored), its days off, and the gaps between the sessions that share its term's
    parent (the terms or grading periods of one school year)."""
    section = session.get(Section, section_id)
    if section is None:
        raise LookupError(f"no section with id {section_id}")
    off = [
        (start, end)
        for start, end in session.execute(
            select(SectionDayOff.start_date, SectionDayOff.end_date).where(
                SectionDayOff.section_id == section_id
            )
        )
    ]
    if section.term_id is not None:
        term = session.get(AcademicSession, section.term_id)
        if term is not None and term.parent_id is not None:
            siblings = session.execute(
                select(AcademicSession.start_date, AcademicSession.end_date).where(
                    AcademicSession.parent_id == term.parent_id
                )
            ).all()
            off += list(breaks_between_sessions((s, e) for s, e in siblings))
    return SchoolCalendar(origin, section.practice_weekdays or EVERY_DAY, tuple(off))
