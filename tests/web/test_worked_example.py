"""A worked example is reported as its own kind of evidence: stored, never checked, never a
wrong answer (the estimate does not fall)."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import select

from learnway.store import transaction
from learnway.store._schema import Attempt
from web.support import api_client, engine_of


def test_a_worked_example_is_recorded_as_its_own_kind_and_never_lowers_mastery(
    app: FastAPI,
) -> None:
    client = api_client(app, "student01")
    me = client.get("/api/v1/me").json()["user"]["id"]
    recs = client.get(f"/api/v1/students/{me}/recommendations").json()["recommendations"]
    key = next(r["item"] for r in recs if r["item"] and r["kind"] != "review")
    step = client.get(f"/api/v1/items/{key}").json()["steps"][0]["id"]
    wrong = client.post(f"/api/v1/steps/{step}/attempts", json={"response": "12345.678"}).json()
    before = wrong["mastery"][0]["after"]
    studied = client.post(f"/api/v1/steps/{step}/attempts", json={"kind": "worked_example"})
    assert studied.status_code == 200, studied.text
    after = studied.json()["mastery"][0]["after"]
    assert studied.json()["recorded"] and after >= before
    with transaction(engine_of(app)) as session:
        kinds = session.scalars(
            select(Attempt.kind).where(Attempt.student_id == me).order_by(Attempt.timestamp)
        ).all()
    assert kinds[-2:] == ["answer", "worked_example"]
    empty = client.post(f"/api/v1/steps/{step}/attempts", json={"response": ""})
    assert empty.status_code == 422
    unknown = client.post(f"/api/v1/steps/{step}/attempts", json={"kind": "quiz", "response": "1"})
    assert unknown.status_code == 422
