"""OneRoster bundles as real exports write them: vendor extension columns, missing optional
columns, 1.0-style bundles without a manifest, dates that are not ISO 8601. Each is read with a
warning and no row lost, kept through the database and written back by the export; ``strict``
refuses each as before; real errors (a dangling reference, a repeated id) are still refused
whole. The bundles are written here from the OneRoster 1.0, 1.1 and 1.2 CSV formats."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from dbdump import dump
from learnway import InputError
from learnway.interop import oneroster_files, read_oneroster
from learnway.store import find_users, roster_export, save_roster, transaction
from learnway.store._schema import Enrollment, Org, Section, User, UserIdentifier

Table = list[dict[str, str]]


def _csv(rows: Table) -> str:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, restval="", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _bundle(folder: Path, tables: dict[str, Table], manifest: dict[str, str] | None) -> Path:
    """A folder holding each table as a CSV file of exactly the columns its rows name."""
    folder.mkdir(parents=True, exist_ok=True)
    if manifest is not None:
        rows = [{"propertyName": k, "value": v} for k, v in manifest.items()]
        (folder / "manifest.csv").write_text(_csv(rows))
    for name, rows in tables.items():
        (folder / f"{name}.csv").write_text(_csv(rows))
    return folder


def _vendor() -> dict[str, Table]:
    """A 1.1 export as a vendor's tool writes it: ``ext_`` columns on every file, ``metadata.``
    columns, ``identifier`` and ``userIds``, and no column it has no value for."""
    return {
        "orgs": [
            {"sourcedId": "d1", "status": "active", "dateLastModified": "2026-08-01T10:00:00Z",
             "name": "Lake District", "type": "district", "identifier": "NCES-01",
             "parentSourcedId": "", "ext_clever_id": "58da8a43cc70ab00017a1a82",
             "metadata.state_id": "MN-0001"},
            {"sourcedId": "s1", "status": "active", "dateLastModified": "2026-08-01T10:00:00Z",
             "name": "Lake Middle", "type": "school", "identifier": "NCES-02",
             "parentSourcedId": "d1", "ext_clever_id": "58da8a43cc70ab00017a1a83",
             "metadata.state_id": ""},
        ],
        "academicSessions": [
            {"sourcedId": "y26", "status": "active", "dateLastModified": "", "title": "2026-27",
             "type": "schoolYear", "startDate": "2026-08-24", "endDate": "2027-06-04",
             "parentSourcedId": "", "schoolYear": "2027", "ext_clever_term": "y"},
            {"sourcedId": "f26", "status": "active", "dateLastModified": "", "title": "Fall",
             "type": "term", "startDate": "2026-08-24", "endDate": "2027-01-15",
             "parentSourcedId": "y26", "schoolYear": "2027", "ext_clever_term": "f"},
        ],
        "courses": [
            {"sourcedId": "c1", "status": "active", "dateLastModified": "", "title": "Math 7",
             "courseCode": "M7", "orgSourcedId": "s1", "ext_sis_course": "0301"},
        ],
        "classes": [
            {"sourcedId": "k1", "status": "active", "dateLastModified": "", "title": "Math 7 (2)",
             "courseSourcedId": "c1", "classCode": "M7-2", "classType": "scheduled",
             "schoolSourcedId": "s1", "termSourcedIds": "f26", "ext_room": "204",
             "metadata.period": "2"},
        ],
        "users": [
            {"sourcedId": "t1", "status": "active", "dateLastModified": "", "enabledUser": "true",
             "orgSourcedIds": "s1", "role": "teacher", "username": "mgarcia",
             "userIds": "{LDAP:mg01},{SIS:T-77}", "givenName": "Maria", "familyName": "Garcia",
             "identifier": "T-77", "email": "mgarcia@lake.example",
             "ext_clever_id": "5b1e7c0f", "metadata.staff_type": "certified"},
            {"sourcedId": "u1", "status": "active", "dateLastModified": "", "enabledUser": "true",
             "orgSourcedIds": "s1", "role": "student", "username": "ali",
             "userIds": "{SIS:100234}", "givenName": "Ali", "familyName": "Khan",
             "identifier": "100234", "agentSourcedIds": "g1", "grades": "07",
             "ext_clever_id": "5b1e7c10", "ext_ell": "Y", "metadata.lunch": "free"},
            {"sourcedId": "u2", "status": "active", "dateLastModified": "", "enabledUser": "true",
             "orgSourcedIds": "s1", "role": "student", "username": "bea",
             "userIds": "", "givenName": "Bea", "familyName": "Olsen",
             "identifier": "100235", "agentSourcedIds": "", "grades": "07",
             "ext_clever_id": "5b1e7c11", "ext_ell": "", "metadata.lunch": ""},
            {"sourcedId": "g1", "status": "active", "dateLastModified": "", "enabledUser": "true",
             "orgSourcedIds": "s1", "role": "parent", "username": "skhan",
             "userIds": "", "givenName": "Sara", "familyName": "Khan", "identifier": "",
             "agentSourcedIds": "u1", "ext_clever_id": "5b1e7c12"},
        ],
        "enrollments": [
            {"sourcedId": f"e-{u}", "status": "active", "dateLastModified": "",
             "classSourcedId": "k1", "schoolSourcedId": "s1", "userSourcedId": u,
             "role": "teacher" if u == "t1" else "student",
             "primary": "true" if u == "t1" else "false", "beginDate": "2026-08-24",
             "ext_seat": str(n)}
            for n, u in enumerate(["t1", "u1", "u2"])
        ],
        "demographics": [
            {"sourcedId": "u1", "status": "active", "dateLastModified": "",
             "birthDate": "2014-02-03", "sex": "male", "asian": "true",
             "ext_home_language": "ur"},
        ],
    }  # fmt: skip


VENDOR_MANIFEST = {
    "manifest.version": "1.0",
    "oneroster.version": "1.1",
    **{f"file.{name}": "bulk" for name in _vendor()},
}


def _count(engine: Engine, model: type) -> int:
    with transaction(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_vendor_bundle_with_ext_columns_imports_whole_with_its_extension_data(
    engine: Engine, tmp_path: Path
) -> None:
    folder = _bundle(tmp_path / "vendor", _vendor(), VENDOR_MANIFEST)
    roster = read_oneroster(folder)
    warnings = "\n".join(str(w) for w in roster.warnings)
    assert "users.csv: header: optional column(s) missing: middleName, sms, phone" in warnings
    assert "users.csv: header: vendor extension column(s) ext_clever_id, ext_ell" in warnings
    with transaction(engine) as session:
        report = save_roster(session, roster)
    assert report.inserted["users"] == 4 and report.inserted["enrollments"] == 3  # no row lost
    assert report.inserted["user_identifiers"] == 3
    with transaction(engine) as session:
        ali = session.scalars(select(User).where(User.sourced_id == "u1")).one()
        assert ali.identifier == "100234"
        assert ali.extensions == {
            "ext_clever_id": "5b1e7c10", "ext_ell": "Y", "metadata.lunch": "free",
        }  # fmt: skip
        bea = session.scalars(select(User).where(User.sourced_id == "u2")).one()
        assert bea.extensions == {"ext_clever_id": "5b1e7c11"}  # empty values are not kept
        school = session.scalars(select(Org).where(Org.sourced_id == "s1")).one()
        assert school.extensions == {"ext_clever_id": "58da8a43cc70ab00017a1a83"}
        section = session.scalars(select(Section)).one()
        assert section.extensions == {"ext_room": "204", "metadata.period": "2"}
        seats = {(e.extensions or {})["ext_seat"] for e in session.scalars(select(Enrollment))}
        assert seats == {"0", "1", "2"}
        # identifier and userIds are searchable
        assert [u.sourced_id for u in find_users(session, "100234")] == ["u1"]
        assert [u.sourced_id for u in find_users(session, "mg01")] == ["t1"]
        assert [u.sourced_id for u in find_users(session, "T-77")] == ["t1"]
        assert find_users(session, "nobody") == []
        stored = set(session.execute(select(UserIdentifier.type, UserIdentifier.identifier)))
        assert stored == {("LDAP", "mg01"), ("SIS", "T-77"), ("SIS", "100234")}
    before = dump(engine)
    with transaction(engine) as session:
        assert save_roster(session, read_oneroster(folder)).changed == 0
    assert dump(engine) == before


def test_strict_mode_refuses_what_is_otherwise_tolerated(tmp_path: Path) -> None:
    folder = _bundle(tmp_path / "vendor", _vendor(), VENDOR_MANIFEST)
    with pytest.raises(InputError) as refused:
        read_oneroster(folder, strict=True)
    found = "\n".join(str(p) for p in refused.value.problems)
    assert "users.csv: header: missing column(s): middleName" in found
    assert "orgs.csv: header: column(s) not in OneRoster: 'ext_clever_id'" in found


def test_extension_data_identifiers_and_guardians_round_trip_through_the_export(
    engine: Engine, tmp_path: Path
) -> None:
    with transaction(engine) as session:
        save_roster(session, read_oneroster(_bundle(tmp_path / "v", _vendor(), VENDOR_MANIFEST)))
        exported = roster_export(session)
    out = tmp_path / "out"
    out.mkdir()
    for name, data in oneroster_files(exported).items():
        (out / name).write_bytes(data)
    header = (out / "users.csv").read_text().splitlines()[0]
    assert header.endswith(",ext_clever_id,ext_ell,metadata.lunch,metadata.staff_type")
    again = read_oneroster(out)  # the export is OneRoster 1.2 with its extension columns ...
    assert all("vendor extension column(s)" in str(w) for w in again.warnings)
    for kind in ("orgs", "sessions", "courses", "classes", "enrollments", "demographics"):
        assert getattr(again, kind) == getattr(exported, kind), kind
    by_id = {u.sourced_id: u for u in exported.users}
    for user in again.users:  # ... and reads back to the same records
        assert user == by_id[user.sourced_id]
    assert by_id["u1"].extensions["metadata.lunch"] == "free"
    assert by_id["u1"].user_ids == (("SIS", "100234"),) and by_id["g1"].agents == ("u1",)
    before = dump(engine)
    with transaction(engine) as session:  # importing the export changes nothing
        assert save_roster(session, again).changed == 0
    assert dump(engine) == before


def _one_zero() -> dict[str, Table]:
    """A 1.0-style bundle: no manifest, 1.0 column names (``userId``, ``agents``, ``grade``,
    ``schoolYearId``), no ``enabledUser`` or ``schoolYear``, US dates, ``inactive``."""
    return {
        "orgs": [{"sourcedId": "s", "status": "active", "dateLastModified": "8/27/2018",
                  "name": "Elm School", "type": "school", "identifier": "", "parentSourcedId": ""}],
        "academicSessions": [
            {"sourcedId": "t", "status": "active", "dateLastModified": "8/27/2018",
             "title": "Fall 2018", "type": "term", "startDate": "8/27/2018",
             "endDate": "12/21/2018", "parentSourcedId": ""},
        ],
        "courses": [{"sourcedId": "c", "status": "active", "dateLastModified": "",
                     "schoolYearId": "t", "title": "Science 5", "courseCode": "SCI5",
                     "grade": "05", "orgSourcedId": "s", "subjects": "science"}],
        "classes": [{"sourcedId": "k", "status": "active", "dateLastModified": "",
                     "title": "Science 5A", "grade": "05", "courseSourcedId": "c",
                     "classCode": "5A", "classType": "homeroom", "location": "",
                     "schoolSourcedId": "s", "termSourcedIds": "t", "subjects": "science"}],
        "users": [
            {"sourcedId": sid, "status": status, "dateLastModified": "8/27/2018",
             "orgSourcedIds": "s", "role": role, "username": sid, "userId": f"sis-{sid}",
             "givenName": sid.title(), "familyName": "Park", "identifier": "", "email": "",
             "sms": "", "phone": "", "agents": agents, "grade": grade}
            for sid, status, role, agents, grade in [
                ("teach", "active", "teacher", "", ""),
                ("kim", "active", "student", "mom", "05"),
                ("lee", "inactive", "student", "", "05"),
                ("mom", "active", "guardian", "kim", ""),
            ]
        ],
        "enrollments": [
            {"sourcedId": f"e-{u}", "status": status, "dateLastModified": "",
             "classSourcedId": "k", "schoolSourcedId": "s", "userSourcedId": u, "role": role,
             "primary": "", "beginDate": "8/27/2018", "endDate": ""}
            for u, status, role in [
                ("teach", "active", "teacher"), ("kim", "active", "student"),
                ("lee", "inactive", "student"),
            ]
        ],
    }  # fmt: skip


def test_a_1_0_bundle_without_manifest_needs_its_date_format_then_imports(
    engine: Engine, tmp_path: Path
) -> None:
    folder = _bundle(tmp_path / "old", _one_zero(), manifest=None)
    with pytest.raises(InputError) as refused:
        read_oneroster(folder)
    found = "\n".join(str(p) for p in refused.value.problems)
    assert "enrollments.csv: line 2 (e-teach): beginDate '8/27/2018' is not a date" in found
    assert "orgs.csv: line 2 (s): dateLastModified '8/27/2018' is not an ISO 8601 date" in found
    assert "say how with a date format (for example --date-format %m/%d/%Y)" in found
    with pytest.raises(InputError, match=r"no manifest\.csv"):
        read_oneroster(folder, strict=True, date_format="%m/%d/%Y")

    roster = read_oneroster(folder, date_format="%m/%d/%Y")
    warnings = "\n".join(str(w) for w in roster.warnings)
    for text in (
        "manifest.csv: missing (a OneRoster 1.0-style bundle): read as OneRoster 1.1",
        "users.csv: header: column userId (OneRoster 1.0) read as userIds",
        "users.csv: header: column agents (OneRoster 1.0) read as agentSourcedIds",
        "users.csv: header: column grade (OneRoster 1.0) read as grades",
        "courses.csv: header: column schoolYearId (OneRoster 1.0) read as schoolYearSourcedId",
        "academicSessions.csv: line 2 (t): schoolYear empty: read as 2018",
        "users.csv: 1 record(s) with the OneRoster 1.0 status 'inactive': ended",
    ):
        assert text in warnings, (text, warnings)
    with transaction(engine) as session:
        report = save_roster(session, roster)
    assert report.inserted["users"] == 3 and report.inserted["enrollments"] == 2
    assert report.inserted["guardianships"] == 1 and report.inserted["user_identifiers"] == 3
    assert roster.removed == {"users": ["lee"], "enrollments": ["e-lee"]}
    with transaction(engine) as session:
        kim = find_users(session, "sis-kim")
        assert [(u.sourced_id, u.grade) for u in kim] == [("kim", "05")]
        term = session.scalar(select(Section.term_id))
        assert term is not None


def test_real_errors_are_still_refused_whole(engine: Engine, tmp_path: Path) -> None:
    tables = _vendor()
    tables["users"].append({**tables["users"][1], "username": "ali2"})  # u1 again
    tables["enrollments"][2]["classSourcedId"] = "k9"  # a class that is nowhere
    before = dump(engine)
    with pytest.raises(InputError) as refused:
        read_oneroster(_bundle(tmp_path / "a", tables, VENDOR_MANIFEST))
    assert "users.csv: line 6 (u1): sourcedId u1 repeats line 3 (u1)" in str(refused.value)
    tables["users"].pop()
    with pytest.raises(InputError) as refused, transaction(engine) as session:
        save_roster(session, read_oneroster(_bundle(tmp_path / "b", tables, VENDOR_MANIFEST)))
    assert "enrollment e-u2: class k9 is unknown" in str(refused.value)
    assert dump(engine) == before


@pytest.fixture
def bundles(shared: Path) -> Path:
    return shared / "interop" / "oneroster" / "catalyst-moodle-enrol_oneroster"


def test_the_shared_1_2_bundle_with_an_ext_column_and_metadata_imports(
    engine: Engine, bundles: Path, tmp_path: Path
) -> None:
    """The issue's case: one added ``ext_clever_id`` column refused the whole import."""
    source = bundles / "oneroster_test_data.zip"
    changed = tmp_path / "with-ext.zip"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(changed, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename.endswith("users.csv"):
                lines = data.decode("utf-8-sig").splitlines()
                lines[0] += ",ext_clever_id,metadata.house"
                lines[1:] = [line + ",5b1e7c0f,Ravenclaw" for line in lines[1:] if line]
                data = "\r\n".join(lines).encode()
            new.writestr(info.filename, data)
    roster = read_oneroster(changed)
    assert [u.extensions for u in roster.users] == [
        {"ext_clever_id": "5b1e7c0f", "metadata.house": "Ravenclaw"}
    ]
    with transaction(engine) as session:
        save_roster(session, roster)
        user = session.scalars(select(User)).one()
        assert user.extensions == {"ext_clever_id": "5b1e7c0f", "metadata.house": "Ravenclaw"}
        assert user.identifier is not None and find_users(session, user.identifier) == [user]


def test_the_shared_1_2_bundle_without_its_manifest_reads_the_same(
    bundles: Path, tmp_path: Path
) -> None:
    source = bundles / "oneroster_test_data.zip"
    bare = tmp_path / "no-manifest.zip"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(bare, "w") as new:
        for info in old.infolist():
            if not info.filename.endswith("manifest.csv"):
                new.writestr(info.filename, old.read(info))
    with_manifest = read_oneroster(source)
    without = read_oneroster(bare)
    assert without.version == "1.2" and without.delta == set()  # every file present is bulk
    assert [str(w) for w in without.warnings][:1] == [
        "no-manifest.zip/manifest.csv: missing (a OneRoster 1.0-style bundle): read as OneRoster "
        "1.2, every file present as a bulk file"
    ]
    for kind in ("orgs", "sessions", "courses", "classes", "users", "enrollments", "demographics"):
        assert getattr(without, kind) == getattr(with_manifest, kind), kind


# The three defective shared bundles, read as they come. What each tolerated (with a warning)
# and which rows it left out (each with its reason) is asserted exactly: their only org is a
# department (read as the school their classes name), parents resolve nowhere (read without),
# classes name courses although the manifest says courses.csv is absent (each course made from
# its class), a class marked tobedeleted (its enrollments go with it), a teacher enrolled as a
# student (that enrollment left out: a person has one role in Learnway).
def _made(course: str, title: str) -> str:
    return (
        f"course {course} is in neither bundle nor school, and the bundle has no courses.csv: "
        f"the course is made from the class, titled {title!r}"
    )


_MADE = _made("crs-222-2023-456-12345", "Introduction to Physics")
_TEACHER = (
    "user usr-222-987654 is a teacher, enrolled as student (a person has one role in Learnway)"
)
_GONE = "its class cls-222-123478 is marked tobedeleted"
_FULL_LEFT_OUT = [
    ("enrollment", "enr-s-222-12345-987654", _TEACHER),
    ("enrollment", "enr-t-222-12345-123232", _GONE),
    ("enrollment", "enr-s-222-12345-987532", _GONE),
    ("enrollment", "enr-s-222-12345-985321", _GONE),
]
_PARENTS = [
    "org org-sch-222-456: parent org-sch-222-3456 is in neither bundle nor school: read "
    "without a parent",
    *(f"academic session {t}: parent as-syr-222-2023 is in neither bundle nor school: read "
      "without a parent" for t in ("as-trm-222-1234", "as-trm-222-1235")),
]  # fmt: skip
SHARED_BUNDLES = {
    # bundle: (date format, rows stored by table, rows left out, what the writing tolerated)
    "oneroster_test_data.zip": (  # the clean one: nothing tolerated, nothing left out
        None,
        {"orgs": 1, "academic_sessions": 1, "courses": 1, "sections": 1, "users": 1,
         "enrollments": 1, "demographics": 1, "guardianships": 0},
        [],
        [],
    ),
    "Test_minimal_data_set.zip": (
        None,
        {"orgs": 1, "academic_sessions": 5, "courses": 2, "sections": 2, "users": 6,
         "enrollments": 4, "guardianships": 0},
        [("enrollment", "enr-s-222-12345-987654", _TEACHER),
         ("enrollment", "enr-s-222-12345-987532", _TEACHER)],
        [f"class cls-222-123456: {_MADE}",
         f"class cls-222-123478: {_made('crs-222-2023-456-23456', 'History - 2')}"],
    ),
    "Test_full_data_set.zip": (
        None,
        {"orgs": 1, "academic_sessions": 4, "courses": 1, "sections": 1, "users": 6,
         "enrollments": 2, "guardianships": 1, "user_identifiers": 8},
        _FULL_LEFT_OUT,
        [*_PARENTS, f"class cls-222-123456: {_MADE}"],
    ),
    "v1p2_full_dataset.zip": (
        "%d/%m/%Y",
        {"orgs": 1, "academic_sessions": 4, "courses": 1, "sections": 1, "users": 6,
         "enrollments": 2, "guardianships": 0, "user_identifiers": 8},
        _FULL_LEFT_OUT,
        [*_PARENTS, f"class cls-222-123456: {_MADE}"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("bundle", sorted(SHARED_BUNDLES))
def test_every_shared_bundle_imports_with_a_report_of_each_row_tolerated_or_left_out(
    engine: Engine, bundles: Path, bundle: str
) -> None:
    date_format, stored, left_out, tolerated = SHARED_BUNDLES[bundle]
    roster = read_oneroster(bundles / bundle, date_format=date_format)
    department = [str(w) for w in roster.warnings if "department" in str(w)]
    if bundle == "oneroster_test_data.zip":
        assert roster.warnings == []
    else:
        assert department == [
            f"{bundle}/orgs.csv: org-sch-222-456: a department that classes or people name as "
            "their school: read as a school"
        ]
    assert not [s for s in roster.skipped if s[0] == "org"]  # the department is not left out
    # every row of users.csv and enrollments.csv is read; the removed ones are named
    rows = {
        name: sum(1 for line in _lines(bundles / bundle, f"{name}.csv")[1:] if line.strip())
        for name in ("users", "enrollments")
    }
    assert {"users": len(roster.users), "enrollments": len(roster.enrollments)} == rows
    read_warnings = len(roster.warnings)
    with transaction(engine) as session:
        report = save_roster(session, roster)
    assert {k: v for k, v in report.inserted.items() if k in stored} == stored
    assert roster.skipped == left_out
    written = [str(w).removeprefix(f"{roster.title}: ") for w in roster.warnings[read_warnings:]]
    assert [w for w in written if "course" in w or "parent" in w] == tolerated
    assert [w.split(": left out: ") for w in written if ": left out: " in w] == [
        [f"{kind} {sourced_id}", why] for kind, sourced_id, why in left_out
    ]
    # every row of enrollments.csv is stored or left out with its reason, none lost
    with transaction(engine) as session:
        stored_ids = set(session.scalars(select(Enrollment.sourced_id)))
        assert session.scalars(select(Org.type)).all() == ["school"]
    assert len(stored_ids) + len(left_out) == rows["enrollments"]
    assert not stored_ids & {sourced_id for _, sourced_id, _ in left_out}
    # and once more: nothing changes
    before = dump(engine)
    with transaction(engine) as session:
        again = save_roster(session, read_oneroster(bundles / bundle, date_format=date_format))
    assert again.changed == 0 and dump(engine) == before


@pytest.mark.parametrize("bundle", sorted(set(SHARED_BUNDLES) - {"oneroster_test_data.zip"}))
def test_strict_mode_refuses_each_shared_bundle_whole(
    engine: Engine, bundles: Path, bundle: str
) -> None:
    date_format = SHARED_BUNDLES[bundle][0]
    before = dump(engine)
    with pytest.raises(InputError) as refused, transaction(engine) as session:
        save_roster(session, read_oneroster(bundles / bundle, strict=True, date_format=date_format))
    assert refused.value.problems
    assert dump(engine) == before


def _lines(bundle: Path, name: str) -> list[str]:
    with zipfile.ZipFile(bundle) as archive:
        return archive.read(name).decode("utf-8-sig").splitlines()


def test_v1p2_dates_are_refused_with_their_format_named(bundles: Path) -> None:
    with pytest.raises(InputError) as refused:
        read_oneroster(bundles / "v1p2_full_dataset.zip")
    problems = [str(p) for p in refused.value.problems]
    assert len(problems) == 5
    assert all("dateLastModified" in p and "--date-format" in p for p in problems)
    with pytest.raises(InputError, match=r"15/06/2023. is neither an ISO 8601 date"):
        read_oneroster(bundles / "v1p2_full_dataset.zip", date_format="%m/%d/%Y")
