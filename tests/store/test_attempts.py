"""The attempt log: stored once, duplicates reported, anything else refused with a reason."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import Engine, func, insert, select

from dbdump import dump
from learnway import InputError
from learnway.store import transaction
from learnway.store._attempts import AttemptIn, record_attempts
from learnway.store._schema import (
    Attempt,
    FrameworkRow,
    ItemRow,
    Org,
    StepRow,
    User,
)

WHEN = dt.datetime(2026, 10, 5, 14, 0, tzinfo=dt.UTC)


@pytest.fixture
def ids(engine: Engine) -> dict[str, int]:
    """A school with two students, a teacher and two steps."""
    with transaction(engine) as session:
        org = Org(sourced_id="s", name="School", type="school")
        session.add(org)
        session.flush()
        people = {}
        for name, role in (("ana", "student"), ("ben", "student"), ("tess", "teacher")):
            user = User(
                sourced_id=name, username=name, given_name=name, family_name="X", role=role,
                org_id=org.id,
            )  # fmt: skip
            session.add(user)
            session.flush()
            people[name] = user.id
        framework = FrameworkRow(key="f", title="F", source="", license="", attribution="")
        session.add(framework)
        session.flush()
        item = ItemRow(
            key="i", framework_id=framework.id, title="", body="", source="", license="",
            attribution="",
        )  # fmt: skip
        session.add(item)
        session.flush()
        session.execute(
            insert(StepRow),
            [
                {
                    "key": f"s{n}",
                    "item_id": item.id,
                    "position": n,
                    "prompt": "",
                    "body": "",
                    "problem_type": "TextBox",
                    "answer_type": "arithmetic",
                    "answers": ["1"],
                    "choices": [],
                }
                for n in range(2)
            ],
        )
        steps = session.scalars(select(StepRow.id).order_by(StepRow.position)).all()
    return {**people, "step0": steps[0], "step1": steps[1]}


def _attempt(ids: dict[str, int], n: int, **changes: object) -> AttemptIn:
    base = AttemptIn(
        id=f"att-{n}", student_id=ids["ana"], step_id=ids["step0"], correct=n % 2 == 0,
        timestamp=WHEN + dt.timedelta(minutes=n), hints_used=n % 3, duration_s=12.5,
        response="1/2",
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


def _stored(engine: Engine) -> int:
    with transaction(engine) as session:
        return session.scalar(select(func.count()).select_from(Attempt)) or 0


def test_stores_each_attempt_once(engine: Engine, ids: dict[str, int]) -> None:
    batch = [_attempt(ids, n) for n in range(5)]
    with transaction(engine) as session:
        report = record_attempts(session, batch)
    assert report.stored == [a.id for a in batch]
    assert report.duplicates == [] and report.refused == []
    with transaction(engine) as session:
        row = session.get(Attempt, "att-3")
        assert row is not None
        assert (row.correct, row.hints_used, row.timestamp) == (False, 0, batch[3].timestamp)
        assert row.timestamp.tzinfo == dt.UTC


def test_sending_again_is_a_reported_no_op(engine: Engine, ids: dict[str, int]) -> None:
    batch = [_attempt(ids, n) for n in range(3)]
    with transaction(engine) as session:
        record_attempts(session, batch)
    before = dump(engine)
    with transaction(engine) as session:
        report = record_attempts(session, [*batch, batch[0]])
    assert report.stored == []
    assert sorted(report.duplicates) == ["att-0", "att-0", "att-1", "att-2"]
    assert dump(engine) == before


def test_same_id_with_other_content_is_refused(engine: Engine, ids: dict[str, int]) -> None:
    with transaction(engine) as session:
        record_attempts(session, [_attempt(ids, 0)])
    changed = _attempt(ids, 0, correct=False)
    with transaction(engine) as session:
        report = record_attempts(session, [changed, _attempt(ids, 1)])
    assert report.stored == ["att-1"]
    (problem,) = report.refused
    assert problem.record == "att-0" and "different content" in problem.message
    with transaction(engine) as session:
        row = session.get(Attempt, "att-0")
        assert row is not None and row.correct is True


def test_conflict_within_one_batch(engine: Engine, ids: dict[str, int]) -> None:
    with transaction(engine) as session:
        report = record_attempts(session, [_attempt(ids, 0), _attempt(ids, 0, hints_used=2)])
    assert report.stored == ["att-0"]
    assert "earlier in this batch" in report.refused[0].message


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"id": ""}, "id must be"),
        ({"id": "x" * 65}, "id must be"),
        ({"source": "carrier pigeon"}, "source must be one of"),
        ({"timestamp": WHEN.replace(tzinfo=None)}, "time zone"),
        ({"score": 1.5}, "score must be between 0 and 1"),
        ({"score": float("nan")}, "score must be between 0 and 1"),
        ({"hints_used": -1}, "hints_used"),
        ({"duration_s": -3.0}, "duration_s"),
        ({"response": "9" * 5000}, "response longer than"),
        ({"student_id": 10_000}, "no student with id 10000"),
        ({"step_id": 10_000}, "no step with id 10000"),
    ],
)
def test_bad_attempts_are_refused_with_a_reason(
    engine: Engine, ids: dict[str, int], changes: dict[str, object], reason: str
) -> None:
    with transaction(engine) as session:
        report = record_attempts(session, [_attempt(ids, 1, **changes), _attempt(ids, 2)])
    assert report.stored == ["att-2"]
    (problem,) = report.refused
    assert reason in problem.message
    assert _stored(engine) == 1


def test_only_students_make_attempts(engine: Engine, ids: dict[str, int]) -> None:
    with transaction(engine) as session:
        report = record_attempts(session, [_attempt(ids, 1, student_id=ids["tess"])])
    assert f"no student with id {ids['tess']}" in report.refused[0].message
    assert _stored(engine) == 0


def test_all_or_nothing_refuses_the_whole_batch(engine: Engine, ids: dict[str, int]) -> None:
    before = dump(engine)
    batch = [_attempt(ids, n) for n in range(4)] + [_attempt(ids, 9, step_id=10_000)]
    with pytest.raises(InputError) as caught, transaction(engine) as session:
        record_attempts(session, batch, all_or_nothing=True)
    assert [p.record for p in caught.value.problems] == ["att-9"]
    assert dump(engine) == before
