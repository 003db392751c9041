"""The live learner state: updated with each attempt, equal to a replay, true to the evidence."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select, update

from learnway.paths import (
    P_MAX,
    P_MIN,
    BKTParams,
    CompetencyGraph,
    LearnerState,
    MasteryPolicy,
    Status,
    apply_attempts,
    mastery_status,
)
from learnway.store import (
    JOB_HANDLERS,
    AttemptIn,
    daily_growth,
    learner_state,
    live_course,
    load_course,
    load_state,
    mastered_counts,
    record_practice,
    run_pending,
    transaction,
    updating_students,
)
from learnway.store._jobs import LEASE, enqueue, run_one
from learnway.store._schema import (
    Attempt,
    CompetencyRow,
    FrameworkRow,
    Job,
    Mastery,
    MasteryEvent,
    StepAlignment,
    StepRow,
    User,
)

CHAIN = CompetencyGraph.from_edges(
    ["a", "b", "c", "d", "e"], [("a", "b"), ("b", "c"), ("c", "d"), ("b", "e")]
)
PARAMS = BKTParams.uniform(5, p_init=0.1, p_learn=0.15, p_guess=0.2, p_slip=0.1, p_forget=0.02)
STATE_FIELDS = ("p_known", "evidence", "attempts", "no_progress", "peak", "hint_rate", "reviews")


def _school(engine: Engine) -> tuple[int, list[int]]:
    with transaction(engine) as session:
        framework_id = session.scalar(
            select(FrameworkRow.id).where(FrameworkRow.key.like("oatutor-%"))
        )
        students = session.scalars(
            select(User.id).where(User.role == "student").order_by(User.username)
        ).all()
    assert framework_id is not None
    return framework_id, list(students)


def _steps(engine: Engine, framework_id: int, n: int) -> list[int]:
    """Steps aligned to exactly one competency of the course, spread over it."""
    with transaction(engine) as session:
        single = (
            select(StepAlignment.step_id)
            .group_by(StepAlignment.step_id)
            .having(func.count() == 1)
            .subquery()
        )
        steps = session.scalars(
            select(StepRow.id)
            .join(single, single.c.step_id == StepRow.id)
            .join(StepAlignment, StepAlignment.step_id == StepRow.id)
            .join(CompetencyRow, CompetencyRow.id == StepAlignment.competency_id)
            .where(CompetencyRow.framework_id == framework_id)
            .order_by(CompetencyRow.sequence, StepRow.id)
        ).all()
    return [steps[int(i)] for i in np.linspace(0, len(steps) - 1, n)]


def _assert_same(stored: LearnerState, replayed: LearnerState) -> None:
    for name in STATE_FIELDS:
        np.testing.assert_allclose(getattr(stored, name), getattr(replayed, name), err_msg=name)
    np.testing.assert_allclose(stored.last_seen, replayed.last_seen, rtol=0, atol=1e-9)


def test_each_answer_updates_the_stored_state_as_a_replay_would(demo_engine: Engine) -> None:
    framework_id, students = _school(demo_engine)
    student = students[3]
    steps = _steps(demo_engine, framework_id, 6)
    start = dt.datetime.now(dt.UTC)
    with transaction(demo_engine) as session:
        course = load_course(session, framework_id)
    for n in range(12):
        attempt = AttemptIn(
            id=f"live-{n}", student_id=student, step_id=steps[n % len(steps)],
            correct=n % 3 != 1, timestamp=start + dt.timedelta(minutes=n), hints_used=n % 4 == 3,
        )  # fmt: skip
        with transaction(demo_engine) as session:
            record_practice(session, course, framework_id, [attempt])
    with transaction(demo_engine) as session:
        live = live_course(session, course, framework_id)
        stored = load_state(session, live, [student])
        replayed = learner_state(session, course, [student])
        assert updating_students(session, [student]) == set()
    _assert_same(stored, replayed)


@pytest.mark.parametrize("demo_template", ["sqlite"], indirect=True)
def test_an_answer_stored_while_another_was_being_computed_is_not_lost(
    demo_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new state is computed before the attempt is written; when another answer of the
    same student is committed in between (SQLite: reads take no lock; on PostgreSQL the
    student's row lock, taken before the read, makes the other wait), the state is brought up
    to date again, so it still equals a replay of both."""
    from learnway.store import _state

    framework_id, students = _school(demo_engine)
    student = students[4]
    (step,) = _steps(demo_engine, framework_id, 1)
    start = dt.datetime.now(dt.UTC)
    with transaction(demo_engine) as session:
        course = load_course(session, framework_id)
    computed = _state._prepare

    def meanwhile(*args: object, **kwargs: object) -> object:
        ahead = computed(*args, **kwargs)  # type: ignore[arg-type]
        monkeypatch.setattr(_state, "_prepare", computed)
        with transaction(demo_engine) as other:
            record_practice(other, course, framework_id, [AttemptIn(
                id="meanwhile", student_id=student, step_id=step, correct=True,
                timestamp=start,
            )])  # fmt: skip
        return ahead

    monkeypatch.setattr(_state, "_prepare", meanwhile)
    with transaction(demo_engine) as session:
        report = record_practice(session, course, framework_id, [AttemptIn(
            id="first", student_id=student, step_id=step, correct=False,
            timestamp=start + dt.timedelta(minutes=1),
        )])  # fmt: skip
    assert report.stored == ["first"]
    with transaction(demo_engine) as session:
        live = live_course(session, course, framework_id)
        stored = load_state(session, live, [student])
        replayed = learner_state(session, course, [student])
        both = select(func.count()).where(Attempt.id.in_(["first", "meanwhile"]))
        assert session.scalar(both) == 2
    _assert_same(stored, replayed)


def test_a_late_attempt_queues_a_replay_and_the_worker_catches_up(demo_engine: Engine) -> None:
    framework_id, students = _school(demo_engine)
    student = students[5]
    (step,) = _steps(demo_engine, framework_id, 1)
    with transaction(demo_engine) as session:
        course = load_course(session, framework_id)
        first = session.scalar(select(func.min(Attempt.timestamp)))
        events_before = session.scalar(
            select(func.count()).where(MasteryEvent.student_id == student)
        )
    assert first is not None and events_before
    late = AttemptIn(
        id="offline-1", student_id=student, step_id=step, correct=False,
        timestamp=first - dt.timedelta(days=1), source="import",
    )  # fmt: skip
    with transaction(demo_engine) as session:
        live = live_course(session, course, framework_id)
        untouched = load_state(session, live, [student])
        report = record_practice(session, course, framework_id, [late])
    assert report.stored == ["offline-1"]
    with transaction(demo_engine) as session:
        assert updating_students(session, [student, students[0]]) == {student}
        _assert_same(load_state(session, live, [student]), untouched)  # not half-applied
    assert run_pending(demo_engine, JOB_HANDLERS) == 1
    with transaction(demo_engine) as session:
        assert updating_students(session, [student]) == set()
        _assert_same(
            load_state(session, live, [student]), learner_state(session, course, [student])
        )
        attempt_events = session.scalars(
            select(MasteryEvent.attempt_id).where(MasteryEvent.student_id == student)
        ).all()
    assert "offline-1" in attempt_events or len(attempt_events) >= events_before


def test_a_job_whose_worker_died_is_run_again_after_its_lease(demo_engine: Engine) -> None:
    framework_id, students = _school(demo_engine)
    payload = {"student_id": students[2], "framework_id": framework_id}
    with transaction(demo_engine) as session:
        enqueue(session, "replay_student", key="k", payload=payload)
        assert not enqueue(session, "replay_student", key="k", payload=payload)  # covered
    calls = []

    def dies(session: object, payload: object) -> None:
        calls.append(payload)
        raise SystemExit("killed")  # not an Exception: the worker's process is gone

    with pytest.raises(SystemExit):
        run_one(demo_engine, {"replay_student": dies})
    with transaction(demo_engine) as session:
        (job,) = session.scalars(select(Job)).all()
        assert job.status == "running"
        assert run_one(demo_engine, JOB_HANDLERS) is False  # its lease still holds
        session.execute(
            update(Job).values(locked_at=dt.datetime.now(dt.UTC) - LEASE - dt.timedelta(seconds=1))
        )
    assert run_one(demo_engine, JOB_HANDLERS) is True
    with transaction(demo_engine) as session:
        job = session.scalars(select(Job)).one()
        assert (job.status, job.tries) == ("done", 2)


def test_demo_school_shows_no_mastery_without_direct_evidence(demo_engine: Engine) -> None:
    with transaction(demo_engine) as session:
        statuses = dict(
            session.execute(select(Mastery.status, func.count()).group_by(Mastery.status)).all()
        )
        undeserved = session.scalar(
            select(func.count()).where(
                Mastery.status.in_(("mastered", "due_for_review")), Mastery.evidence_count == 0
            )
        )
        bounds = session.execute(
            select(func.min(Mastery.p_mastery), func.max(Mastery.p_mastery))
        ).one()
    assert statuses.get("mastered", 0) > 0 and statuses.get("likely_known", 0) > 0
    assert undeserved == 0
    assert bounds[0] > 0 and bounds[1] < 1


def test_growth_from_events_ends_at_the_count_the_path_shows(demo_engine: Engine) -> None:
    framework_id, students = _school(demo_engine)
    with transaction(demo_engine) as session:
        course = load_course(session, framework_id)
        live = live_course(session, course, framework_id)
        counts = mastered_counts(session, students[:10])
        for student in students[:10]:
            growth = daily_growth(session, live, student)
            assert growth and growth[-1][1] == counts[student]
            assert [g[2] for g in growth] == sorted(g[2] for g in growth)
            state = load_state(session, live, [student])
            status = mastery_status(state, live.policy, growth[-1][0].toordinal() - 719163 + 1)
            shown = np.isin(status, (Status.MASTERED, Status.DUE_FOR_REVIEW)).sum()
            assert shown == counts[student]


# --- properties of the learner state (pure) ---------------------------------------------------

answers = st.lists(
    st.tuples(st.integers(0, 4), st.booleans(), st.integers(0, 2), st.floats(0, 3)),
    min_size=1,
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(answers)
def test_the_estimate_follows_the_evidence(sequence: list[tuple[int, bool, int, float]]) -> None:
    graph, params = CHAIN, PARAMS
    policy = MasteryPolicy(threshold=0.85, min_evidence=3)
    state, now = LearnerState.new(1, params), 0.0
    for c, correct, hints, gap in sequence:
        now += gap
        after = apply_attempts(
            state, [0], [c], [correct], now=[now], params=params, graph=graph, policy=policy,
            hints=[hints],
        )  # fmt: skip
        before_p, after_p = state.p_known[0, c], after.p_known[0, c]
        if correct and not hints:  # a right answer raises the estimate, a wrong one lowers it
            assert after_p > before_p or after_p == P_MAX
        else:
            assert after_p < before_p or after_p == P_MIN
        assert np.all((after.p_known > 0) & (after.p_known < 1))  # no absorbing state
        status = mastery_status(after, policy, now)
        mastered = np.isin(status, (Status.MASTERED, Status.DUE_FOR_REVIEW))
        assert np.all(after.attempts[0][mastered[0]] >= 1)  # mastered implies direct evidence
        assert np.all(after.evidence[0][mastered[0]] >= 3)  # and min_evidence in all
        assert np.all(after.p_known[mastered] >= 0.85)  # status and probability agree
        state = after


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 20))
def test_wrong_answers_bring_a_mastered_competency_back(rights: int) -> None:
    graph, params = CHAIN, PARAMS
    policy = MasteryPolicy(threshold=0.85, min_evidence=3)
    state = LearnerState.new(1, params)
    day = 0.0
    for _ in range(rights + 3):
        day += 0.01
        state = apply_attempts(
            state, [0], [0], [True], now=[day], params=params, graph=graph, policy=policy
        )
    assert mastery_status(state, policy, day)[0, 0] == Status.MASTERED
    wrongs = 0
    while mastery_status(state, policy, day)[0, 0] == Status.MASTERED and wrongs < 20:
        day += 0.01
        wrongs += 1
        state = apply_attempts(
            state, [0], [0], [False], now=[day], params=params, graph=graph, policy=policy
        )
    assert wrongs <= 3


# --- properties through the store, on both databases ------------------------------------------


@settings(
    max_examples=12, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip
@given(st.lists(st.tuples(st.integers(0, 5), st.booleans(), st.booleans()), min_size=1,
                max_size=15))  # fmt: skip
def test_stored_state_follows_the_evidence(
    demo_engine: Engine, sequence: list[tuple[int, bool, bool]]
) -> None:
    framework_id, students = _school(demo_engine)
    steps = _steps(demo_engine, framework_id, 6)
    with transaction(demo_engine) as session:
        course = load_course(session, framework_id)
        live = live_course(session, course, framework_id)
        student = students[len(sequence) % len(students)]
        start = session.scalar(select(func.max(Attempt.timestamp))) + dt.timedelta(minutes=1)
        aligned = dict(
            session.execute(
                select(StepAlignment.step_id, CompetencyRow.code)
                .join(CompetencyRow, CompetencyRow.id == StepAlignment.competency_id)
                .where(StepAlignment.step_id.in_(steps))
            ).all()
        )
    for n, (k, correct, hinted) in enumerate(sequence):
        column = course.graph.index[aligned[steps[k]]]
        with transaction(demo_engine) as session:
            before = load_state(session, live, [student]).p_known[0, column]
            record_practice(
                session, course, framework_id,
                [AttemptIn(id=f"prop-{student}-{start.timestamp()}-{n}", student_id=student,
                           step_id=steps[k], correct=correct, hints_used=int(hinted),
                           timestamp=start + dt.timedelta(minutes=n))],
            )  # fmt: skip
            state = load_state(session, live, [student])
            rows = session.execute(
                select(Mastery.status, Mastery.p_mastery, Mastery.evidence_count).where(
                    Mastery.student_id == student, Mastery.model_version == live.version
                )
            ).all()
        after = state.p_known[0, column]
        assert (after >= before) if correct and not hinted else (after <= before)
        assert np.all((state.p_known > 0) & (state.p_known < 1))
        for status, p, direct in rows:
            if status in ("mastered", "due_for_review"):
                assert direct >= 1 and p >= 0.85 - 1e-9
