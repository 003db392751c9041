"""From stored attempts to mastery and recommendations, on the demo school."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import Engine, func, select

from learnway.content import read_oatutor
from learnway.data import ELEMENTARY_ALGEBRA
from learnway.paths import LearnerState, apply_attempts
from learnway.store import (
    AttemptIn,
    course_of_student,
    learner_state,
    live_course,
    load_course,
    load_framework,
    recommend,
    record_practice,
    transaction,
)
from learnway.store._schema import Attempt, CompetencyRow, FrameworkRow, Mastery, StepRow, User


def _setting(engine: Engine) -> tuple[int, list[int]]:
    with transaction(engine) as session:
        framework_id = session.scalar(
            select(FrameworkRow.id).where(FrameworkRow.key.like("oatutor-%"))
        )
        students = session.scalars(
            select(User.id).where(User.role == "student").order_by(User.username)
        ).all()
    assert framework_id is not None
    return framework_id, list(students)


def test_stored_framework_reads_back_as_imported(demo_engine: Engine) -> None:
    framework_id, _ = _setting(demo_engine)
    with transaction(demo_engine) as session:
        stored = load_framework(session, framework_id)
    imported = read_oatutor(ELEMENTARY_ALGEBRA).framework
    assert stored.competencies == imported.competencies
    assert set(stored.prerequisites) == set(imported.prerequisites)
    assert (stored.key, stored.attribution) == (imported.key, imported.attribution)


def test_demo_history_made_mastery(demo_engine: Engine) -> None:
    framework_id, students = _setting(demo_engine)
    with transaction(demo_engine) as session:
        attempts = session.scalar(select(func.count()).select_from(Attempt)) or 0
        per_student = dict(
            session.execute(
                select(Attempt.student_id, func.count()).group_by(Attempt.student_id)
            ).all()
        )
        statuses = dict(
            session.execute(select(Mastery.status, func.count()).group_by(Mastery.status)).all()
        )
        assert course_of_student(session, students[0]) == framework_id
    assert attempts > 10_000
    assert set(per_student) == set(students)
    assert statuses.get("mastered", 0) > 0 and statuses.get("practicing", 0) > 0


def test_replay_equals_one_attempt_at_a_time(demo_engine: Engine) -> None:
    framework_id, students = _setting(demo_engine)
    with transaction(demo_engine) as session:
        course = load_course(session, framework_id)
        together = learner_state(session, course, students[:3])
        alone = [learner_state(session, course, [s]) for s in students[:3]]
        rows = session.execute(
            select(Attempt.correct, Attempt.hints_used, Attempt.timestamp, StepRow.key)
            .join(StepRow, StepRow.id == Attempt.step_id)
            .where(Attempt.student_id == students[1])
            .order_by(Attempt.timestamp, Attempt.id)
        ).all()
    for i in range(3):
        np.testing.assert_allclose(together.p_known[i], alone[i].p_known[0])
    # the same history applied by hand, one attempt after another
    aligned = {s.key: s.competencies for s in read_oatutor(ELEMENTARY_ALGEBRA).steps}
    state = LearnerState.new(1, course.params)
    policy = course.policy()
    for correct, hints, stamp, step in rows:
        for code in aligned[step]:
            if code in course.graph.index:
                state = apply_attempts(
                    state, [0], [course.graph.index[code]], [correct],
                    now=stamp.timestamp() / 86400, params=course.params, graph=course.graph,
                    policy=policy, hints=[hints],
                )  # fmt: skip
    np.testing.assert_allclose(state.p_known[0], together.p_known[1])


def _stored_mastery(engine: Engine, student: int, code: str) -> tuple[float, int] | None:
    with transaction(engine) as session:
        row = session.execute(
            select(Mastery.p_mastery, Mastery.evidence_count)
            .join(CompetencyRow, CompetencyRow.id == Mastery.competency_id)
            .where(Mastery.student_id == student, CompetencyRow.code == code)
        ).first()
    return None if row is None else (row[0], row[1])


def test_practice_updates_mastery_at_once(demo_engine: Engine) -> None:
    framework_id, students = _setting(demo_engine)
    student = students[0]
    now = dt.datetime.now(dt.UTC)
    with transaction(demo_engine) as session:
        course = load_course(session, framework_id)
        first = recommend(session, live_course(session, course, framework_id), student, now=now)
        assert 3 <= len(first) <= 5
        assert all(r.reasons and r.reasons[0].text for r in first)
        pick = next(r for r in first if not r.activity.key.endswith("#practice"))
        step_id = session.scalar(select(StepRow.id).where(StepRow.key == pick.activity.key))
    assert step_id is not None
    before = _stored_mastery(demo_engine, student, pick.competency)
    attempts = [
        AttemptIn(
            id=f"test-{n}",
            student_id=student,
            step_id=step_id,
            correct=True,
            timestamp=now + dt.timedelta(minutes=n),
            hints_used=0,
            duration_s=30.0,
        )
        for n in range(3)
    ]
    with transaction(demo_engine) as session:
        report = record_practice(session, course, framework_id, attempts, now=now)
    assert len(report.stored) == 3
    after = _stored_mastery(demo_engine, student, pick.competency)
    assert after is not None
    p_before, evidence_before = before or (float(course.params.p_init[0]), 0)
    assert after[0] >= p_before and after[0] > 0.5
    assert after[1] >= evidence_before + 3
    with transaction(demo_engine) as session:  # sending the same attempts again changes nothing
        again = record_practice(session, course, framework_id, attempts, now=now)
    assert again.stored == [] and len(again.duplicates) == 3
    assert _stored_mastery(demo_engine, student, pick.competency) == after


def test_unknown_framework() -> None:
    from learnway.store import make_engine, upgrade

    engine = make_engine("sqlite://")
    upgrade(engine)
    with transaction(engine) as session, pytest.raises(LookupError):
        load_framework(session, 12345)
