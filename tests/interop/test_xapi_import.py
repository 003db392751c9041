"""The xAPI commands on the demo school (SQLite and PostgreSQL): credentials for a tool, a
statement dump imported all or nothing, an activity mapped afterwards, and forwarding that
keeps what it could not deliver."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

import learnway.cli._xapi  # noqa: F401  (registers the xAPI commands)
from learnway.cli import app
from learnway.interop import xapi as model
from learnway.settings import get_settings
from learnway.store import course_of_student, transaction
from learnway.store import xapi as lrs
from learnway.store._schema import (
    Attempt,
    CompetencyRow,
    FrameworkRow,
    StepAlignment,
    User,
    XapiOutbox,
    XapiStatement,
)

runner = CliRunner()
ACTIVITY = "https://reader.example.org/chapters/linear-equations"


def _words(text: str) -> str:
    return " ".join(text.split())


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _count(engine: Engine, table: Any) -> int:
    with transaction(engine) as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def _answer(sourced_id: str, activity: str = ACTIVITY, **changes: Any) -> dict[str, Any]:
    made = {
        "id": str(uuid.uuid4()),
        "actor": {"account": {"homePage": "https://sis.example.org", "name": sourced_id}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
        "object": {"id": activity},
        "result": {"score": {"raw": 8, "min": 0, "max": 10}},
        "timestamp": "2030-01-01T09:00:00Z",
    }
    made.update(changes)
    return made


def test_add_xapi_client_issues_working_credentials(engine: Engine) -> None:
    done = runner.invoke(app, ["add-xapi-client", "quiz-tool", "--database", _url(engine)])
    assert done.exit_code == 0, done.output
    words = _words(done.output).split()
    key, secret = words[words.index("user") + 1].rstrip(","), words[words.index("password") + 1]
    with transaction(engine) as session:
        client = lrs.authenticate(session, key, secret)
        assert client is not None and client.scopes == sorted(lrs.DEFAULT_SCOPES)
        assert lrs.authenticate(session, key, secret + "x") is None
        assert client.secret_hash != secret
    bad = runner.invoke(
        app, ["add-xapi-client", "t", "--scope", "root", "--database", _url(engine)]
    )
    assert bad.exit_code == 1 and "unknown scopes" in bad.output


def test_a_dump_imports_all_or_nothing_and_a_later_mapping_makes_attempts(
    demo_engine: Engine, tmp_path: Path
) -> None:
    url = _url(demo_engine)
    with transaction(demo_engine) as session:
        student = session.scalar(select(User).where(User.username == "student02"))
        assert student is not None
        framework_id = course_of_student(session, student.id)
        key = session.scalar(select(FrameworkRow.key).where(FrameworkRow.id == framework_id))
        code = session.scalars(
            select(CompetencyRow.code)
            .join(StepAlignment, StepAlignment.competency_id == CompetencyRow.id)
            .where(CompetencyRow.framework_id == framework_id)
        ).first()
    assert key and code
    good = [_answer(student.sourced_id), _answer(student.sourced_id, "https://elsewhere.example/x")]
    dump = tmp_path / "dump.json"
    dump.write_text(json.dumps([*good, {**_answer("x"), "verb": {"id": "not an IRI"}}]))
    before = _count(demo_engine, XapiStatement), _count(demo_engine, Attempt)

    refused = runner.invoke(app, ["import", "xapi", str(dump), "--database", url])
    assert refused.exit_code == 1 and "statement 3: verb.id" in _words(refused.output)
    assert (_count(demo_engine, XapiStatement), _count(demo_engine, Attempt)) == before

    dump.write_text("\n".join(json.dumps(s) for s in good))  # one statement a line
    done = runner.invoke(app, ["import", "xapi", str(dump), "--database", url])
    assert done.exit_code == 0, done.output
    assert "2 statement(s): 2 new" in _words(done.output)
    assert "importing dump.json: statements (0/2)" in _words(done.output)  # progress, as lines
    assert _count(demo_engine, Attempt) == before[1]  # nothing mapped yet

    mapped = runner.invoke(
        app, ["map-xapi-activity", ACTIVITY, "--framework", key, "--competency", code,
              "--database", url],
    )  # fmt: skip
    assert mapped.exit_code == 0, mapped.output
    assert "1 stored statement(s) became attempts" in _words(mapped.output)
    with transaction(demo_engine) as session:
        attempt = session.get(Attempt, model.attempt_id_of_statement(good[0]["id"]))
        assert attempt is not None and attempt.correct and attempt.score == pytest.approx(0.8)

    again = runner.invoke(app, ["import", "xapi", str(dump), "--database", url])
    assert again.exit_code == 0 and "0 new, 2 already stored" in _words(again.output)
    assert _count(demo_engine, Attempt) == before[1] + 1


def test_forwarding_keeps_what_it_cannot_deliver(
    demo_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _url(demo_engine)
    get_settings.cache_clear()
    unset = runner.invoke(app, ["xapi-forward", "--database", url])
    assert unset.exit_code == 1 and "LEARNWAY_XAPI_FORWARD_URL" in unset.output
    monkeypatch.setenv("LEARNWAY_XAPI_FORWARD_URL", "http://127.0.0.1:9/xapi/")  # discard port
    monkeypatch.setenv("LEARNWAY_XAPI_FORWARD_USERNAME", "learnway")
    monkeypatch.setenv("LEARNWAY_XAPI_FORWARD_PASSWORD", "secret")
    get_settings.cache_clear()
    try:
        down = runner.invoke(app, ["xapi-forward", "--database", url])
    finally:
        get_settings.cache_clear()
    assert down.exit_code == 1 and "cannot reach" in _words(down.output)
    attempts = _count(demo_engine, Attempt)
    assert _count(demo_engine, XapiOutbox) == attempts > 0  # every attempt queued, none lost
    with transaction(demo_engine) as session:  # the failed batch waits; the rest were not tried
        tries = list(session.scalars(select(XapiOutbox.tries)))
    assert sorted(set(tries)) == [0, 1] and tries.count(1) == 100
