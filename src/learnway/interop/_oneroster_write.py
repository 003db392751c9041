"""Write a :class:`~learnway.interop.Roster` as a OneRoster 1.2 CSV bundle (bulk files and a
manifest), the shape :func:`~learnway.interop.read_oneroster` reads back to the same records.

Each record's extension data goes back into the columns it came from (``ext_*``,
``metadata.*`` and the others), after the standard columns of its file. Learnway's roles are
written as OneRoster 1.2 roles: a school administrator as ``siteAdministrator``, a district
administrator as ``districtAdministrator``, a guardian with the relation of their first link
(``parent``, ``guardian`` or ``relative``). Passwords are never written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from learnway.interop._oneroster_records import COLUMNS, DEMOGRAPHIC_FLAGS, Roster

ROLE_NAMES = {
    "student": "student",
    "teacher": "teacher",
    "school_admin": "siteAdministrator",
    "district_admin": "districtAdministrator",
}


def oneroster_files(roster: Roster) -> dict[str, bytes]:
    """The bundle's files, by name, as UTF-8 CSV."""
    columns = COLUMNS["1.2"]
    school = {c.sourced_id: c.school for c in roster.classes}
    tables: dict[str, list[dict[str, str]]] = {
        "orgs": [
            {"sourcedId": o.sourced_id, "status": "active", "name": o.name, "type": o.type,
             "identifier": o.identifier or "", "parentSourcedId": o.parent or "", **o.extensions}
            for o in roster.orgs
        ],
        "academicSessions": [
            {"sourcedId": s.sourced_id, "status": "active", "title": s.title, "type": s.type,
             "startDate": s.start_date.isoformat(), "endDate": s.end_date.isoformat(),
             "parentSourcedId": s.parent or "", "schoolYear": str(s.school_year),
             **s.extensions}
            for s in roster.sessions
        ],
        "courses": [
            {"sourcedId": c.sourced_id, "status": "active", "title": c.title,
             "courseCode": c.course_code or "", "orgSourcedId": c.org, **c.extensions}
            for c in roster.courses
        ],
        "classes": [
            {"sourcedId": c.sourced_id, "status": "active", "title": c.title,
             "classCode": c.class_code or "", "courseSourcedId": c.course,
             "schoolSourcedId": c.school, "termSourcedIds": c.term, **c.extensions}
            for c in roster.classes
        ],
        "users": [
            {"sourcedId": u.sourced_id, "status": "active",
             "enabledUser": "true" if u.enabled else "false", "username": u.username,
             "userIds": ",".join(f"{{{kind}:{value}}}" if kind else value
                                 for kind, value in u.user_ids),
             "givenName": u.given_name, "familyName": u.family_name,
             "identifier": u.identifier or "", "email": u.email or "",
             "agentSourcedIds": ",".join(u.agents), "grades": u.grade or "",
             "primaryOrgSourcedId": u.org, **u.extensions}
            for u in roster.users
        ],
        "roles": [
            {"sourcedId": f"{u.sourced_id}-role", "status": "active",
             "userSourcedId": u.sourced_id, "roleType": "primary",
             "role": u.guardian_relation or ROLE_NAMES.get(u.role, u.role),
             "orgSourcedId": u.org}
            for u in roster.users
        ],
        "enrollments": [
            {"sourcedId": e.sourced_id, "status": "active", "classSourcedId": e.section,
             "schoolSourcedId": school.get(e.section, ""), "userSourcedId": e.user,
             "role": e.role, "primary": "true" if e.primary else "false",
             "beginDate": _date(e.begin_date), "endDate": _date(e.end_date), **e.extensions}
            for e in roster.enrollments
        ],
        "demographics": [
            {"sourcedId": d.user, "status": "active", "birthDate": _date(d.birth_date),
             "sex": d.sex or "",
             **{flag: _flag(d.flags.get(flag)) for flag in DEMOGRAPHIC_FLAGS},
             "countryOfBirthCode": d.country_of_birth_code or "",
             "stateOfBirthAbbreviation": d.state_of_birth_abbreviation or "",
             "cityOfBirth": d.city_of_birth or "",
             "publicSchoolResidenceStatus": d.public_school_residence_status or "",
             **d.extensions}
            for d in roster.demographics
        ],
    }  # fmt: skip
    manifest = [("manifest.version", "1.0"), ("oneroster.version", "1.2")]
    manifest += [(f"file.{name}", "bulk") for name in tables]
    files = {"manifest.csv": _csv(("propertyName", "value"), [dict(zip(("propertyName",
             "value"), pair, strict=True)) for pair in manifest])}  # fmt: skip
    for name, rows in tables.items():
        extra = sorted({key for row in rows for key in row} - set(columns[name]))
        files[f"{name}.csv"] = _csv((*columns[name], *extra), rows)
    return files


def _csv(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, restval="", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _date(value: Any) -> str:
    return value.isoformat() if value is not None else ""


def _flag(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")
