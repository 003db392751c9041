"""Experiments in the store, on the demo school: assignment stable across sessions and
devices, exclusions honoured by the planner and the practice page, nobody outside the
population ever shown a variant, and the analysis of what was recorded."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, func, select

from learnway.analytics import assign
from learnway.store import (
    ExperimentError,
    analyze_experiment,
    condition_of,
    define_experiment,
    exclude_student,
    finish_experiment,
    item_variant,
    launch_experiment,
    live_course,
    load_course,
    monitor,
    planner_config,
    recommend,
    transaction,
)
from learnway.store._schema import (
    Course,
    Enrollment,
    Experiment,
    ExperimentAssignment,
    ExperimentExposure,
    ItemRow,
    Section,
    User,
)

NOW = dt.datetime.now(dt.UTC)
TODAY = NOW.date()


def _principal(session) -> User:  # type: ignore[no-untyped-def]
    return session.scalar(select(User).where(User.username == "principal"))


def _define(session, key: str, kind: str, **kw):  # type: ignore[no-untyped-def]
    sections = sorted(session.scalars(select(Section.id)))
    population = kw.pop("population", {"sections": sections[:2]})
    conditions = kw.pop(
        "conditions",
        [{"name": "usual", "share": 1}, {"name": "no-review", "share": 1,
                                           "settings": {"review": False}}],
    )  # fmt: skip
    return define_experiment(
        session, key=key, title=key.replace("-", " "), kind=kind,
        unit=kw.pop("unit", "student"), conditions=conditions, control=conditions[0]["name"],
        population=population, outcome="mastery_per_hour",
        start_date=TODAY - dt.timedelta(days=14), end_date=TODAY + dt.timedelta(days=14),
        created_by=_principal(session), **kw,
    )  # fmt: skip


def _students_of(session, section_id: int) -> list[int]:  # type: ignore[no-untyped-def]
    return list(
        session.scalars(
            select(Enrollment.user_id).where(
                Enrollment.section_id == section_id, Enrollment.role == "student"
            )
        )
    )


def test_a_definition_with_every_mistake_is_refused_naming_each(demo_engine: Engine) -> None:
    with transaction(demo_engine) as session, pytest.raises(ExperimentError) as caught:
        define_experiment(
            session, key="X", title=" ", kind="magic", unit="school",
            conditions=[{"name": "a", "share": 0}], control="b", population={},
            outcome="happiness", start_date=TODAY, end_date=TODAY - dt.timedelta(days=1),
            created_by=_principal(session),
        )  # fmt: skip
    message = str(caught.value)
    for field in ("key", "title", "kind", "unit", "outcome", "conditions", "control",
                  "population", "end date"):  # fmt: skip
        assert field in message


def test_assignment_is_stable_across_sessions_and_devices(demo_engine: Engine) -> None:
    with transaction(demo_engine) as session:
        experiment = _define(session, "review-spacing", "review_schedule")
        launch_experiment(session, experiment, now=NOW)
        population = _students_of(session, experiment.design["population"]["sections"][0])
    seen: dict[int, set[str]] = {s: set() for s in population}
    for _device in range(3):  # three separate sessions, as three devices would open
        with transaction(demo_engine) as session:
            for s in population:
                found = condition_of(
                    session, student_id=s, kind="review_schedule", context="planner", now=NOW
                )
                assert found is not None
                seen[s].add(found.name)
    assert all(len(names) == 1 for names in seen.values())
    with transaction(demo_engine) as session:
        sourced = dict(session.execute(select(User.id, User.sourced_id)).all())
        stored = dict(
            session.execute(
                select(ExperimentAssignment.student_id, ExperimentAssignment.condition)
            ).all()
        )
        exposures = session.scalar(
            select(func.count()).where(ExperimentExposure.experiment_id == experiment.id)
        )
    # The condition is the hash of the experiment and the student, whoever computes it.
    for s in population:
        (name,) = seen[s]
        assert stored[s] == name
        assert assign("review-spacing", [f"student:{sourced[s]}"], ["usual", "no-review"],
                      [1, 1]) == [name]  # fmt: skip
    assert exposures == 3 * len(population)
    assert {n for names in seen.values() for n in names} == {"usual", "no-review"}


def test_section_assignment_gives_a_whole_section_one_condition(demo_engine: Engine) -> None:
    with transaction(demo_engine) as session:
        sections = sorted(session.scalars(select(Section.id)))
        experiment = _define(
            session, "section-review", "review_schedule", unit="section",
            population={"sections": sections},
        )  # fmt: skip
        launch_experiment(session, experiment, now=NOW)
        rows = session.execute(
            select(ExperimentAssignment.section_id, ExperimentAssignment.condition).where(
                ExperimentAssignment.experiment_id == experiment.id
            )
        ).all()
    by_section: dict[int, set[str]] = {}
    for section, name in rows:
        by_section.setdefault(section, set()).add(name)
    assert set(by_section) == set(sections)
    assert all(len(names) == 1 for names in by_section.values())


def test_an_excluded_student_gets_the_usual_planner(demo_engine: Engine) -> None:
    with transaction(demo_engine) as session:
        experiment = _define(session, "no-review-trial", "review_schedule")
        launch_experiment(session, experiment, now=NOW)
        treated = session.scalars(
            select(ExperimentAssignment.student_id).where(
                ExperimentAssignment.experiment_id == experiment.id,
                ExperimentAssignment.condition == "no-review",
            )
        ).all()
        assert treated
        student = treated[0]
        config = planner_config(session, student_id=student, now=NOW)
        assert config is not None and config.review is False
        exclude_student(
            session, experiment, student_id=student, reason="consent", by=_principal(session)
        )
    with transaction(demo_engine) as session:
        assert planner_config(session, student_id=student, now=NOW) is None
        assert (
            condition_of(session, student_id=student, kind="review_schedule", context="planner",
                         now=NOW) is None
        )  # fmt: skip
        course_id = session.scalar(select(Course.framework_id))
        live = live_course(session, load_course(session, course_id), course_id)
        assert recommend(session, live, student, now=NOW)  # the usual planner still answers
        after = session.scalar(
            select(func.count())
            .select_from(ExperimentExposure)
            .where(
                ExperimentExposure.student_id == student,
                ExperimentExposure.experiment_id == experiment.id,
            )
        )
        status = monitor(session, session.get(Experiment, experiment.id))
    assert after == 1  # the one exposure before the exclusion, none since
    assert status["excluded"] == {"consent": 1}


def test_a_student_outside_the_population_never_sees_a_variant(demo_engine: Engine) -> None:
    with transaction(demo_engine) as session:
        sections = sorted(session.scalars(select(Section.id)))
        item = session.scalars(select(ItemRow.key).order_by(ItemRow.key)).first()
        variant = session.scalars(select(ItemRow.key).order_by(ItemRow.key.desc())).first()
        assert item and variant
        experiment = _define(
            session, "worked-variant", "content_variant", target={"item": item},
            population={"sections": sections[:1]},
            conditions=[{"name": "original", "share": 1},
                        {"name": "variant", "share": 1, "settings": {"item": variant}}],
        )  # fmt: skip
        launch_experiment(session, experiment, now=NOW)
        inside = _students_of(session, sections[0])
        outside = [s for sec in sections[1:] for s in _students_of(session, sec)]
        outside = [s for s in outside if s not in inside]
        assert outside
        shown_inside = {item_variant(session, student_id=s, item_key=item, now=NOW)
                        for s in inside}  # fmt: skip
        for s in outside:
            assert item_variant(session, student_id=s, item_key=item, now=NOW) == item
            assert planner_config(session, student_id=s, now=NOW) is None
        assigned = set(
            session.scalars(
                select(ExperimentAssignment.student_id).where(
                    ExperimentAssignment.experiment_id == experiment.id
                )
            )
        )
        exposed = set(
            session.scalars(
                select(ExperimentExposure.student_id).where(
                    ExperimentExposure.experiment_id == experiment.id
                )
            )
        )
    assert shown_inside == {item, variant}
    assert not assigned & set(outside) and not exposed & set(outside)


def test_nothing_is_shown_before_launch_or_after_the_end(demo_engine: Engine) -> None:
    with transaction(demo_engine) as session:
        experiment = _define(session, "draft-only", "review_schedule")
        someone = _students_of(session, experiment.design["population"]["sections"][0])[0]
        assert planner_config(session, student_id=someone, now=NOW) is None
        launch_experiment(session, experiment, now=NOW)
        later = NOW + dt.timedelta(days=30)
        assert planner_config(session, student_id=someone, now=later) is None
        with pytest.raises(ExperimentError, match="not a draft"):
            launch_experiment(session, experiment, now=NOW)


def test_finishing_freezes_an_intention_to_treat_analysis(demo_engine: Engine) -> None:
    with transaction(demo_engine) as session:
        sections = sorted(session.scalars(select(Section.id)))
        experiment = _define(
            session, "whole-school", "review_schedule", population={"sections": sections}
        )
        launch_experiment(session, experiment, now=NOW)
        exclude_student(
            session, experiment, student_id=_students_of(session, sections[0])[0],
            reason="accommodation", by=_principal(session),
        )  # fmt: skip
        live = analyze_experiment(session, experiment, now=NOW)
        finish_experiment(session, experiment, now=NOW)
        assert experiment.status == "finished" and experiment.result is not None
        with pytest.raises(ExperimentError):
            finish_experiment(session, experiment, now=NOW)
    primary = live["outcomes"][0]
    assert primary["outcome"] == "mastery_per_hour" and primary["primary"]
    assert live["excluded"] == 1
    randomized = live["attrition"]["randomized"]
    assert sum(randomized.values()) == live["students"]
    effect = primary["effects"][0]
    assert effect["ci_low"] <= effect["estimate"] <= effect["ci_high"]
    assert 0 <= effect["p_holm"] <= 1 and effect["p_holm"] >= effect["p_value"]
    for groups in live["subgroups"].values():
        for g in groups["groups"]:
            assert g["suppressed"] == (g["estimate"] is None)


def test_the_demo_school_ships_a_finished_and_a_running_experiment(demo_engine: Engine) -> None:
    with transaction(demo_engine) as session:
        shipped = {e.key: e for e in session.scalars(select(Experiment))}
        finished, running = shipped["demo-spaced-review"], shipped["demo-check-ins"]
        assert finished.status == "finished" and running.status == "running"
        assert finished.result is not None and finished.result["outcomes"][0]["effects"]
        assert running.start_date <= TODAY <= running.end_date
        status = monitor(session, running)
    assert sum(c["students"] for c in status["conditions"]) >= 80
    assert status["exposures"] > 0


def test_a_student_who_joins_later_is_assigned_by_the_same_hash(demo_engine: Engine) -> None:
    with transaction(demo_engine) as session:
        experiment = _define(session, "late-joiner", "review_schedule")
        launch_experiment(session, experiment, now=NOW)
        section = experiment.design["population"]["sections"][0]
        school = session.scalar(select(Section.school_id).where(Section.id == section))
        newcomer = User(sourced_id="late-1", username="late1", given_name="Late",
                        family_name="Joiner", role="student", org_id=school)  # fmt: skip
        session.add(newcomer)
        session.flush()
        session.add(Enrollment(sourced_id="late-enr-1", section_id=section,
                               user_id=newcomer.id, role="student"))  # fmt: skip
        session.flush()
        first = condition_of(session, student_id=newcomer.id, kind="review_schedule",
                             context="planner", now=NOW)  # fmt: skip
    with transaction(demo_engine) as session:
        second = condition_of(session, student_id=newcomer.id, kind="review_schedule",
                              context="practice", now=NOW)  # fmt: skip
    assert first is not None and second is not None and first.name == second.name
    assert [first.name] == assign("late-joiner", ["student:late-1"], ["usual", "no-review"], [1, 1])
