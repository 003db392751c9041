"""The command line on real files: init, imports and the demo school."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from conftest import CCSSM_DIR, SHARED
from learnway.cli import app
from learnway.settings import PLACEHOLDER_SECRET, Settings
from learnway.store import make_engine, transaction
from learnway.store._schema import Activity, ActivityAlignment, Enrollment, Section, User

runner = CliRunner()


def test_init_creates_then_reports_up_to_date(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'school.db'}"
    first = runner.invoke(app, ["init", "--database", url])
    assert first.exit_code == 0, first.output
    assert "upgraded from empty" in first.output
    second = runner.invoke(app, ["init", "--database", url])
    assert "already up to date" in second.output


def test_database_comes_from_the_environment(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from learnway.settings import get_settings

    monkeypatch.setenv("LEARNWAY_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["import", "ccssm", str(CCSSM_DIR)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "learnway.db").exists()
    assert "676" in result.output  # competencies inserted


def test_import_case_writes_a_framework_or_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'school.db'}"
    package = SHARED / "interop" / "case" / "opensalt-Ordering.json"
    done = runner.invoke(app, ["import", "case", str(package), "--database", url])
    assert done.exit_code == 0, done.output
    assert "Imported ACT Holistic Framework, Math" in done.output and "28" in done.output
    broken = tmp_path / "broken.json"
    broken.write_text('{"CFDocument": {}}')
    refused = runner.invoke(app, ["import", "case", str(broken), "--database", url])
    assert refused.exit_code == 1 and "Nothing was imported" in refused.output


def test_import_oneroster_writes_a_bundle_or_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'school.db'}"
    bundles = SHARED / "interop" / "oneroster" / "catalyst-moodle-enrol_oneroster"
    minimal = str(bundles / "Test_minimal_data_set.zip")
    refused = runner.invoke(app, ["import", "oneroster", "--strict", minimal, "--database", url])
    assert refused.exit_code == 1
    assert "Nothing was imported" in refused.output and "enrolled as student" in refused.output
    assert "left out: org org-sch-222-456: a department" in refused.output
    with transaction(make_engine(url)) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0
    done = runner.invoke(
        app, ["import", "oneroster", str(bundles / "oneroster_test_data.zip"), "--database", url]
    )
    assert done.exit_code == 0, done.output
    assert "Imported OneRoster 1.2 bundle" in done.output
    with transaction(make_engine(url)) as session:
        assert session.scalars(select(User.username)).all() == ["brucewayne"]
    tolerant = f"sqlite:///{tmp_path / 'tolerant.db'}"  # without --strict: rows left out, listed
    kept = runner.invoke(app, ["import", "oneroster", minimal, "--database", tolerant])
    assert kept.exit_code == 0, kept.output
    assert "left out: user usr-222-987654 is a teacher, enrolled as student" in " ".join(
        kept.output.split()
    )
    with transaction(make_engine(tolerant)) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 6


def test_demo_builds_then_reuses_the_school(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    first = runner.invoke(app, ["demo", "--database", url, "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "Created the demo school" in first.output
    assert "student01" in first.output and "teacher" in first.output
    assert "CC BY 4.0" in first.output
    engine = make_engine(url)
    with transaction(engine) as session:
        sections = session.scalars(select(Section)).all()
        assert len(sections) == 3
        for section in sections:
            students = session.scalar(
                select(func.count())
                .select_from(Enrollment)
                .where(Enrollment.section_id == section.id, Enrollment.role == "student")
            )
            assert students is not None and 25 <= students <= 35
        users = session.scalar(select(func.count()).select_from(User))
        readings = session.scalars(select(Activity)).all()
        aligned = session.scalar(select(func.count()).select_from(ActivityAlignment))
    assert len(readings) == 71 and aligned == 201  # one reading per lesson, every skill covered
    assert all(r.kind == "reading" and r.license == "CC BY 4.0" for r in readings)
    second = runner.invoke(app, ["demo", "--database", url, "--no-serve"])
    assert "Reused the demo school" in second.output
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(User)) == users

    calibrated = runner.invoke(app, ["calibrate", "--database", url])
    assert calibrated.exit_code == 0, calibrated.output
    assert "oatutor-openstax-elementary-algebra:" in calibrated.output
    assert "model version 1 now serves" in calibrated.output
    for family in ("bkt", "bkt-forgetting"):
        assert f"  {family}: held-out AUC" in calibrated.output, family
    assert "chosen:" in calibrated.output and "calibration error" in calibrated.output
    elo = runner.invoke(app, ["calibrate", "--database", url, "--candidates", "elo"])
    assert elo.exit_code == 0, elo.output
    assert "chosen: elo" in elo.output and "model version 2 now serves" in elo.output
    wrong = runner.invoke(app, ["calibrate", "--database", url, "--candidates", "bkt,oracle"])
    assert wrong.exit_code == 2 and "oracle" in wrong.output
    unknown = runner.invoke(app, ["calibrate", "--database", url, "--course", "nope"])
    assert unknown.exit_code == 1 and "No course" in unknown.output

    exported = runner.invoke(app, ["export", "edfi", str(tmp_path / "edfi"), "--database", url])
    assert exported.exit_code == 0, exported.output
    words = " ".join(exported.output.split())
    assert "272 learning standards, mastery of 90 students" in words  # 201 skills, 71 lessons
    assert sorted(p.name for p in (tmp_path / "edfi").iterdir()) == [
        "Interchange-AssessmentMetadata.xml",
        "Interchange-Descriptors.xml",
        "Interchange-Standards.xml",
        "Interchange-StudentAssessment.xml",
    ]
    no_ids = runner.invoke(
        app, ["export", "edfi", str(tmp_path / "edfi"), "--student-id", "identifier",
              "--database", url],
    )  # fmt: skip
    said = " ".join(no_ids.output.split())  # the console wraps long lines
    assert no_ids.exit_code == 1 and "has no identifier to export to Ed-Fi" in said


def test_production_refuses_the_placeholder_secret() -> None:
    with pytest.raises(ValueError, match="LEARNWAY_SECRET_KEY"):
        Settings(environment="production", secret_key=PLACEHOLDER_SECRET)
    assert Settings(environment="production", secret_key="x" * 40).secret_key == "x" * 40


def test_demo_serves_and_prints_sign_in_links(tmp_path: Path) -> None:
    """The README's demo, end to end: build, serve on a free port, sign-in links work."""
    import socket
    import subprocess
    import sys
    import threading
    import time

    import httpx2 as httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        sys.executable, "-c", "from learnway.cli import main; main()", "demo",
        "--database", f"sqlite:///{tmp_path / 'demo.db'}", "--port", str(port), "--no-browser",
    ]  # fmt: skip
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path
    )
    watchdog = threading.Timer(180, server.kill)  # a hung demo ends the test, not the run
    watchdog.start()
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 120
        assert server.stdout is not None
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            lines.append(line)
            if f"127.0.0.1:{port}/login?username=principal" in line or server.poll() is not None:
                break
        output = "".join(lines)
        assert f"http://127.0.0.1:{port}/login?username=student01" in output, output
        assert "teacher" in output
        for _ in range(50):
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/login?username=student01")
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert page.status_code == 200
        assert "student01" in page.text
    finally:
        watchdog.cancel()
        server.terminate()
        server.wait(timeout=30)


def test_a_roster_school_from_import_to_sign_in(tmp_path: Path) -> None:
    """Content and a OneRoster bundle imported, a course linked, passwords set: each person
    signs in and sees only what their role and classes allow."""
    from fastapi.testclient import TestClient

    from interop.test_oneroster import _school, _user, _write
    from learnway.web import create_app
    from web.support import SETTINGS

    url = f"sqlite:///{tmp_path / 'school.db'}"
    tables = _school(["ana", "ben"])
    # a second class of the same course, with a student of its own
    tables["classes"].append({**tables["classes"][0], "sourcedId": "alg-2", "title": "Period 2"})
    tables["users"].append(_user("cy", "student"))
    tables["enrollments"].append(
        {"sourcedId": "e-cy", "classSourcedId": "alg-2", "schoolSourcedId": "sch",
         "userSourcedId": "cy", "role": "student"}
    )  # fmt: skip
    bundle = _write(tmp_path / "roster", "1.1", tables)
    content = str(SHARED / "content" / "oatutor-elementary-algebra.tar.gz")
    for args in (["import", "oatutor", content], ["import", "oneroster", str(bundle)]):
        result = runner.invoke(app, [*args, "--database", url])
        assert result.exit_code == 0, result.output
    key = "oatutor-openstax-elementary-algebra"
    linked = runner.invoke(app, ["link-course", "alg", key, "--database", url])
    assert linked.exit_code == 0 and f"now follows {key}" in linked.output
    assert runner.invoke(app, ["link-course", "nope", key, "--database", url]).exit_code == 1
    password = "correct horse battery"
    for username in ("teacher", "ana"):
        done = runner.invoke(
            app, ["set-password", username, "--database", url], input=f"{password}\n" * 2
        )
        assert done.exit_code == 0 and "Password set" in done.output, done.output
    short = runner.invoke(app, ["set-password", "ben", "--database", url], input="short\n" * 2)
    assert short.exit_code == 1 and "at least 10 characters" in short.output

    client = TestClient(create_app(url, settings=SETTINGS))

    def sign_in(username: str, secret: str = password) -> dict[str, str]:
        body = {"username": username, "password": secret}
        response = client.post("/api/v1/tokens", json=body)
        assert response.status_code == 201, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    # ben has no password yet: a password from the bundle is not one
    body = {"username": "ben", "password": "secret"}
    assert client.post("/api/v1/tokens", json=body).status_code == 401
    teacher = sign_in("teacher")
    sections = client.get("/api/v1/sections", headers=teacher).json()
    assert [s["title"] for s in sections["sections"]] == ["Algebra 1, period 1"]
    with transaction(make_engine(url)) as session:
        ids = dict(session.execute(select(User.username, User.id)).all())
    assert client.get(f"/api/v1/students/{ids['ben']}", headers=teacher).status_code == 200
    assert client.get(f"/api/v1/students/{ids['cy']}", headers=teacher).status_code == 404
    ana = sign_in("ana")
    listed = client.get(f"/api/v1/students/{ids['ana']}/recommendations", headers=ana)
    assert listed.status_code == 200 and listed.json()["recommendations"]
    assert client.get(f"/api/v1/students/{ids['ben']}", headers=ana).status_code == 404
