"""Issue 14, audit: views of a class (heatmap, needs, pacing, groups), student lists and
reports wrote no audit rows; refused and probing requests were not recorded; nothing read or
exported the record. Each is reproduced here."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from learnway.cli import app as cli
from learnway.store import transaction
from learnway.store._schema import Section
from learnway.web._access import section_students
from learnway.web._models import AuditEvent
from web.support import api_client, engine_of, user_id


def _events(app: FastAPI) -> list[AuditEvent]:
    with transaction(engine_of(app)) as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def _section1(app: FastAPI) -> tuple[int, set[int]]:
    with transaction(engine_of(app)) as session:
        section = session.scalars(
            select(Section).where(Section.sourced_id == "demo-section-1")
        ).one()
        return section.id, {s.id for s in section_students(session, section_id=section.id)}


def test_every_class_view_records_each_student_shown(app: FastAPI) -> None:
    teacher = api_client(app, "teacher")
    section, students = _section1(app)
    for view in ("heatmap", "needs", "pacing", "groups"):
        before = len(_events(app))
        assert teacher.get(f"/api/v1/sections/{section}/{view}").status_code == 200, view
        new = _events(app)[before:]
        assert {e.student_id for e in new if e.action == "view"} == students, view
        assert all(view in e.resource and e.actor_id == user_id(engine_of(app), "teacher")
                   for e in new)  # fmt: skip


def test_lists_and_reports_are_recorded(app: FastAPI) -> None:
    teacher, leader = api_client(app, "teacher"), api_client(app, "principal")
    before = len(_events(app))
    listed = {s["id"] for s in teacher.get("/api/v1/students").json()["students"]}
    assert {e.student_id for e in _events(app)[before:]} == listed
    for report in ("mastery", "gaps", "supports"):
        before = len(_events(app))
        assert leader.get(f"/api/v1/reports/{report}").status_code == 200
        new = _events(app)[before:]
        assert len(new) == 1 and f"/reports/{report}" in new[0].resource
        assert new[0].student_id is None  # an aggregate of 10 or more, never a student


def test_refused_and_probing_requests_are_recorded(app: FastAPI) -> None:
    engine = engine_of(app)
    other = user_id(engine, "student02")
    api_client(app, "student01").get(f"/api/v1/students/{other}/path")
    TestClient(app).get(f"/students/{other}/path", follow_redirects=False)
    api_client(app, "guardian01").get("/api/v1/sections/1/heatmap")
    TestClient(app).get("/api/v1/students/999999")
    denied = [e for e in _events(app) if e.action == "denied"]
    assert [(e.status, e.student_id) for e in denied] == [
        (404, other), (401, other), (403, None), (401, None),
    ]  # fmt: skip
    assert denied[0].actor_id == user_id(engine, "student01") and denied[1].actor_id is None


def test_administrators_read_and_export_the_record(app: FastAPI) -> None:
    engine = engine_of(app)
    student = user_id(engine, "student01")
    teacher = api_client(app, "teacher")
    teacher.get(f"/api/v1/students/{student}")
    leader = api_client(app, "principal")
    records = leader.get("/api/v1/audit", params={"student": student}).json()["records"]
    assert any(r["actor"] == "teacher" and r["action"] == "view" for r in records)
    assert {r["student_id"] for r in records} == {student}
    by_person = leader.get("/api/v1/audit", params={"person": "teacher"}).json()["records"]
    assert by_person and {r["actor"] for r in by_person} == {"teacher"}
    exported = leader.get("/api/v1/audit", params={"student": student, "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == len(records) and rows[0]["student_id"] == str(student)
    assert leader.get("/api/v1/audit", params={"since": "2999-01-01"}).json()["records"] == []
    page = api_client(app, "district").get("/audit", params={"student": student})
    assert page.status_code == 200 and "teacher" in page.text
    assert teacher.get("/api/v1/audit").status_code == 403


def test_the_audit_command_reads_and_exports(app: FastAPI, tmp_path: Path) -> None:
    from learnway.cli import _privacy  # noqa: F401  (registers its commands)

    engine = engine_of(app)
    student = user_id(engine, "student01")
    api_client(app, "teacher").get(f"/api/v1/students/{student}")
    url = engine.url.render_as_string(hide_password=False)
    out = tmp_path / "audit.csv"
    result = CliRunner().invoke(
        cli, ["audit", "--student", "student01", "--person", "teacher", "--format", "csv",
              "--output", str(out), "--database", url],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert rows and {(r["actor"], r["student_id"]) for r in rows} == {("teacher", str(student))}
    shown = CliRunner().invoke(cli, ["audit", "--person", "teacher", "--database", url])
    assert shown.exit_code == 0 and "teacher" in shown.output
