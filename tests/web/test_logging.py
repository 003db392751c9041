"""Logging: an access line per request, security events for refusals, and no student data in
any log line.

A realistic set of requests runs on the demo school (sign-ins right and wrong, practice with
right, wrong and oversized answers, goals, a teacher's class pages, a leader's reports, a
guardian, probing for other students, an LTI login) with every logger captured; each captured
line, as written in development and in production, is searched for every student's given name,
family name and username.
"""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from learnway._logging import JsonFormatter, TextFormatter, configure_logging
from learnway.store import transaction
from learnway.store._schema import ItemRow, Section, StepRow, User
from learnway.web import DEMO_PASSWORD
from web.support import api_client, browser_client, csrf_of, engine_of

ON_SQLITE = pytest.mark.parametrize("demo_template", ["sqlite"], indirect=True, scope="session")


# The test's own HTTP client logs the URLs it requests; those lines are not the server's.
CLIENT_LOGGERS = ("httpx", "httpcore")


def _student_words(app: FastAPI) -> re.Pattern[str]:
    """Every student's given name, family name and username, as whole words."""
    with transaction(engine_of(app)) as session:
        rows = session.execute(
            select(User.given_name, User.family_name, User.username).where(User.role == "student")
        ).all()
    words = {w for row in rows for w in row if w and len(w) >= 2}
    assert len(words) > 20, "the demo school has students"
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)


def _exercise(app: FastAPI) -> None:
    """What a school day looks like from the server, with a few attacks mixed in."""
    with transaction(engine_of(app)) as session:
        step = session.scalars(
            select(StepRow).where(StepRow.answer_type == "arithmetic").order_by(StepRow.id)
        ).first()
        assert step is not None
        item_key = session.scalar(select(ItemRow.key).where(ItemRow.id == step.item_id))
        right = str(step.answers[0]).replace("$$", "")
        section = session.scalar(select(Section.id).order_by(Section.id))
        other = session.scalar(select(User.id).where(User.username == "student02"))
    anonymous = TestClient(app)
    page = anonymous.get("/login")
    refused = anonymous.post(
        "/login",
        data={"username": "student01", "password": "not-the-password",
              "csrf_token": csrf_of(page.text)},
    )  # fmt: skip
    assert refused.status_code >= 400
    wrong_token = anonymous.post(
        "/api/v1/tokens", json={"username": "student03", "password": "wrong-password-here"}
    )
    assert wrong_token.status_code >= 400
    assert anonymous.get("/lti/login", params={"login_hint": "student04"}).status_code < 500

    student = browser_client(app, "student01")
    practice = student.get(f"/practice/{item_key}")
    csrf = csrf_of(practice.text)
    for response in ("12345.678", right, "9^9^9^9"):
        answered = student.post(
            f"/practice/steps/{step.id}/answer", data={"response": response, "csrf_token": csrf}
        )
        assert answered.status_code in (200, 422)
    me = student.get("/api/v1/me").json()["user"]["id"]
    student.post(f"/students/{me}/goals", data={"title": "Finish the unit", "csrf_token": csrf})
    assert student.get(f"/students/{other}").status_code == 404  # probing another student
    assert student.get(f"/sections/{section}/heatmap").status_code == 403

    api = api_client(app, "student05")
    api.post(f"/api/v1/steps/{step.id}/attempts", json={"response": "x = 4"})
    api.post(f"/api/v1/steps/{step.id}/attempts", json={"response": "10^10^10"})

    teacher = browser_client(app, "teacher")
    for path in (
        f"/sections/{section}/heatmap",
        f"/sections/{section}/needs",
        f"/sections/{section}/groups",
        f"/sections/{section}/pacing",
        f"/students/{me}",
    ):
        assert teacher.get(path).status_code == 200, path  # fmt: skip
    leader = api_client(app, "principal")
    for path in ("/api/v1/reports/mastery", "/api/v1/reports/gaps", "/api/v1/reports/supports"):
        assert leader.get(path).status_code == 200, path
    guardian = api_client(app, "guardian01")
    guardian.get("/api/v1/me")
    assert guardian.post(f"/api/v1/students/{me}/goals", json={"title": "x"}).status_code == 403


@ON_SQLITE
def test_no_log_line_holds_a_students_name_or_username(
    shared_app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    students = _student_words(shared_app)
    # the records reach caplog even where an earlier test set up Learnway's own handler (which
    # stops them at the "learnway" logger)
    loggers = [logging.getLogger(n) for n in ("learnway", "learnway.access", "learnway.security")]
    kept = [(lg.level, lg.disabled) for lg in loggers]
    for lg in loggers:  # as configured for serving, whatever an earlier test left behind
        lg.disabled = False
        lg.setLevel(logging.INFO)
    loggers[0].addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.DEBUG):
            _exercise(shared_app)
    finally:
        loggers[0].removeHandler(caplog.handler)
        for lg, (level, disabled) in zip(loggers, kept, strict=True):
            lg.setLevel(level)
            lg.disabled = disabled
    records = caplog.records
    access = [r for r in records if r.name == "learnway.access"]
    security = [r for r in records if r.name == "learnway.security"]
    assert len(access) > 30
    events = {getattr(r, "fields", {}).get("event") for r in security}
    assert {"sign_in_refused", "denied"} <= events
    assert any(r.getMessage().startswith("GET /students/{student_id}") for r in access)
    leaks = []
    for record in records:
        if record.name.startswith(CLIENT_LOGGERS):
            continue
        for formatter in (TextFormatter(), JsonFormatter()):
            line = formatter.format(record)
            found = students.search(line)
            if found:
                leaks.append(f"{record.name}: {found.group()!r} in {line[:160]!r}")
    assert not leaks, "\n".join(leaks[:10])
    assert DEMO_PASSWORD not in caplog.text


def test_an_exception_is_logged_by_type_and_stack_not_its_message() -> None:
    logger = logging.getLogger("learnway.test")
    stream = io.StringIO()
    handler = configure_logging(production=True, stream=stream)
    try:
        try:
            raise ValueError("duplicate key (username)=(student01) for Ana Pérez")
        except ValueError:
            logger.exception("the request failed")
    finally:
        logging.getLogger("learnway").removeHandler(handler)
        logging.getLogger("uvicorn").removeHandler(handler)
        logging.getLogger("learnway").propagate = True
        logging.getLogger("uvicorn").propagate = True
    entry = json.loads(stream.getvalue().splitlines()[-1])
    assert entry["message"] == "the request failed" and entry["level"] == "error"
    assert "builtins.ValueError" in entry["exception"]
    assert "student01" not in stream.getvalue() and "Pérez" not in stream.getvalue()


def test_development_lines_are_readable_and_production_lines_are_json() -> None:
    record = logging.LogRecord("learnway.access", logging.INFO, __file__, 1, "GET %s %d",
                               ("/login", 200), None)  # fmt: skip
    record.fields = {"route": "/login", "status": 200, "user_id": None}
    text = TextFormatter().format(record)
    assert re.fullmatch(r"\d\d:\d\d:\d\d INFO    learnway.access: GET /login 200 "
                        r"route=/login status=200", text)  # fmt: skip
    entry = json.loads(JsonFormatter().format(record))
    assert entry["route"] == "/login" and entry["status"] == 200 and entry["user_id"] is None
