"""The live path and the benchmark recommend the same: a simulated student taught by the
benchmark's planner policy, each answer recorded through the service functions the practice
route calls, gets the same ranked list from the store as from the benchmark."""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import Engine, func, select

from learnway.paths import Planner
from learnway.sim import PlannerPolicy, practise, sample_students
from learnway.store import AttemptIn, live_course, load_course, record_practice, transaction
from learnway.store._progress import day_of
from learnway.store._schema import (
    CompetencyRow,
    FrameworkRow,
    Org,
    StepAlignment,
    StepRow,
    User,
)
from learnway.store._state import recommend


def _single_steps(engine: Engine, framework_id: int) -> dict[str, int]:
    """One step per competency among the steps aligned to that competency alone."""
    with transaction(engine) as session:
        single = (
            select(StepAlignment.step_id)
            .group_by(StepAlignment.step_id)
            .having(func.count() == 1)
            .subquery()
        )
        rows = session.execute(
            select(CompetencyRow.code, func.min(StepRow.id))
            .join(StepAlignment, StepAlignment.competency_id == CompetencyRow.id)
            .join(single, single.c.step_id == StepAlignment.step_id)
            .join(StepRow, StepRow.id == StepAlignment.step_id)
            .where(CompetencyRow.framework_id == framework_id)
            .group_by(CompetencyRow.code)
        ).all()
    return {code: step for code, step in rows}


def test_the_store_and_the_benchmark_give_the_same_recommendations(demo_engine: Engine) -> None:
    with transaction(demo_engine) as session:
        framework_id = session.scalar(
            select(FrameworkRow.id).where(FrameworkRow.key.like("oatutor-%"))
        )
        assert framework_id is not None
        org = session.scalars(select(Org.id)).first()
        student = User(
            sourced_id="sim-replay", username="sim-replay", given_name="Sim",
            family_name="Replay", role="student", org_id=org,
        )  # fmt: skip
        session.add(student)
        session.flush()
        student_id = student.id
        course = load_course(session, framework_id)
        live = live_course(session, course, framework_id)
    steps = _single_steps(demo_engine, framework_id)
    planner = Planner(course.graph, course.bank, course.params, policy=live.policy)
    policy = PlannerPolicy(planner)
    rng = np.random.default_rng(11)
    truth = sample_students(course.graph, 1, rng)
    start = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    policy.start(truth, day_of(start))
    row = np.zeros(1, dtype=np.int64)
    compared = 0
    for n in range(40):
        moment = start + dt.timedelta(days=n // 10, minutes=3 * (n % 10))
        now = day_of(moment)
        (choice,) = policy.choose(row, now)
        code = course.graph.codes[choice]
        if code not in steps:  # only steps aligned to one competency: the same observation
            choice = course.graph.index[next(c for c in course.graph.codes if c in steps)]
            code = course.graph.codes[choice]
        comp = np.array([choice])
        correct, hints, _ = practise(truth, row, comp, now, course.graph, rng)
        policy.observe(row, comp, correct, hints, now)
        with transaction(demo_engine) as session:
            record_practice(
                session, course, framework_id,
                [AttemptIn(id=f"sim-{n}", student_id=student_id, step_id=steps[code],
                           correct=bool(correct[0]), timestamp=moment,
                           hints_used=int(hints[0]), source="simulation")],
            )  # fmt: skip
        if n % 7 == 6:
            later = moment + dt.timedelta(hours=20)
            with transaction(demo_engine) as session:
                stored = recommend(session, live, student_id, now=later)
            benchmark = planner.recommend(policy.state, day_of(later), origin=dt.date(1970, 1, 1))
            assert [(r.competency, r.activity, [x.code for x in r.reasons]) for r in stored] == [
                (r.competency, r.activity, [x.code for x in r.reasons]) for r in benchmark
            ]
            compared += 1
    assert compared == 5
