"""A section's school calendar: practice weekdays and days off as stored, and the breaks
between the OneRoster terms of its school year."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, StatementError

from learnway.store import section_calendar, transaction
from learnway.store._schema import AcademicSession, Course, Org, Section, SectionDayOff


def test_a_sections_calendar_comes_from_its_weekdays_days_off_and_terms(engine: Engine) -> None:
    with transaction(engine) as session:
        school = Org(sourced_id="s", name="School", type="school")
        session.add(school)
        session.flush()
        year = AcademicSession(
            sourced_id="y", title="2026-27", type="schoolYear", start_date=dt.date(2026, 9, 1),
            end_date=dt.date(2027, 6, 30), school_year=2027,
        )  # fmt: skip
        session.add(year)
        session.flush()
        fall, spring = (
            AcademicSession(
                sourced_id=key,
                title=key,
                type="term",
                start_date=start,
                end_date=end,
                school_year=2027,
                parent_id=year.id,
            )
            for key, start, end in (
                ("fall", dt.date(2026, 9, 1), dt.date(2026, 12, 18)),
                ("spring", dt.date(2027, 1, 4), dt.date(2027, 6, 30)),
            )
        )
        session.add_all([fall, spring])
        course = Course(sourced_id="c", title="Algebra", org_id=school.id)
        session.add(course)
        session.flush()
        section = Section(
            sourced_id="sec", title="Algebra 1", course_id=course.id, school_id=school.id,
            term_id=fall.id, practice_weekdays="1010100",
        )  # fmt: skip
        session.add(section)
        session.flush()
        session.add(
            SectionDayOff(
                section_id=section.id, start_date=dt.date(2026, 11, 26),
                end_date=dt.date(2026, 11, 27), title="Thanksgiving",
            )
        )  # fmt: skip
        section_id = section.id
    with transaction(engine) as session:
        cal = section_calendar(session, section_id, origin=dt.date(2026, 11, 23))
    assert cal.weekdays == "1010100"
    assert cal.school_days_between(0.0, 7.0) == 2.0  # Mon, Wed; Friday is a day off
    winter = cal.day(dt.date(2026, 12, 21))  # a Monday in the break between the terms
    assert not cal.is_school_day(winter)
    assert cal.is_school_day(cal.day(dt.date(2027, 1, 4)))
    with pytest.raises((IntegrityError, StatementError)), transaction(engine) as session:
        session.add(
            SectionDayOff(
                section_id=section_id, start_date=dt.date(2026, 12, 2),
                end_date=dt.date(2026, 12, 1), title="backwards",
            )
        )  # fmt: skip
    with transaction(engine) as session:
        assert len(session.scalars(select(SectionDayOff)).all()) == 1
