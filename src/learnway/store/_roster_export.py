"""The school's roster as it is stored, as a :class:`~learnway.interop.Roster`: what
``learnway export oneroster`` writes (:func:`learnway.interop.oneroster_files`), with each
record's extension data, so that a bundle imported and exported comes back the same."""

from __future__ import annotations

import logging
import re
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from learnway.interop import Roster
from learnway.interop._oneroster_records import (
    DEMOGRAPHIC_FLAGS,
    ClassRecord,
    CourseRecord,
    DemographicsRecord,
    EnrollmentRecord,
    OrgRecord,
    SessionRecord,
    UserRecord,
)
from learnway.store._schema import (
    AcademicSession,
    Course,
    Demographics,
    Enrollment,
    Guardianship,
    Org,
    Section,
    User,
    UserIdentifier,
)

log = logging.getLogger(__name__)
_FLAG_COLUMNS = {name: re.sub(r"(?=[A-Z])", "_", name).lower() for name in DEMOGRAPHIC_FLAGS}


def roster_export(session: Session, title: str = "Learnway roster") -> Roster:
    """Every stored org, term, course, class, person (with their identifiers and guardian
    links), enrollment and demographics record, in sourcedId order."""
    roster = Roster(title=title, version="1.2")
    org = {i: sid for i, sid in session.execute(select(Org.id, Org.sourced_id))}
    parent = aliased(Org)
    for row, parent_sid in session.execute(
        select(Org, parent.sourced_id)
        .outerjoin(parent, parent.id == Org.parent_id)
        .order_by(Org.sourced_id)
    ):
        roster.orgs.append(OrgRecord(row.sourced_id, row.name, row.type, row.identifier,
                                     parent_sid, row.extensions or {}))  # fmt: skip
    term = {i: sid for i, sid in session.execute(select(AcademicSession.id,
                                                        AcademicSession.sourced_id))}  # fmt: skip
    for s in session.scalars(select(AcademicSession).order_by(AcademicSession.sourced_id)):
        roster.sessions.append(SessionRecord(
            s.sourced_id, s.title, s.type, s.start_date, s.end_date, s.school_year,
            term.get(s.parent_id) if s.parent_id else None, s.extensions or {},
        ))  # fmt: skip
    course = {}
    for c in session.scalars(select(Course).order_by(Course.sourced_id)):
        course[c.id] = c.sourced_id
        roster.courses.append(
            CourseRecord(c.sourced_id, c.title, c.course_code, org[c.org_id], c.extensions or {})
        )
    section = {}
    for k in session.scalars(select(Section).order_by(Section.sourced_id)):
        section[k.id] = k.sourced_id
        roster.classes.append(ClassRecord(
            k.sourced_id, k.title, k.class_code, course[k.course_id], org[k.school_id],
            term[k.term_id] if k.term_id else "", k.extensions or {},
        ))  # fmt: skip
    users = list(session.scalars(select(User).order_by(User.sourced_id)))
    person = {u.id: u.sourced_id for u in users}
    agents: dict[int, list[str]] = defaultdict(list)
    relation: dict[int, str] = {}
    for guardian, student, kind in session.execute(
        select(Guardianship.guardian_id, Guardianship.student_id, Guardianship.relation)
    ):
        agents[student].append(person[guardian])
        agents[guardian].append(person[student])
        relation.setdefault(guardian, kind)
    ids: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for user_id, kind, value in session.execute(
        select(UserIdentifier.user_id, UserIdentifier.type, UserIdentifier.identifier)
    ):
        ids[user_id].append((kind, value))
    for u in users:
        roster.users.append(UserRecord(
            sourced_id=u.sourced_id, username=u.username, given_name=u.given_name,
            family_name=u.family_name, email=u.email, role=u.role, org=org[u.org_id],
            grade=u.grade, enabled=u.enabled, agents=tuple(sorted(agents[u.id])),
            guardian_relation=relation.get(u.id, "guardian") if u.role == "guardian" else None,
            identifier=u.identifier, user_ids=tuple(sorted(ids[u.id])),
            extensions=u.extensions or {},
        ))  # fmt: skip
    for e in session.scalars(select(Enrollment).order_by(Enrollment.sourced_id)):
        roster.enrollments.append(EnrollmentRecord(
            e.sourced_id, section[e.section_id], person[e.user_id], e.role, e.primary,
            e.begin_date, e.end_date, e.extensions or {},
        ))  # fmt: skip
    for d in session.scalars(select(Demographics)):
        roster.demographics.append(DemographicsRecord(
            user=person[d.user_id], birth_date=d.birth_date, sex=d.sex,
            flags={name: getattr(d, column) for name, column in _FLAG_COLUMNS.items()},
            country_of_birth_code=d.country_of_birth_code,
            state_of_birth_abbreviation=d.state_of_birth_abbreviation,
            city_of_birth=d.city_of_birth,
            public_school_residence_status=d.public_school_residence_status,
            extensions=d.extensions or {},
        ))  # fmt: skip
    roster.demographics.sort(key=lambda d: d.user)
    log.info(
        "exported the roster: %d orgs, %d people, %d classes, %d enrollments",
        len(roster.orgs), len(roster.users), len(roster.classes), len(roster.enrollments),
    )  # fmt: skip
    return roster
