"""The student's journey through the API: recommendations, practice with hints, mastery at
once, goals, interests; bad input changes nothing; every view of a student is audited."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import select

from learnway.store import transaction
from learnway.store._schema import Attempt, Goal, Mastery, Profile, StepRow
from learnway.web._models import AuditEvent
from web.support import api_client, counts, engine_of, user_id


def _right_answer(app: FastAPI, step_id: int) -> str:
    with transaction(engine_of(app)) as session:
        step = session.get(StepRow, step_id)
        assert step is not None
        answer = str(step.answers[0])
    return answer.replace("$$", "")


def test_practice_wrong_hint_right_updates_mastery(app: FastAPI) -> None:
    client = api_client(app, "student01")
    me = client.get("/api/v1/me").json()["user"]["id"]
    recs = client.get(f"/api/v1/students/{me}/recommendations").json()["recommendations"]
    assert 3 <= len(recs) <= 5
    assert all(r["reasons"] and r["reasons"][0]["text"] for r in recs)
    chosen = next(r for r in recs if r["item"] and r["kind"] != "review")
    item = client.get(f"/api/v1/items/{chosen['item']}").json()
    assert "OpenStax" in item["attribution"] and item["license"]
    assert all("answers" not in step for step in item["steps"])
    step = item["steps"][0]
    wrong = client.post(f"/api/v1/steps/{step['id']}/attempts", json={"response": "12345.678"})
    assert wrong.status_code == 200 and wrong.json()["correct"] is False
    hints = client.get(f"/api/v1/steps/{step['id']}/hints", params={"shown": 1}).json()
    assert hints["available"] == 0 or len(hints["hints"]) == 1
    before = wrong.json()["mastery"][0]["after"] or 0.0
    answer = _right_answer(app, step["id"])
    helped = client.post(
        f"/api/v1/steps/{step['id']}/attempts", json={"response": answer, "hints_used": 1}
    ).json()
    assert helped["correct"] is True and helped["recorded"] is True
    with_hint = helped["mastery"][0]["after"]
    assert with_hint != before, "mastery is updated at once"
    alone = client.post(f"/api/v1/steps/{step['id']}/attempts", json={"response": answer}).json()
    assert alone["recorded"] is True  # the hint was seen: the server counts it here too
    with transaction(engine_of(app)) as session:
        stored = session.scalars(
            select(Attempt).where(Attempt.student_id == me, Attempt.source == "web")
        ).all()
        assert sorted(a.correct for a in stored) == [False, True, True]
        assert sorted(a.hints_used for a in stored) == [0, 1, 1]  # what the server showed
        row = session.scalar(select(Mastery).where(Mastery.student_id == me).order_by(
            Mastery.updated_at.desc()))  # fmt: skip
        assert row is not None


def test_same_attempt_id_is_stored_once(app: FastAPI) -> None:
    client = api_client(app, "student01")
    item = client.get("/api/v1/students/{}/recommendations".format(
        client.get("/api/v1/me").json()["user"]["id"])).json()["recommendations"]  # fmt: skip
    key = next(r["item"] for r in item if r["item"])
    step = client.get(f"/api/v1/items/{key}").json()["steps"][0]["id"]
    body = {"response": "7", "attempt_id": "client-attempt-0001"}
    first = client.post(f"/api/v1/steps/{step}/attempts", json=body)
    assert first.status_code == 200, first.text
    first = first.json()
    again = client.post(f"/api/v1/steps/{step}/attempts", json=body).json()
    assert first["recorded"] and not again["recorded"] and again["duplicate"]
    changed = client.post(f"/api/v1/steps/{step}/attempts", json={**body, "response": "8"})
    assert changed.status_code == 422 and "refused" in changed.json()["detail"]


def test_bad_input_is_refused_and_changes_nothing(app: FastAPI) -> None:
    engine = engine_of(app)
    client = api_client(app, "student01")
    me = client.get("/api/v1/me").json()["user"]["id"]
    other = user_id(engine, "student02")
    tables = (Attempt, Goal, Profile, Mastery)
    before = counts(engine, *tables)
    cases = [
        ("post", "/api/v1/steps/1/attempts", {"response": ""}, 422),  # no answer
        ("post", "/api/v1/steps/1/attempts", {"response": "x" * 5000}, 422),  # oversize
        ("post", "/api/v1/steps/1/attempts", {"answer": "1"}, 422),  # malformed
        ("post", "/api/v1/steps/999999/attempts", {"response": "1"}, 404),  # unknown step
        ("post", f"/api/v1/students/{me}/goals", {"title": "t" * 1000}, 422),
        ("post", f"/api/v1/students/{me}/goals", {"title": "x", "competency": "nope"}, 422),
        # NUL characters: PostgreSQL cannot store them, so no backend takes them
        ("post", f"/api/v1/students/{me}/goals", {"title": "a\x00b"}, 422),
        ("post", "/api/v1/steps/1/attempts", {"response": "7\x00"}, 422),
        ("put", f"/api/v1/students/{me}/interests", {"interests": ["music\x00"]}, 422),
        ("get", "/api/v1/items/a%00b", None, 422),
        ("post", f"/api/v1/students/{other}/goals", {"title": "not mine"}, 404),
        ("put", f"/api/v1/students/{me}/interests", {"interests": ["knitting"]}, 422),
        ("put", f"/api/v1/students/{other}/interests", {"interests": ["music"]}, 404),
        ("get", f"/api/v1/students/{other}", None, 404),
        ("get", "/api/v1/students/999999", None, 404),
        ("get", "/api/v1/items/no-such-item", None, 404),
    ]
    for method, url, body, status in cases:
        response = client.request(method, url, json=body)
        assert response.status_code == status, (url, body, response.text)
        detail = response.json()["detail"]
        assert isinstance(detail, str) and len(detail) > 5, detail
    assert counts(engine, *tables) == before


def test_goals_and_interests(app: FastAPI) -> None:
    client = api_client(app, "student01")
    me = client.get("/api/v1/me").json()["user"]["id"]
    path = client.get(f"/api/v1/students/{me}/path").json()
    assert path["total"] == sum(u["total"] for u in path["units"])
    target = next(c for u in path["units"] for c in u["competencies"] if c["status"] != "mastered")
    made = client.post(
        f"/api/v1/students/{me}/goals", json={"title": "Finish it", "competency": target["code"]}
    )
    assert made.status_code == 201
    goal = made.json()
    assert goal["competency"] == target["code"] and goal["forecast"]
    edited = client.patch(f"/api/v1/students/{me}/goals/{goal['id']}", json={"status": "met"})
    assert edited.json()["status"] == "met"
    saved = client.put(f"/api/v1/students/{me}/interests", json={"interests": ["space", "music"]})
    assert saved.json()["interests"] == ["music", "space"]
    growth = client.get(f"/api/v1/students/{me}/growth").json()
    assert growth["points"] and growth["points"][-1]["mastered"] >= growth["points"][0]["mastered"]


def test_guardian_reads_but_cannot_write(app: FastAPI) -> None:
    client = api_client(app, "guardian01")
    child = user_id(engine_of(app), "student01")
    assert client.get(f"/api/v1/students/{child}").status_code == 200
    assert client.post(f"/api/v1/students/{child}/goals", json={"title": "x"}).status_code == 403
    listed = client.get("/api/v1/students").json()["students"]
    assert [s["id"] for s in listed] == [child]


def test_every_view_of_a_student_is_audited(app: FastAPI) -> None:
    engine = engine_of(app)
    teacher = api_client(app, "teacher")
    student = user_id(engine, "student05")
    for suffix in ("", "/path", "/goals", "/growth", "/interests", "/recommendations"):
        assert teacher.get(f"/api/v1/students/{student}{suffix}").status_code == 200
    with transaction(engine) as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.student_id == student)).all()
    assert len(events) == 6
    assert {e.actor_id for e in events} == {user_id(engine, "teacher")}
    assert {e.action for e in events} == {"view"}


def test_an_answer_is_audited_once_with_its_writes(app: FastAPI) -> None:
    client = api_client(app, "student03")
    me = client.get("/api/v1/me").json()["user"]["id"]
    recs = client.get(f"/api/v1/students/{me}/recommendations").json()["recommendations"]
    key = next(r["item"] for r in recs if r["item"])
    step = client.get(f"/api/v1/items/{key}").json()["steps"][0]["id"]

    def changes() -> list[AuditEvent]:
        with transaction(engine_of(app)) as session:
            return list(session.scalars(select(AuditEvent).where(
                AuditEvent.student_id == me, AuditEvent.action == "change")))  # fmt: skip

    body = {"response": "7", "attempt_id": "audited-attempt-01"}
    assert client.post(f"/api/v1/steps/{step}/attempts", json=body).status_code == 200
    (record,) = changes()
    assert record.actor_id == me and f"/steps/{step}/attempts" in record.resource
    refused = client.post(f"/api/v1/steps/{step}/attempts", json={**body, "response": "8"})
    assert refused.status_code == 422
    assert len(changes()) == 1  # a refused answer writes nothing, its audit record neither


def test_an_answer_that_finds_its_turn_taken_is_stored_once_after_the_other_writer(
    app: FastAPI,
) -> None:
    """An answer that finds another writer in its way (SQLite's write turn, or its student's
    row locked on PostgreSQL) is stored once the other writer is done: on SQLite, where answers
    are stored on the event loop only when that needs no waiting, in a worker thread."""
    import fcntl
    import os
    import threading
    import time

    from sqlalchemy import text

    client = api_client(app, "student03")
    me = client.get("/api/v1/me").json()["user"]["id"]
    recs = client.get(f"/api/v1/students/{me}/recommendations").json()["recommendations"]
    step = client.get(f"/api/v1/items/{next(r['item'] for r in recs if r['item'])}").json()
    step_id = step["steps"][0]["id"]
    engine = engine_of(app)
    held_s = 0.4
    if engine.dialect.name == "sqlite":
        gate = os.open(f"{engine.url.database}.writer", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(gate, fcntl.LOCK_EX)  # as another server process's writer would
        release = threading.Timer(held_s, fcntl.flock, args=(gate, fcntl.LOCK_UN))
    else:
        other = engine.connect()
        other.execute(text("SELECT id FROM users WHERE id = :me FOR UPDATE"), {"me": me})
        release = threading.Timer(held_s, other.commit)
    started = time.perf_counter()
    release.start()
    try:
        body = {"response": _right_answer(app, step_id), "attempt_id": "turn-taken-01"}
        answered = client.post(f"/api/v1/steps/{step_id}/attempts", json=body)
        waited = time.perf_counter() - started
    finally:
        release.join()
        if engine.dialect.name == "sqlite":
            os.close(gate)
        else:
            other.close()
    assert answered.status_code == 200, answered.text
    assert answered.json()["recorded"] and answered.json()["correct"]
    assert waited >= held_s, "the answer was stored while another writer held the turn"
    with transaction(engine) as session:
        stored = session.scalars(select(Attempt.id).where(Attempt.student_id == me)).all()
    assert sum(i.endswith("turn-taken-01") for i in stored) == 1
