"""Issue 14, deletion and export on request: no route or command deleted a student's data
(``tobedeleted`` only disabled the account), nothing was ever deleted by age, and a guardian
could not obtain a copy of their child's record. Each is reproduced here, on both databases."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import JSON, Engine, MetaData, String, Text, inspect, select
from typer.testing import CliRunner

from learnway.cli import _privacy  # noqa: F401  (registers its commands)
from learnway.cli import app as cli
from learnway.interop import read_oneroster
from learnway.interop._oneroster import COLUMNS
from learnway.store import save_roster, transaction
from learnway.store._erase import apply_retention, subject_of
from learnway.store._schema import Enrollment, Section, User
from learnway.web._models import AuditEvent, AuthToken
from web.support import SETTINGS, api_client, browser_client, engine_of, user_id


def _who(engine: Engine, username: str) -> dict[str, Any]:
    with transaction(engine) as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        return {"id": user.id, "username": user.username, "sourced_id": user.sourced_id,
                "name": f"{user.given_name} {user.family_name}"}  # fmt: skip


def _traces(engine: Engine, who: dict[str, Any]) -> list[str]:
    """Every place in every table that still holds the student's id (in a column that refers
    to a person) or their username, roster id or full name (in any text)."""
    found = []
    inspector = inspect(engine)
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        for name, table in metadata.tables.items():
            person_columns = {
                c for fk in inspector.get_foreign_keys(name) if fk["referred_table"] == "users"
                for c in fk["constrained_columns"]
            } | ({"id"} if name == "users" else set()) | (
                {"student_id"} if "student_id" in table.c else set()
            )  # fmt: skip
            for row in connection.execute(table.select()).mappings():
                for column in person_columns:
                    if row[column] == who["id"]:
                        found.append(f"{name}.{column}")
                for column in table.c:
                    if isinstance(column.type, String | Text | JSON) and row[column.name]:
                        text = str(row[column.name])
                        for value in (who["username"], who["sourced_id"], who["name"]):
                            if value in text:
                                found.append(f"{name}.{column.name} holds {value!r}")
    return found


def test_deleting_a_student_leaves_no_trace_but_the_record_of_it(app: FastAPI) -> None:
    engine = engine_of(app)
    who = _who(engine, "student01")
    mine = api_client(app, "student01")  # a sign-in of theirs, and audit views of theirs
    mine.get(f"/api/v1/students/{who['id']}")
    teacher = api_client(app, "teacher")
    teacher.get(f"/api/v1/students/{who['id']}")
    assert len(_traces(engine, who)) > 10  # attempts, mastery, profile, goals, enrollments...
    leader = api_client(app, "principal")
    answer = leader.delete(f"/api/v1/students/{who['id']}")
    assert answer.status_code == 200, answer.text
    deleted = answer.json()["deleted"]
    assert {"attempts", "users", "enrollments", "guardianships", "auth_tokens"} <= set(deleted)
    assert _traces(engine, who) == []
    with transaction(engine) as session:
        kept = session.scalars(select(AuditEvent).where(AuditEvent.action == "delete")).one()
    assert kept.subject == subject_of(who["sourced_id"], SETTINGS.secret_key)
    assert kept.actor_id == user_id(engine, "principal") and kept.student_id is None
    assert mine.get("/api/v1/me").status_code == 401
    # every page still renders, for everyone who saw the student
    with transaction(engine) as session:
        section = session.scalar(select(Section.id).where(Section.sourced_id == "demo-section-1"))
    pages = {
        "teacher": ["/sections", "/students", *(f"/sections/{section}/{view}" for view in
                    ("heatmap", "needs", "pacing", "groups"))],
        "principal": ["/reports/mastery", "/reports/gaps", "/reports/supports", "/audit",
                      "/students", f"/sections/{section}/heatmap"],
        "guardian01": ["/students"],
        "student02": ["/students", "/account"],
    }  # fmt: skip
    for username, addresses in pages.items():
        browser = browser_client(app, username)
        for address in addresses:
            assert browser.get(address).status_code == 200, (username, address)


def test_the_command_deletes_too(app: FastAPI) -> None:
    engine = engine_of(app)
    who = _who(engine, "student03")
    result = CliRunner().invoke(
        cli,
        [
            "delete-student",
            "student03",
            "--yes",
            "--database",
            str(engine.url.render_as_string(hide_password=False)),
        ],
    )
    assert result.exit_code == 0, result.output
    assert _traces(engine, who) == []


def test_a_student_and_a_guardian_download_the_whole_record(app: FastAPI) -> None:
    engine = engine_of(app)
    student = user_id(engine, "student01")
    for username in ("student01", "guardian01"):
        client = api_client(app, username)
        record = client.get(f"/api/v1/students/{student}/record").json()["record"]
        assert {"users", "attempts", "mastery", "enrollments"} <= set(record)
        assert "password_hash" not in record["users"][0]
        assert all("token_hash" not in row for row in record.get("auth_tokens", []))
        exported = client.get(f"/api/v1/students/{student}/record", params={"format": "csv"})
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert sum(r["table"] == "attempts" and r["column"] == "id" for r in rows) == len(
            record["attempts"]
        )
    assert api_client(app, "student02").get(f"/api/v1/students/{student}/record").status_code == 404
    assert api_client(app, "teacher").get(f"/api/v1/students/{student}/record").status_code == 403
    with transaction(engine) as session:
        exports = session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert len(exports) == 4  # two downloads each, recorded


def test_retention_deletes_only_those_long_gone(app: FastAPI) -> None:
    engine = engine_of(app)
    gone, staying = _who(engine, "student04"), _who(engine, "student05")
    long_ago = dt.date.today() - dt.timedelta(days=400)
    with transaction(engine) as session:
        for row in session.scalars(select(Enrollment).where(Enrollment.user_id == gone["id"])):
            row.end_date = long_ago
        for row in session.scalars(select(Enrollment).where(Enrollment.user_id == staying["id"])):
            row.end_date = dt.date.today() - dt.timedelta(days=10)
    with transaction(engine) as session:
        done = apply_retention(session, days=365, secret=SETTINGS.secret_key)
    assert len(done) == 1
    assert _traces(engine, gone) == [] and _traces(engine, staying) != []


def test_tokens_are_deleted_with_the_student(app: FastAPI) -> None:
    engine = engine_of(app)
    student = user_id(engine, "student06")
    api_client(app, "student06")
    api_client(app, "district").delete(f"/api/v1/students/{student}")
    with transaction(engine) as session:
        assert session.scalars(select(AuthToken).where(AuthToken.user_id == student)).all() == []


def _deleted_in_roster(folder: Path, sourced_id: str) -> Path:
    """A OneRoster 1.1 delta bundle that marks one user ``tobedeleted``."""
    folder.mkdir()
    files = [(f"file.{name}", "delta" if name == "users" else "absent") for name in COLUMNS["1.1"]]
    with (folder / "manifest.csv").open("w", newline="") as out:
        csv.writer(out).writerows(
            [("propertyName", "value"), ("manifest.version", "1.0"),
             ("oneroster.version", "1.1"), *files]
        )  # fmt: skip
    with (folder / "users.csv").open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS["1.1"]["users"])
        writer.writeheader()
        writer.writerow({"sourcedId": sourced_id, "status": "tobedeleted"})
    return folder


def test_a_roster_deletion_ends_access_at_once_and_the_data_when_retention_is_due(
    app: FastAPI, tmp_path: Path
) -> None:
    engine = engine_of(app)
    who = _who(engine, "student02")
    mine, teacher = api_client(app, "student02"), api_client(app, "teacher")
    assert teacher.get(f"/api/v1/students/{who['id']}").status_code == 200
    with transaction(engine) as session:
        save_roster(session, read_oneroster(_deleted_in_roster(tmp_path / "b", who["sourced_id"])))
    # at once: the account is disabled and every enrollment has ended (yesterday its last day)
    assert mine.get("/api/v1/me").status_code == 401
    assert teacher.get(f"/api/v1/students/{who['id']}").status_code == 404
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    with transaction(engine) as session:
        ends = session.scalars(select(Enrollment.end_date).where(Enrollment.user_id == who["id"]))
        assert set(ends) == {yesterday}
    subject = subject_of(who["sourced_id"], SETTINGS.secret_key)
    # the retention policy, as the background worker applies it, on the last day of the period
    # (everything kept) and on the day after (everything deleted), the clock moved forward
    for days_later, deleted in ((30, False), (31, True)):
        with transaction(engine) as session:
            done = apply_retention(session, days=30, secret=SETTINGS.secret_key,
                                   today=yesterday + dt.timedelta(days=days_later))  # fmt: skip
        assert (subject in {report.subject for report in done}) is deleted
    assert _traces(engine, who) == []
    with transaction(engine) as session:
        kept = session.scalars(select(AuditEvent).where(AuditEvent.subject == subject)).one()
    assert (kept.action, kept.resource) == ("delete", "retention policy")
