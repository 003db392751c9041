"""Issue 14, attempts: ``attempt_id`` was one namespace for every student (student B learnt
that A's ids existed and could take A's future ids), and ``hints_used`` was whatever the client
sent, while viewing hints and scaffold answers was not recorded. Reproduced here."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select

from learnway.store import transaction
from learnway.store._schema import Attempt, HintRow, StepRow
from learnway.web import create_app, set_demo_passwords
from learnway.web._models import HintView
from web.support import SETTINGS, api_client, engine_of, user_id


@pytest.fixture
def app(demo_engine: Engine) -> FastAPI:
    """The application, with time for answer checks on a machine busy with other work."""
    set_demo_passwords(demo_engine)
    return create_app(
        demo_engine, settings=SETTINGS.model_copy(update={"answer_check_seconds": 20.0})
    )


def _step_with_hints(app: FastAPI) -> tuple[int, str]:
    """A step with hints, and a short answer to give (right or wrong does not matter)."""
    with transaction(engine_of(app)) as session:
        step = session.scalars(
            select(StepRow.id)
            .join(HintRow, HintRow.step_id == StepRow.id)
            .order_by(StepRow.id)
            .limit(1)
        ).one()
    return step, "7"


def test_one_students_attempt_ids_neither_reveal_nor_block_anothers(app: FastAPI) -> None:
    step, answer = _step_with_hints(app)
    a, b = api_client(app, "student01"), api_client(app, "student02")
    squatted = {"response": "8", "attempt_id": "offline-0001"}
    assert b.post(f"/api/v1/steps/{step}/attempts", json=squatted).status_code == 200
    mine = {"response": answer, "attempt_id": "offline-0001"}
    first = a.post(f"/api/v1/steps/{step}/attempts", json=mine)
    assert first.status_code == 200, first.text  # B's use of the id neither shows nor blocks
    assert first.json()["recorded"] is True
    again = a.post(f"/api/v1/steps/{step}/attempts", json=mine).json()
    assert again["duplicate"] is True and again["recorded"] is False
    changed = a.post(f"/api/v1/steps/{step}/attempts", json={**mine, "response": "9"})
    assert changed.status_code == 422
    engine = engine_of(app)
    with transaction(engine) as session:
        owners = (
            session.execute(select(Attempt.student_id).where(Attempt.id.like("%offline-0001")))
            .scalars()
            .all()
        )
    assert sorted(owners) == sorted([user_id(engine, "student01"), user_id(engine, "student02")])


def test_hints_used_is_what_the_server_showed(app: FastAPI) -> None:
    step, answer = _step_with_hints(app)
    engine = engine_of(app)
    student = api_client(app, "student01")
    claimed = {"response": answer, "attempt_id": "hints-claim-1", "hints_used": 5}
    assert student.post(f"/api/v1/steps/{step}/attempts", json=claimed).status_code == 200
    shown = student.get(f"/api/v1/steps/{step}/hints", params={"shown": 2}).json()
    seen = len(shown["hints"])
    assert seen >= 1
    hidden = {"response": answer, "attempt_id": "hints-claim-2", "hints_used": 0}
    assert student.post(f"/api/v1/steps/{step}/attempts", json=hidden).status_code == 200
    with transaction(engine) as session:
        used = dict(
            session.execute(
                select(Attempt.id, Attempt.hints_used).where(Attempt.id.like("%hints-claim-%"))
            ).all()
        )
        view = session.get(HintView, (user_id(engine, "student01"), step))
    sid = user_id(engine, "student01")
    assert used == {f"{sid}:hints-claim-1": 0, f"{sid}:hints-claim-2": seen}
    assert view is not None and view.shown == seen
