"""OneRoster CSV bundles: the real test bundles of a public project, and bundles written here
for what those do not hold (guardians, administrators, a class that students leave)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from dbdump import dump
from learnway import InputError
from learnway.interop import read_oneroster
from learnway.interop._oneroster import COLUMNS
from learnway.store import make_engine, save_roster, transaction, upgrade
from learnway.store._load import ANALYZE_AFTER
from learnway.store._schema import (
    AcademicSession,
    Course,
    Demographics,
    Enrollment,
    Guardianship,
    Org,
    Section,
    User,
)


@pytest.fixture
def bundles(shared: Path) -> Path:
    return shared / "interop" / "oneroster" / "catalyst-moodle-enrol_oneroster"


def test_the_clean_bundle_imports_and_importing_it_again_changes_nothing(
    engine: Engine, bundles: Path
) -> None:
    roster = read_oneroster(bundles / "oneroster_test_data.zip")
    assert roster.version == "1.2" and roster.delta >= {"users", "enrollments"}
    with transaction(engine) as session:
        report = save_roster(session, roster)
    assert report.inserted["users"] == 1 and report.inserted["enrollments"] == 1
    with transaction(engine) as session:
        user = session.scalars(select(User)).one()
        section = session.scalars(select(Section)).one()
        enrollment = session.scalars(select(Enrollment)).one()
        course = session.get(Course, section.course_id)
        school = session.get(Org, section.school_id)
        term = session.get(AcademicSession, section.term_id)
        born = session.scalars(select(Demographics.birth_date)).one()
        assert (user.username, user.given_name, user.role) == ("brucewayne", "Bruce", "student")
        assert user.password_hash is None  # passwords in the bundle are never read
        assert course is not None and course.title == "Crime Fighting 101"
        assert school is not None and (school.name, school.type) == ("Gotham High School", "school")
        assert term is not None and term.start_date == dt.date(2023, 9, 4)
        assert (enrollment.user_id, enrollment.section_id) == (user.id, section.id)
        assert born == dt.date(2010, 4, 17)
    before = dump(engine)
    with transaction(engine) as session:
        assert save_roster(session, roster).changed == 0
    assert dump(engine) == before


@pytest.mark.parametrize(
    ("bundle", "expected"),
    [
        (
            "Test_minimal_data_set.zip",
            [
                "class cls-222-123456: org org-sch-222-456 was left out (a department",
                "enrollment enr-s-222-12345-987654: user usr-222-987654 is a teacher, "
                "enrolled as student",
            ],
        ),
        (
            "Test_full_data_set.zip",
            ["academicSessions.csv: line 4 (as-grp-222-2345): status 'inactive'"],
        ),
        (
            "v1p2_full_dataset.zip",
            [
                "users.csv: header: column(s) not in OneRoster: 'prefferedGivenName'",
                "roles.csv: header: missing column(s): dateLastModified",
            ],
        ),
    ],
)
def test_defective_bundles_are_refused_strictly_with_every_problem_and_nothing_written(
    engine: Engine, bundles: Path, bundle: str, expected: list[str]
) -> None:
    before = dump(engine)
    with pytest.raises(InputError) as refused:
        roster = read_oneroster(bundles / bundle, strict=True)
        with transaction(engine) as session:
            save_roster(session, roster)
    found = [str(problem) for problem in refused.value.problems]
    for text in expected:
        assert any(text in problem for problem in found), (text, found)
    assert dump(engine) == before


# -- bundles written here -------------------------------------------------------------------


def _write(folder: Path, version: str, tables: dict[str, list[dict[str, str]]]) -> Path:
    """A bundle folder: every table in ``tables`` as a bulk file, the rest absent."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = [("manifest.version", "1.0"), ("oneroster.version", version)]
    for name in COLUMNS[version]:
        manifest.append((f"file.{name}", "bulk" if name in tables else "absent"))
    with (folder / "manifest.csv").open("w", newline="") as out:
        csv.writer(out).writerows([("propertyName", "value"), *manifest])
    for name, rows in tables.items():
        columns = COLUMNS[version][name]
        with (folder / f"{name}.csv").open("w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({c: row.get(c, "") for c in columns})
    return folder


def _user(sid: str, role: str, org: str = "sch", agents: str = "", **extra: str) -> dict[str, str]:
    return {
        "sourcedId": sid, "status": "active", "enabledUser": "true", "orgSourcedIds": org,
        "role": role, "username": sid, "givenName": sid.title(), "familyName": "Lee",
        "agentSourcedIds": agents, "grades": "07", "password": "secret", **extra,
    }  # fmt: skip


def _school(
    students: list[str], *, removed: tuple[str, ...] = ()
) -> dict[str, list[dict[str, str]]]:
    """A district with one school, a class of ``students``, their teacher and guardians."""
    users = [
        _user("dist-admin", "administrator", org="dist"),
        _user("principal", "administrator"),
        _user("teacher", "teacher"),
        _user("proctor", "proctor"),
        *[_user(s, "student", agents=f"parent-{s}") for s in students],
        *[_user(f"parent-{s}", "parent", agents=s) for s in students],
    ]
    for user in users:
        if user["sourcedId"] in removed:
            user["status"] = "tobedeleted"
    enrolled = ["teacher", *students]
    return {
        "orgs": [
            {"sourcedId": "dist", "name": "North District", "type": "district"},
            {"sourcedId": "sch", "name": "North Middle", "type": "school",
             "parentSourcedId": "dist"},
        ],
        "academicSessions": [
            {"sourcedId": "y", "title": "2026-27", "type": "schoolYear", "startDate": "2026-08-17",
             "endDate": "2027-06-11", "schoolYear": "2027"},
            {"sourcedId": "t1", "title": "Fall", "type": "term", "startDate": "2026-08-17",
             "endDate": "2026-12-18", "parentSourcedId": "y", "schoolYear": "2027"},
        ],
        "courses": [{"sourcedId": "alg", "title": "Algebra 1", "orgSourcedId": "sch"}],
        "classes": [
            {"sourcedId": "alg-1", "title": "Algebra 1, period 1", "courseSourcedId": "alg",
             "classType": "scheduled", "schoolSourcedId": "sch", "termSourcedIds": "t1"},
        ],
        "users": users,
        "enrollments": [
            {"sourcedId": f"e-{u}", "classSourcedId": "alg-1", "schoolSourcedId": "sch",
             "userSourcedId": u, "role": "teacher" if u == "teacher" else "student",
             "primary": "true" if u == "teacher" else "false", "beginDate": "2026-08-17"}
            for u in enrolled
        ],
        "demographics": [
            {"sourcedId": s, "birthDate": "2013-05-02", "sex": "female", "asian": "true",
             "hispanicOrLatinoEthnicity": "false"}
            for s in students
        ],
    }  # fmt: skip


def _state(engine: Engine) -> dict[str, object]:
    with transaction(engine) as session:
        users = {u.sourced_id: (u.role, u.enabled) for u in session.scalars(select(User))}
        today = dt.datetime.now(dt.UTC).date()
        enrollments = session.execute(
            select(User.sourced_id, Enrollment.end_date).join(
                Enrollment, Enrollment.user_id == User.id
            )
        ).all()
        enrolled = {sid for sid, end in enrollments if end is None or end >= today}
        ended = {sid: end for sid, end in enrollments if end is not None and end < today}
        guardian = {g.guardian_id: g for g in session.scalars(select(Guardianship))}
        name = {u.id: u.sourced_id for u in session.scalars(select(User))}
        links = {(name[g], name[link.student_id], link.relation) for g, link in guardian.items()}
        parent = session.scalar(
            select(Org.sourced_id).where(
                Org.id == select(Org.parent_id).where(Org.sourced_id == "sch").scalar_subquery()
            )
        )
        asian = set(
            session.scalars(
                select(User.sourced_id)
                .join(Demographics, Demographics.user_id == User.id)
                .where(Demographics.asian)
            )
        )
    return {"users": users, "enrolled": enrolled, "ended": ended, "links": links,
            "parent": parent, "asian": asian}  # fmt: skip


def test_roles_guardians_and_demographics_of_a_bulk_bundle(engine: Engine, tmp_path: Path) -> None:
    roster = read_oneroster(_write(tmp_path / "b", "1.1", _school(["ana", "ben"])))
    assert ("user", "proctor", "role proctor has no access in Learnway") in roster.skipped
    with transaction(engine) as session:
        save_roster(session, roster)
    state = _state(engine)
    assert state["users"] == {
        "dist-admin": ("district_admin", True),
        "principal": ("school_admin", True),
        "teacher": ("teacher", True),
        "ana": ("student", True),
        "ben": ("student", True),
        "parent-ana": ("guardian", True),
        "parent-ben": ("guardian", True),
    }
    assert state["enrolled"] == {"teacher", "ana", "ben"}
    assert state["links"] == {("parent-ana", "ana", "parent"), ("parent-ben", "ben", "parent")}
    assert state["parent"] == "dist" and state["asian"] == {"ana", "ben"}


@pytest.mark.parametrize("scan_at", [20_000, 1], ids=["index lookups", "table scans"])
def test_a_later_bulk_bundle_disables_who_was_deleted_and_ends_their_enrollments(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scan_at: int
) -> None:
    monkeypatch.setattr("learnway.store._load.SCAN_AT", scan_at)  # both ways of finding rows
    with transaction(engine) as session:
        save_roster(session, read_oneroster(_write(tmp_path / "1", "1.1", _school(["ana", "ben"]))))
    later = _school(["ana", "cy"], removed=("parent-ana",))
    later["users"].append(_user("ben", "student", status="tobedeleted"))
    later["demographics"][0]["asian"] = "false"  # ana's
    with transaction(engine) as session:
        report = save_roster(session, read_oneroster(_write(tmp_path / "2", "1.1", later)))
    state = _state(engine)
    assert state["enrolled"] == {"teacher", "ana", "cy"}  # ben left the class
    assert state["users"]["ben"] == ("student", False)  # ben is disabled at once
    # and his enrollment ended yesterday: kept, for the retention policy to count from
    assert state["ended"] == {"ben": dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)}
    assert state["users"]["parent-ana"] == ("guardian", False)
    assert state["links"] == {("parent-ben", "ben", "parent"), ("parent-cy", "cy", "parent")}
    assert report.deleted["enrollments"] == 0 and report.inserted["enrollments"] == 1
    assert report.updated["enrollments"] == 1
    assert state["asian"] == {"ben", "cy"}
    assert report.updated["demographics"] == 1 and report.inserted["demographics"] == 1


@pytest.mark.postgres
def test_a_big_import_leaves_postgresql_fresh_statistics(postgres: Any, tmp_path: Path) -> None:
    """Without them, PostgreSQL plans the next import's lookups as on an empty table: a
    sequential scan per lookup (a district's re-import took minutes instead of seconds)."""
    engine = make_engine(postgres.create())
    try:
        upgrade(engine)
        students = [f"s{n}" for n in range(ANALYZE_AFTER)]
        with transaction(engine) as session:
            save_roster(session, read_oneroster(_write(tmp_path / "b", "1.1", _school(students))))
        with engine.connect() as connection:
            estimated = dict(
                connection.exec_driver_sql(
                    "SELECT relname, reltuples FROM pg_class WHERE relname IN "
                    "('users', 'enrollments', 'guardianships', 'demographics')"
                ).all()
            )
    finally:
        engine.dispose()
        postgres.release(engine)
    assert estimated["demographics"] == estimated["guardianships"] == ANALYZE_AFTER
    assert estimated["users"] > 2 * ANALYZE_AFTER and estimated["enrollments"] > ANALYZE_AFTER


def test_format_problems_name_file_line_and_record(tmp_path: Path) -> None:
    tables = _school(["ana", "ana"])  # the same student twice
    tables["academicSessions"][1]["startDate"] = "17/08/2026"
    tables["users"][0]["role"] = "wizard"
    tables["enrollments"][0]["primary"] = "yes"
    tables["demographics"][0]["countryOfBirthCode"] = "Republic of Korea"
    folder = _write(tmp_path / "b", "1.1", tables)
    courses = folder / "courses.csv"
    courses.write_text(courses.read_text().replace("Algebra 1", "Algebra\x001"))
    with pytest.raises(InputError) as refused:
        read_oneroster(folder)
    found = "\n".join(str(p) for p in refused.value.problems)
    assert "courses.csv: line 2: holds a NUL character" in found
    assert "demographics.csv: line 2 (ana): too long: countryOfBirthCode (at most 8" in found
    assert "academicSessions.csv: line 3 (t1): startDate '17/08/2026' is not a date" in found
    assert "users.csv: line 2 (dist-admin): role 'wizard' is not a OneRoster role" in found
    assert "users.csv: line 7 (ana): sourcedId ana repeats line 6 (ana)" in found
    assert "enrollments.csv: line 2 (e-teacher): primary 'yes' is not true or false" in found


def test_references_must_resolve_in_the_bundle_or_the_database(
    engine: Engine, tmp_path: Path
) -> None:
    tables = _school(["ana"])
    tables["classes"][0]["termSourcedIds"] = "t9"
    tables["enrollments"][1]["userSourcedId"] = "nobody"
    tables["users"][2]["username"] = "ana"  # the teacher takes ana's username
    tables["users"][4]["agentSourcedIds"] = "teacher"  # ana's agent is her teacher
    before = dump(engine)
    with pytest.raises(InputError) as refused, transaction(engine) as session:
        save_roster(session, read_oneroster(_write(tmp_path / "b", "1.1", tables), strict=True))
    found = "\n".join(str(p) for p in refused.value.problems)
    assert "class alg-1: term t9 is unknown" in found
    assert "enrollment e-ana: user nobody is unknown" in found
    assert "user teacher: username ana is already taken" in found
    assert "user ana: agent teacher is a teacher" in found
    assert dump(engine) == before
    # a later bundle may refer to what an earlier one stored
    with transaction(engine) as session:
        save_roster(session, read_oneroster(_write(tmp_path / "c", "1.1", _school(["ana"]))))
    only_classes = {"classes": [{**_school([])["classes"][0], "title": "Algebra 1, period 2"}]}
    with transaction(engine) as session:
        report = save_roster(session, read_oneroster(_write(tmp_path / "d", "1.1", only_classes)))
    assert report.updated["sections"] == 1


def test_a_1_2_bundle_takes_roles_from_roles_csv(engine: Engine, tmp_path: Path) -> None:
    tables = _school(["ana"])
    roles = []
    for user in tables["users"]:
        user["primaryOrgSourcedId"] = user["orgSourcedIds"]
        roles.append(
            {"sourcedId": f"r-{user['sourcedId']}", "userSourcedId": user["sourcedId"],
             "roleType": "primary", "role": user["role"], "orgSourcedId": user["orgSourcedIds"]}
        )  # fmt: skip
    tables["users"] = [{k: v for k, v in u.items() if k not in ("role", "orgSourcedIds")}
                       for u in tables["users"]]  # fmt: skip
    roles[0]["role"] = "districtAdministrator"
    roles[1]["role"] = "principal"
    tables["roles"] = roles
    with transaction(engine) as session:
        save_roster(session, read_oneroster(_write(tmp_path / "b", "1.2", tables)))
    users = _state(engine)["users"]
    assert isinstance(users, dict)
    assert users["dist-admin"] == ("district_admin", True)
    assert users["principal"] == ("school_admin", True)
    assert users["ana"] == ("student", True) and "proctor" not in users
