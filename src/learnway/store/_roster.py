"""Write a OneRoster bundle (read by :func:`learnway.interop.read_oneroster`) into the school's
data, all or nothing.

Records match on their sourcedId, so importing the same bundle twice changes nothing. Every
reference (a class's course, school and term; an enrollment's class and user; a user's org and
agents) must resolve to a record of the bundle or one already in the database; every problem is
collected before one :class:`~learnway.InputError` is raised, and nothing is written.

A bulk file is the whole truth about what it holds, so the enrollments of a bulk file's classes
that it no longer lists are removed (a student who left a class is no longer seen by its
teacher), and so are the guardian links of a bulk file's students. A delta file only adds and
changes. In both, a user marked ``tobedeleted`` is disabled at once and their enrollments end
(yesterday was their last day); the retention policy (``LEARNWAY_RETENTION_DAYS``, see
:mod:`learnway.store._erase`) then deletes a student's data once that many days have passed
since the end of their last enrollment. An enrollment marked ``tobedeleted``, or one of a bulk
file's classes that the file no longer lists, is removed, except a disabled person's, which is
ended instead (kept, for the retention policy to count from).
People, classes and courses are never deleted. Passwords are never imported: people sign in once
an administrator sets a password (or through single sign-on).

Each record's extension data (``ext_*``, ``metadata.*`` and other columns OneRoster does not
define) is stored with it, a person's ``identifier`` and ``userIds`` too (searchable: see
:func:`find_users`). Unless the roster was read with ``strict=True``, what real exports do is
written with a warning in ``roster.warnings`` instead of refusing the bundle: an agent link
between a student and someone who is not a guardian in Learnway (Learnway gives each person one
role) is left out; an org's or a term's parent that resolves nowhere is dropped (the parent is
optional); a class's course that resolves nowhere, in a bundle without ``courses.csv``, is made
from the class. Rows left out are listed in ``roster.skipped`` with their reason (and as a
warning): an enrollment of a class the bundle marks ``tobedeleted``, and one whose role is not
the person's (a teacher enrolled as a student).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import delete, or_, select, tuple_, update
from sqlalchemy.orm import Session

from learnway._errors import InputError, Problem
from learnway.interop import Roster
from learnway.interop._oneroster_records import (
    DEMOGRAPHIC_FLAGS,
    CourseRecord,
    OrgRecord,
    SessionRecord,
)
from learnway.store._load import ImportReport, _chunks, _insert, _select_in, _sync
from learnway.store._schema import (
    AcademicSession,
    Base,
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

# OneRoster's camelCase flag names are the snake_case columns of ``demographics``
_FLAG_COLUMNS = {name: re.sub(r"(?=[A-Z])", "_", name).lower() for name in DEMOGRAPHIC_FLAGS}


class _Known:
    """What a sourcedId names, in the bundle or in the database, for one kind of record."""

    def __init__(
        self, session: Session, model: type[Base], bundle: dict[str, Any], column: str = ""
    ) -> None:
        self.bundle = bundle
        self.stored = _ids(session, model, column or "id")

    def __contains__(self, sourced_id: object) -> bool:
        return sourced_id in self.bundle or sourced_id in self.stored

    def get(self, sourced_id: str) -> Any:
        return self.bundle[sourced_id] if sourced_id in self.bundle else self.stored.get(sourced_id)


Progress = Callable[[str, int, int], None]
STAGES = ("orgs", "terms", "courses", "classes", "people", "enrollments", "guardians",
          "demographics")  # fmt: skip


def save_roster(
    session: Session, roster: Roster, *, progress: Progress | None = None
) -> ImportReport:
    """Write ``roster`` (see the module's docstring); the caller owns the transaction.
    ``progress(stage, done, total)`` is called as each stage of the writing starts."""
    problems: list[Problem] = []

    def problem(kind: str, sourced_id: str, message: str) -> None:
        problems.append(Problem(roster.title, f"{kind} {sourced_id}", message))

    org_type = _Known(session, Org, {o.sourced_id: o.type for o in roster.orgs}, "type")
    left_out = {sourced_id: why for kind, sourced_id, why in roster.skipped if kind == "org"}

    def org_problem(kind: str, sourced_id: str, org: str) -> None:
        why = f"was left out ({left_out[org]})" if org in left_out else "is unknown"
        problem(kind, sourced_id, f"org {org} {why}")

    def tolerate(kind: str, sourced_id: str, message: str) -> None:
        roster.warnings.append(Problem(roster.title, f"{kind} {sourced_id}", message))

    def leave_out(kind: str, sourced_id: str, why: str) -> None:
        roster.skipped.append((kind, sourced_id, why))
        tolerate(kind, sourced_id, f"left out: {why}")

    orgs = []
    for org in roster.orgs:
        if org.parent and org.parent not in org_type and org.parent not in left_out:
            message = f"parent {org.parent} is in neither bundle nor school"
            if roster.strict:
                problem("org", org.sourced_id, message)
            else:
                tolerate("org", org.sourced_id, f"{message}: read without a parent")
                org = replace(org, parent=None)
        orgs.append(org)
    terms = _Known(session, AcademicSession, {s.sourced_id: s for s in roster.sessions})
    removed_sessions = set(roster.removed.get("academicSessions", []))
    sessions = []
    for term in roster.sessions:
        if term.parent and term.parent not in terms and term.parent not in removed_sessions:
            if roster.strict:
                problem("academic session", term.sourced_id, f"parent {term.parent} is unknown")
            else:
                tolerate("academic session", term.sourced_id, f"parent {term.parent} is in "
                         "neither bundle nor school: read without a parent")  # fmt: skip
                term = replace(term, parent=None)
        sessions.append(term)
    courses = _Known(session, Course, {c.sourced_id: c for c in roster.courses})
    made: dict[str, CourseRecord] = {}
    for course in roster.courses:
        if course.org not in org_type:
            org_problem("course", course.sourced_id, course.org)
    sections = _Known(session, Section, {c.sourced_id: c for c in roster.classes})
    for section in roster.classes:
        if section.course in made:
            pass
        elif section.course not in courses and "courses" in roster.absent and not roster.strict:
            # the bundle carries no courses.csv: the class stands for its course
            made[section.course] = CourseRecord(
                section.course, section.title, None, section.school, {}
            )
            tolerate("class", section.sourced_id, f"course {section.course} is in neither "
                     "bundle nor school, and the bundle has no courses.csv: the course is "
                     f"made from the class, titled {section.title!r}")  # fmt: skip
        elif section.course not in courses:
            problem("class", section.sourced_id, f"course {section.course} is unknown")
        if section.school not in org_type:
            org_problem("class", section.sourced_id, section.school)
        elif org_type.get(section.school) != "school":
            problem("class", section.sourced_id, f"org {section.school} is not a school")
        if section.term not in terms:
            problem("class", section.sourced_id, f"term {section.term} is unknown")

    names = {name: sid for sid, name in session.execute(select(User.sourced_id, User.username))}
    user_role: dict[str, str] = {}
    repeated = Counter(u.username for u in roster.users)
    for user in roster.users:
        kind = org_type.get(user.org)
        if user.org not in org_type:
            org_problem("user", user.sourced_id, user.org)
        role = user.role
        if role == "administrator":
            role = "district_admin" if kind == "district" else "school_admin"
        user_role[user.sourced_id] = role
        owner = names.get(user.username, user.sourced_id)
        if repeated[user.username] > 1 or owner != user.sourced_id:
            problem("user", user.sourced_id, f"username {user.username} is already taken")
    roles = _Known(session, User, user_role, "role")

    pairs: set[tuple[str, str]] = set()
    removed_classes = set(roster.removed.get("classes", []))
    enrollments = []
    for enrollment in roster.enrollments:
        where = ("enrollment", enrollment.sourced_id)
        role = roles.get(enrollment.user)
        if enrollment.section not in sections and enrollment.section in removed_classes:
            # the class is deleted by this very bundle: so are its enrollments
            leave_out(*where, f"its class {enrollment.section} is marked tobedeleted")
            continue
        if enrollment.section not in sections:
            problem(*where, f"class {enrollment.section} is unknown")
        if enrollment.user not in roles:
            problem(*where, f"user {enrollment.user} is unknown")
        elif (enrollment.role == "student") != (role == "student"):
            message = f"user {enrollment.user} is a {role}, enrolled as {enrollment.role}"
            if roster.strict:
                problem(*where, message)
            else:  # Learnway gives each person one role
                leave_out(*where, f"{message} (a person has one role in Learnway)")
                continue
        enrollments.append(enrollment)
        pair = (enrollment.section, enrollment.user)
        if pair in pairs:
            problem(*where, f"user {enrollment.user} is enrolled in {enrollment.section} twice")
        pairs.add(pair)

    links: dict[tuple[str, str], str] = {}  # (guardian, student) -> relation
    relation = {u.sourced_id: u.guardian_relation for u in roster.users}
    removed_users = set(roster.removed.get("users", []))
    for user in roster.users:
        for agent in user.agents:
            if agent in removed_users:
                continue
            kinds = (user_role[user.sourced_id], roles.get(agent))
            if agent not in roles:
                problem("user", user.sourced_id, f"agent {agent} is unknown")
            elif kinds == ("student", "guardian"):
                links[(agent, user.sourced_id)] = relation.get(agent) or "guardian"
            elif kinds == ("guardian", "student"):
                links[(user.sourced_id, agent)] = relation[user.sourced_id] or "guardian"
            elif roster.strict:
                problem("user", user.sourced_id, f"agent {agent} is a {kinds[1]}, and only a "
                        "student and a guardian can be each other's agents")  # fmt: skip
            else:
                roster.warnings.append(Problem(roster.title, f"user {user.sourced_id}", f"agent "
                                       f"{agent} is a {kinds[1]}: the link is left out (only a "
                                       "student and a guardian are each other's agents in "
                                       "Learnway)"))  # fmt: skip
    for record in roster.demographics:
        if record.user not in roles:
            problem("demographics", record.user, "is not a user")
    if problems:
        log.info("refused %s: %d problem(s)", roster.title, len(problems))
        raise InputError(problems)
    roster = replace(  # what was read, as tolerated; warnings and skipped rows stay shared
        roster, orgs=orgs, sessions=sessions, courses=[*roster.courses, *made.values()],
        enrollments=enrollments,
    )  # fmt: skip
    report = _write(session, roster, user_role, links, progress or _quiet)
    log.info("wrote %s: %d row(s) changed", roster.title, report.changed)
    return report


def _quiet(stage: str, done: int, total: int) -> None:
    pass


def _write(
    session: Session,
    roster: Roster,
    user_role: dict[str, str],
    links: dict[tuple[str, str], str],
    progress: Progress,
) -> ImportReport:
    report = ImportReport()

    def stage(name: str) -> None:
        progress(name, STAGES.index(name), len(STAGES))
        log.debug("writing %s", name)

    stage("orgs")
    org_rows = [
        {
            "sourced_id": o.sourced_id,
            "name": o.name,
            "type": o.type,
            "identifier": o.identifier,
            "extensions": o.extensions or None,
        }
        for o in roster.orgs
    ]
    org_id = _sync_tree(session, Org, roster.orgs, org_rows, report)
    stage("terms")

    term_rows = [
        {
            "sourced_id": s.sourced_id, "title": s.title, "type": s.type,
            "start_date": s.start_date, "end_date": s.end_date, "school_year": s.school_year,
            "extensions": s.extensions or None,
        }
        for s in roster.sessions
    ]  # fmt: skip
    term_id = _sync_tree(session, AcademicSession, roster.sessions, term_rows, report)
    stage("courses")

    course_rows = [
        {"sourced_id": c.sourced_id, "title": c.title, "course_code": c.course_code,
         "org_id": org_id[c.org], "extensions": c.extensions or None}
        for c in roster.courses
    ]  # fmt: skip
    _sync(session, Course, ("sourced_id",), course_rows, report)
    course_id = _ids(session, Course)
    stage("classes")
    section_rows = [
        {"sourced_id": c.sourced_id, "title": c.title, "class_code": c.class_code,
         "course_id": course_id[c.course], "school_id": org_id[c.school],
         "term_id": term_id[c.term], "extensions": c.extensions or None}
        for c in roster.classes
    ]  # fmt: skip
    _sync(session, Section, ("sourced_id",), section_rows, report)
    section_id = _ids(session, Section)
    stage("people")

    user_rows = [
        {"sourced_id": u.sourced_id, "username": u.username, "given_name": u.given_name,
         "family_name": u.family_name, "email": u.email, "role": user_role[u.sourced_id],
         "org_id": org_id[u.org], "grade": u.grade, "enabled": u.enabled,
         "identifier": u.identifier, "extensions": u.extensions or None}
        for u in roster.users
    ]  # fmt: skip
    _sync(session, User, ("sourced_id",), user_rows, report)
    user_id = _ids(session, User)
    _sync_identifiers(session, roster, user_id, report)
    gone = [user_id[s] for s in roster.removed.get("users", []) if s in user_id]
    for chunk in _chunks(gone, 500):
        result = session.execute(
            update(User).where(User.id.in_(chunk), User.enabled).values(enabled=False)
        )
        report.updated["users"] += result.rowcount  # type: ignore[attr-defined]
    stage("enrollments")

    enrollment_rows = [
        {"sourced_id": e.sourced_id, "section_id": section_id[e.section],
         "user_id": user_id[e.user], "role": e.role, "primary": e.primary,
         "begin_date": e.begin_date, "end_date": e.end_date,
         "extensions": e.extensions or None}
        for e in roster.enrollments
    ]  # fmt: skip
    listed = {e.sourced_id for e in roster.enrollments}
    bulk = "enrollments" not in roster.delta
    in_bundle = {section_id[c.sourced_id] for c in roster.classes} if bulk else set()
    removed = set(roster.removed.get("enrollments", []))
    disabled = set(session.scalars(select(User.id).where(User.enabled.is_(False))))
    stale: list[str] = []
    kept: list[str] = []
    for sid, section, user in session.execute(
        select(Enrollment.sourced_id, Enrollment.section_id, Enrollment.user_id)
    ):
        if sid not in listed and (section in in_bundle or sid in removed):
            (kept if user in disabled else stale).append(sid)
    for sourced_ids in _chunks(stale, 500):
        session.execute(delete(Enrollment).where(Enrollment.sourced_id.in_(sourced_ids)))
    report.deleted["enrollments"] += len(stale)
    _sync(session, Enrollment, ("sourced_id",), enrollment_rows, report)
    report.updated["enrollments"] += _end_enrollments(session, users=gone, sourced_ids=kept)

    stage("guardians")
    _sync_guardians(session, roster, user_id, links, report)
    stage("demographics")
    _sync_demographics(session, roster, user_id, report)
    progress("done", len(STAGES), len(STAGES))
    return report


def _end_enrollments(session: Session, *, users: list[int], sourced_ids: list[str]) -> int:
    """End yesterday (so no longer current today) the enrollments of ``users`` and those named
    by ``sourced_ids`` that have not ended yet; the number ended. Their dates are what the
    retention policy counts from (:func:`learnway.store._erase.students_past_retention`)."""
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    still_open = or_(Enrollment.end_date.is_(None), Enrollment.end_date > yesterday)
    chosen = [Enrollment.user_id.in_(chunk) for chunk in _chunks(users, 500)]
    chosen += [Enrollment.sourced_id.in_(chunk) for chunk in _chunks(sourced_ids, 500)]
    ended = 0
    for where in chosen:
        result = session.execute(
            update(Enrollment)
            .where(where, still_open)
            .values(end_date=yesterday)
            .execution_options(synchronize_session=False)
        )
        ended += result.rowcount  # type: ignore[attr-defined]
    return ended


def _sync_tree(
    session: Session,
    model: type[Base],
    records: Sequence[OrgRecord | SessionRecord],
    rows: list[dict[str, Any]],
    report: ImportReport,
) -> dict[str, int]:
    """Rows matched on sourcedId, then each one's parent (which may come later in the file)."""
    _sync(session, model, ("sourced_id",), rows, report)
    ids = _ids(session, model)
    parents = [{"sourced_id": r.sourced_id, "parent_id": ids.get(r.parent or "")} for r in records]
    _sync(session, model, ("sourced_id",), parents, report, count=False)
    return ids


def _ids(session: Session, model: type[Base], column: str = "id") -> dict[str, Any]:
    """``column`` (the id unless named) of every stored row, by sourcedId."""
    rows = session.execute(select(model.sourced_id, getattr(model, column))).all()  # type: ignore[attr-defined]
    return {sourced_id: value for sourced_id, value in rows}


def _sync_guardians(
    session: Session,
    roster: Roster,
    user_id: dict[str, int],
    links: dict[tuple[str, str], str],
    report: ImportReport,
) -> None:
    """The guardian links of the bundle's students become exactly the bundle's."""
    bulk = "users" not in roster.delta
    students = {user_id[u.sourced_id] for u in roster.users if bulk and u.role == "student"}
    wanted = {(user_id[g], user_id[s]): relation for (g, s), relation in links.items()}
    existing = {
        (g, s): relation
        for g, s, relation in session.execute(
            select(Guardianship.guardian_id, Guardianship.student_id, Guardianship.relation)
        ).all()
        if s in students or (g, s) in wanted
    }
    new = [k for k in wanted if k not in existing]
    changed = [k for k in wanted if k in existing and existing[k] != wanted[k]]
    stale = [k for k in existing if k not in wanted]
    pair = tuple_(Guardianship.guardian_id, Guardianship.student_id)
    for chunk in _chunks(stale + changed, 500):
        session.execute(delete(Guardianship).where(pair.in_(chunk)))
    if new or changed:
        rows = [{"guardian_id": g, "student_id": s, "relation": wanted[(g, s)]}
                for g, s in new + changed]  # fmt: skip
        _insert(session, Guardianship, rows)
    report.inserted["guardianships"] += len(new)
    report.updated["guardianships"] += len(changed)
    report.deleted["guardianships"] += len(stale)
    report.unchanged["guardianships"] += len(wanted) - len(new) - len(changed)


def _sync_identifiers(
    session: Session, roster: Roster, user_id: dict[str, int], report: ImportReport
) -> None:
    """The ``userIds`` of the bundle's people become exactly the bundle's."""
    wanted = {
        (user_id[u.sourced_id], kind, value) for u in roster.users for kind, value in u.user_ids
    }
    if not wanted and session.scalar(select(UserIdentifier.user_id).limit(1)) is None:
        return  # none in the bundle, none stored
    people = [user_id[u.sourced_id] for u in roster.users]
    columns = (UserIdentifier.user_id, UserIdentifier.type, UserIdentifier.identifier)
    existing: set[tuple[int, str, str]] = set()
    for group in _chunks(people, 500):
        found = session.execute(select(*columns).where(UserIdentifier.user_id.in_(group)))
        existing.update((u, kind, value) for u, kind, value in found)
    stale = sorted(existing - wanted)
    new = sorted(wanted - existing)
    for triples in _chunks(stale, 300):
        session.execute(delete(UserIdentifier).where(tuple_(*columns).in_(triples)))
    if new:
        _insert(session, UserIdentifier, [
            {"user_id": u, "type": kind, "identifier": value} for u, kind, value in new
        ])  # fmt: skip
    report.inserted["user_identifiers"] += len(new)
    report.deleted["user_identifiers"] += len(stale)
    report.unchanged["user_identifiers"] += len(wanted) - len(new)


def find_users(session: Session, text: str) -> list[User]:
    """The people whose sourcedId, username, ``identifier`` or one of whose ``userIds`` is
    exactly ``text``."""
    others = select(UserIdentifier.user_id).where(UserIdentifier.identifier == text)
    query = select(User).where(
        or_(
            User.sourced_id == text,
            User.username == text,
            User.identifier == text,
            User.id.in_(others),
        )
    )
    return list(session.scalars(query.order_by(User.sourced_id)))


def _sync_demographics(
    session: Session, roster: Roster, user_id: dict[str, int], report: ImportReport
) -> None:
    wanted = {
        user_id[d.user]: {
            "birth_date": d.birth_date,
            "sex": d.sex,
            **{_FLAG_COLUMNS[name]: value for name, value in d.flags.items()},
            "country_of_birth_code": d.country_of_birth_code,
            "state_of_birth_abbreviation": d.state_of_birth_abbreviation,
            "city_of_birth": d.city_of_birth,
            "public_school_residence_status": d.public_school_residence_status,
            "extensions": d.extensions or None,
        }
        for d in roster.demographics
    }
    if not wanted:
        return
    table = Demographics.__table__
    columns = [table.c[name] for name in next(iter(wanted.values()))]
    query = select(table.c.user_id, *columns)
    existing = {
        row["user_id"]: {c.name: row[c.name] for c in columns}
        for row in _select_in(session, query, [table.c.user_id], [(u,) for u in wanted])
    }
    new = [{"user_id": u, **values} for u, values in wanted.items() if u not in existing]
    changed = [u for u, values in wanted.items() if u in existing and existing[u] != values]
    if new:
        _insert(session, Demographics, new)
    if changed:  # an UPDATE by primary key for each row, in one call
        session.execute(update(Demographics), [{"user_id": u, **wanted[u]} for u in changed])
    report.inserted["demographics"] += len(new)
    report.updated["demographics"] += len(changed)
    report.unchanged["demographics"] += len(wanted) - len(new) - len(changed)
