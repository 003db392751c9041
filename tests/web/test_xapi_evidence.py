"""Evidence in and out through xAPI, on the demo school, over real HTTP on loopback.

- A statement another tool posts about a mapped activity becomes an attempt through the live
  attempt path and changes the student's mastery; the same statement again changes nothing.
- Every attempt made in Learnway is readable as an ``answered`` statement (by a client allowed
  to read them, and only by such a client).
- Forwarding to a second served Learnway loses nothing while that one is down for a while.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from learnway.interop import xapi as model
from learnway.settings import Settings
from learnway.store import (
    AttemptIn,
    course_of_student,
    load_course,
    make_engine,
    record_practice,
    transaction,
    upgrade,
)
from learnway.store import xapi as lrs
from learnway.store._schema import (
    Attempt,
    CompetencyRow,
    Mastery,
    StepAlignment,
    User,
    XapiOutbox,
    XapiStatement,
)
from learnway.web import create_app
from web.support import SETTINGS, make_app
from web.xapi_server import Lrs, Served, free_port, new_client, served

QUIZ = "https://quiz.example.org/items/fractions-7"


@pytest.fixture
def school(
    request: pytest.FixtureRequest, demo_template: Callable[[], Engine]
) -> Iterator[Callable[[], Engine]]:
    """Copies of the demo school (each backend), released after the test."""
    made: list[tuple[Engine, Any]] = []

    def copy() -> Engine:
        engine = demo_template()
        server = (
            request.getfixturevalue("postgres") if engine.dialect.name == "postgresql" else None
        )
        made.append((engine, server))
        return engine

    yield copy
    for engine, server in made:
        engine.dispose()
        if server is not None:
            server.release(engine)


def _student(engine: Engine, username: str = "student01") -> tuple[int, str, int]:
    with transaction(engine) as session:
        student = session.scalar(select(User).where(User.username == username))
        assert student is not None
        framework_id = course_of_student(session, student.id)
        assert framework_id is not None
        return student.id, student.sourced_id, framework_id


def _mastery(engine: Engine, student_id: int) -> list[tuple[Any, ...]]:
    with transaction(engine) as session:
        rows = session.execute(
            select(Mastery.competency_id, Mastery.p_mastery, Mastery.evidence_count, Mastery.status)
            .where(Mastery.student_id == student_id)
            .order_by(Mastery.competency_id)
        ).all()
    return [tuple(row) for row in rows]


def _attempts(engine: Engine, student_id: int) -> int:
    with transaction(engine) as session:
        return session.scalar(
            select(func.count()).select_from(Attempt).where(Attempt.student_id == student_id)
        ) or 0  # fmt: skip


def test_a_statement_from_another_tool_changes_mastery_once(school: Callable[[], Engine]) -> None:
    engine = school()
    student_id, sourced_id, framework_id = _student(engine)
    with transaction(engine) as session:
        competency_id = session.scalars(
            select(CompetencyRow.id)
            .join(StepAlignment, StepAlignment.competency_id == CompetencyRow.id)
            .where(CompetencyRow.framework_id == framework_id)
            .order_by(CompetencyRow.sequence)
        ).first()
        assert competency_id is not None
        step_id = lrs.step_for_competency(session, competency_id)
        assert step_id is not None
        lrs.map_activity(session, QUIZ, step_id)
    key, secret = new_client(engine, "quiz-tool", lrs.DEFAULT_SCOPES)
    answer = {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent",
                  "account": {"homePage": "https://sis.example.org", "name": sourced_id}},
        "verb": {"id": model.ANSWERED, "display": {"en-US": "answered"}},
        "object": {"objectType": "Activity", "id": QUIZ},
        "result": {"success": True, "score": {"scaled": 1.0}, "response": "3/4"},
        "timestamp": model.format_timestamp(dt.datetime.now(dt.UTC)),
    }  # fmt: skip
    unmapped = {**answer, "id": str(uuid.uuid4()),
                "object": {"id": "https://quiz.example.org/items/unmapped"}}  # fmt: skip
    before, count = _mastery(engine, student_id), _attempts(engine, student_id)
    with served(make_app(engine)) as server:
        tool = Lrs(server.base, key, secret)
        assert tool.post(unmapped).status_code == 200
        assert (_mastery(engine, student_id), _attempts(engine, student_id)) == (before, count)

        assert tool.post(answer).status_code == 200
        after = _mastery(engine, student_id)
        assert _attempts(engine, student_id) == count + 1
        changed = {row[0] for row in set(after) - set(before)}
        assert competency_id in changed
        with transaction(engine) as session:
            attempt = session.get(Attempt, f"xapi:{answer['id']}")
            assert attempt is not None
            assert (attempt.source, attempt.step_id, attempt.correct) == ("xapi", step_id, True)
            assert attempt.response == "3/4"

        assert tool.post(answer).status_code == 200  # the same statement twice
        again = tool.request("PUT", "statements", params={"statementId": answer["id"]},
                             json_body=answer)  # fmt: skip
        assert again.status_code == 204
        assert _mastery(engine, student_id) == after
        assert _attempts(engine, student_id) == count + 1


def _all(reader: Lrs, base: str, **params: Any) -> list[dict[str, Any]]:
    page = reader.get(**params).json()
    found = list(page["statements"])
    while page["more"]:
        page = reader.http.get(base + page["more"], headers=reader.headers, auth=reader.auth).json()
        found += page["statements"]
    return found


def test_learnway_attempts_are_answered_statements(school: Callable[[], Engine]) -> None:
    engine = school()
    student_id, sourced_id, _ = _student(engine)
    reader_key = new_client(engine, "district-reports", ("statements/read",))
    default_key = new_client(engine, "other-tool", lrs.DEFAULT_SCOPES)
    with served(make_app(engine)) as server:
        reader = Lrs(server.base, *reader_key)
        agent = {"account": {"homePage": SETTINGS.xapi_home_page, "name": sourced_id}}
        found = _all(reader, server.base, agent=agent, verb=model.ANSWERED)
        assert len(found) == _attempts(engine, student_id) > 0
        with transaction(engine) as session:
            attempts = {
                model.statement_id_of_attempt(a.id): a
                for a in session.scalars(select(Attempt).where(Attempt.student_id == student_id))
            }
        for statement in found:
            attempt = attempts[statement["id"]]
            assert statement["result"]["success"] is attempt.correct
            assert statement["context"]["extensions"][model.HINTS] == attempt.hints_used
            parents = statement["context"]["contextActivities"]["parent"]
            assert parents and all(
                p["id"].startswith(f"{SETTINGS.xapi_home_page}xapi/activities/competencies/")
                for p in parents
            )
            assert "name" not in statement["actor"] and "mbox" not in statement["actor"]
        other = Lrs(server.base, *default_key)
        assert other.get(agent=agent).json()["statements"] == []


def _add_attempts(engine: Engine, student_id: int, framework_id: int, n: int) -> list[str]:
    with transaction(engine) as session:
        course = load_course(session, framework_id)
        step_id = session.scalar(
            select(StepAlignment.step_id)
            .join(CompetencyRow, CompetencyRow.id == StepAlignment.competency_id)
            .where(CompetencyRow.framework_id == framework_id)
            .order_by(StepAlignment.step_id)
        )
        assert step_id is not None
        made = [
            AttemptIn(id=f"fwd-{uuid.uuid4().hex}", student_id=student_id, step_id=step_id,
                      correct=i % 2 == 0, timestamp=dt.datetime.now(dt.UTC), hints_used=i % 3)
            for i in range(n)
        ]  # fmt: skip
        assert len(record_practice(session, course, framework_id, made).stored) == n
    return [model.statement_id_of_attempt(a.id) for a in made]


def _outbox(engine: Engine) -> tuple[int, int]:
    with transaction(engine) as session:
        rows = session.execute(select(XapiOutbox.tries)).scalars().all()
    return len(rows), min(rows, default=0)


def _until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.1)


@pytest.fixture
def empty_like(
    request: pytest.FixtureRequest, tmp_path: Any
) -> Iterator[Callable[[Engine], Engine]]:
    """A new, migrated, empty database on the backend of a given one."""
    made: list[tuple[Engine, Any]] = []

    def make(like: Engine) -> Engine:
        server = request.getfixturevalue("postgres") if like.dialect.name == "postgresql" else None
        if server is not None:
            engine = make_engine(server.create())
        else:
            engine = make_engine(f"sqlite:///{tmp_path / f'{len(made)}.db'}")
        upgrade(engine)
        made.append((engine, server))
        return engine

    yield make
    for engine, server in made:
        engine.dispose()
        if server is not None:
            server.release(engine)


def test_forwarding_loses_nothing_while_the_district_store_is_down(
    school: Callable[[], Engine], empty_like: Callable[[Engine], Engine]
) -> None:
    learnway = school()
    district = empty_like(learnway)
    district_key, district_secret = new_client(district, "learnway", ("statements/write",))
    port = free_port()
    settings = Settings(
        secret_key=SETTINGS.secret_key,
        xapi_forward_url=f"http://127.0.0.1:{port}/xapi/",
        xapi_forward_username=district_key,
        xapi_forward_password=district_secret,
        xapi_forward_interval_s=0.2,
        xapi_forward_max_delay_s=1.0,
    )
    with transaction(learnway) as session:  # the history before forwarding was configured
        lrs.sync_attempts(session, home_page=settings.xapi_home_page, forward=False)
    student_id, _, framework_id = _student(learnway)
    district_store = Served(create_app(district, settings=SETTINGS), port)
    with served(create_app(learnway, settings=settings)):
        sent = _add_attempts(learnway, student_id, framework_id, 6)
        _until(lambda: _outbox(learnway) >= (6, 2), 30, "six statements queued, tried twice")
        sent += _add_attempts(learnway, student_id, framework_id, 6)  # while it is down
        _until(lambda: _outbox(learnway)[0] == 12, 30, "twelve statements queued")
        district_store.start()
        try:
            _until(lambda: _outbox(learnway)[0] == 0, 60, "the outbox drained")
            reader = Lrs(district_store.base, *new_client(district, "reader", ("all/read",)))
            received = _all(reader, district_store.base, verb=model.ANSWERED, limit=100)
        finally:
            district_store.stop()
    got = {s["id"]: s for s in received}
    assert set(sent) <= set(got)
    with transaction(learnway) as session:
        ours = {
            row.id: row.body
            for row in session.scalars(select(XapiStatement).where(XapiStatement.id.in_(sent)))
        }
    for ident in sent:
        original = json.loads(ours[ident])
        for part in ("actor", "verb", "object", "result", "context", "timestamp"):
            assert got[ident][part] == original[part], (ident, part)
