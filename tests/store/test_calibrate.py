"""Calibrating a course's knowledge tracing on the school's stored attempts (demo school)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from dbdump import dump
from learnway.content import read_oatutor
from learnway.data import ELEMENTARY_ALGEBRA
from learnway.learner import BKT
from learnway.store import (
    CalibrationReport,
    active_version,
    attempt_table,
    build_model,
    calibrate_course,
    learner_state,
    live_course,
    load_course,
    load_framework,
    record_practice,
    replay_students,
    transaction,
)
from learnway.store._attempts import AttemptIn
from learnway.store._calibrate import BKT_FAMILIES, CANDIDATES, LIVE_FAMILIES
from learnway.store._load import save_course
from learnway.store._schema import (
    KT_PARAMETERS,
    Attempt,
    CompetencyFit,
    CompetencyRow,
    FrameworkRow,
    LearnerModelRow,
    LearnerModelState,
    Mastery,
    StepAlignment,
    User,
)


def _calibrate(engine: Engine, framework_id: int, **options: Any) -> CalibrationReport:
    """Fit and record a new model version, then build it and swap it in, as `learnway
    calibrate` does."""
    with transaction(engine) as session:
        report = calibrate_course(session, framework_id, **options)
    if report.version is not None:
        build_model(engine, report.version)
    return report


def _framework(engine: Engine) -> int:
    with transaction(engine) as session:
        framework_id = session.scalar(
            select(FrameworkRow.id).where(FrameworkRow.key.like("oatutor-%"))
        )
    assert framework_id is not None
    return framework_id


def _params(engine: Engine, framework_id: int) -> dict[str, tuple[float | None, ...]]:
    """The parameters the planner uses, per competency code."""
    with transaction(engine) as session:
        framework = load_framework(session, framework_id)
    return {
        c.code: tuple(getattr(c, name) for name in KT_PARAMETERS) for c in framework.competencies
    }


def _defaults(engine: Engine, framework_id: int) -> dict[str, tuple[float | None, ...]]:
    """The content's parameters, as imported."""
    columns = [getattr(CompetencyRow, name) for name in KT_PARAMETERS]
    with transaction(engine) as session:
        rows = session.execute(
            select(CompetencyRow.code, *columns).where(CompetencyRow.framework_id == framework_id)
        ).all()
    return {code: tuple(values) for code, *values in rows}


def test_attempt_table_holds_every_aligned_attempt(demo_engine: Engine) -> None:
    framework_id = _framework(demo_engine)
    aligned = (
        select(func.count())
        .select_from(Attempt)
        .join(StepAlignment, StepAlignment.step_id == Attempt.step_id)
        .join(CompetencyRow, CompetencyRow.id == StepAlignment.competency_id)
        .where(CompetencyRow.framework_id == framework_id)
    )
    with transaction(demo_engine) as session:
        # one right answer found after two hints
        first = session.scalar(select(Attempt.id).where(Attempt.correct).order_by(Attempt.id))
        session.execute(update(Attempt).where(Attempt.id == first).values(hints_used=2))
    with transaction(demo_engine) as session:
        table = attempt_table(session, framework_id)
        total = session.scalar(aligned)
        right_unhinted = session.scalar(aligned.where(Attempt.correct, Attempt.hints_used == 0))
        hinted_right = session.scalar(aligned.where(Attempt.correct, Attempt.hints_used > 0))
    assert len(table) == total and total > 1000
    # an answer found after a hint counts as wrong
    assert hinted_right and table["correct"].sum() == right_unhinted


def test_calibration_stores_the_fit_and_replays_mastery(demo_engine: Engine) -> None:
    framework_id = _framework(demo_engine)
    before, defaults = _params(demo_engine, framework_id), _defaults(demo_engine, framework_id)
    with transaction(demo_engine) as session:
        table = attempt_table(session, framework_id)
    report = _calibrate(
        demo_engine, framework_id, min_attempts=100, min_students=10, candidates=BKT_FAMILIES
    )
    after = _params(demo_engine, framework_id)
    with transaction(demo_engine) as session:
        assert active_version(session, framework_id) == report.version
    assert _defaults(demo_engine, framework_id) == defaults  # the content's values stay

    counts = table.groupby("competency_id").agg(
        n=("correct", "size"), students=("student_id", "nunique")
    )
    expected = set(counts.index[(counts["n"] >= 100) & (counts["students"] >= 10)])
    assert set(report.fitted) == expected and expected
    assert set(report.kept) == set(counts.index) - expected
    assert report.attempts == len(table) and report.students == table["student_id"].nunique()

    # the stored parameters are the fit of BKT on those attempts, nothing else changed
    fitted = table[table["competency_id"].isin(expected)]
    assert report.family in ("bkt", "bkt-forgetting")
    assert {c["name"] for c in report.candidates} == {"bkt", "bkt-forgetting"}
    best = max(report.candidates, key=lambda c: float(c["mean_auc"]))
    assert best["name"] == report.family  # the better held-out figure serves
    forgetting = report.family == "bkt-forgetting"
    model = BKT(forgetting=forgetting, n_restarts=5, random_state=0).fit(fitted)
    for code in report.fitted:
        k = model.competency_index_[code]
        want = (model.prior_[k], model.learn_[k], model.guess_[k], model.slip_[k], model.forget_[k])
        assert after[code] == pytest.approx(want)
        assert after[code] != before[code]
    assert all(after[code] == before[code] for code in set(before) - expected)
    with transaction(demo_engine) as session:
        fits = session.execute(
            select(CompetencyRow.code, CompetencyFit.attempts, CompetencyFit.students).join(
                CompetencyRow, CompetencyRow.id == CompetencyFit.competency_id
            )
        ).all()
    assert {code: (n, k) for code, n, k in fits} == {
        code: (counts.at[code, "n"], counts.at[code, "students"]) for code in expected
    }

    # every student's mastery is the replay of their attempts under the new parameters
    with transaction(demo_engine) as session:
        course = load_course(session, framework_id)
        students = sorted(set(table["student_id"].tolist()))
        state = learner_state(session, course, students)
        stored = session.execute(
            select(Mastery.student_id, CompetencyRow.code, Mastery.p_mastery).join(
                CompetencyRow, CompetencyRow.id == Mastery.competency_id
            )
        ).all()
        versions = set(session.scalars(select(Mastery.model_version)))
    assert versions == {report.version}  # the old version's state is gone with the swap
    row_of = {s: i for i, s in enumerate(students)}
    assert len(stored) == int((state.evidence > 0).sum())
    for student, code, p in stored:
        assert p == pytest.approx(state.p_known[row_of[student], course.graph.index[code]])
    fitted_column = course.graph.index[report.fitted[0]]
    assert course.params.p_learn[fitted_column] == pytest.approx(after[report.fitted[0]][1])
    assert course.params.p_forget[fitted_column] == pytest.approx(after[report.fitted[0]][4])


def test_calibrating_again_on_the_same_attempts_changes_nothing(demo_engine: Engine) -> None:
    framework_id = _framework(demo_engine)

    def state() -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        with transaction(demo_engine) as session:
            mastery = session.execute(
                select(Mastery.student_id, Mastery.competency_id, Mastery.p_mastery,
                       Mastery.evidence_count, Mastery.status)
                .order_by(Mastery.student_id, Mastery.competency_id)
            ).all()  # fmt: skip
            fits = session.execute(
                select(*(getattr(CompetencyFit, n) for n in ("competency_id", *KT_PARAMETERS)))
                .order_by(CompetencyFit.competency_id)
            ).all()  # fmt: skip
        return [tuple(r) for r in mastery], [tuple(r) for r in fits]

    first_report = _calibrate(demo_engine, framework_id, candidates=BKT_FAMILIES)
    first = state()
    second_report = _calibrate(demo_engine, framework_id, candidates=BKT_FAMILIES)
    assert state() == first and first[0] and first[1]
    assert second_report.version != first_report.version
    with transaction(demo_engine) as session:
        statuses = dict(session.execute(select(LearnerModelRow.id, LearnerModelRow.status)).all())
    assert statuses == {first_report.version: "retired", second_report.version: "active"}


def test_importing_the_content_again_keeps_the_fitted_parameters(demo_engine: Engine) -> None:
    framework_id = _framework(demo_engine)
    report = _calibrate(demo_engine, framework_id, candidates=BKT_FAMILIES)
    fitted = _params(demo_engine, framework_id)
    before = dump(demo_engine)
    with transaction(demo_engine) as session:
        imported = save_course(session, read_oatutor(ELEMENTARY_ALGEBRA))
    assert imported.changed == 0 and dump(demo_engine) == before
    assert _params(demo_engine, framework_id) == fitted
    code = report.fitted[0]
    assert fitted[code] != _defaults(demo_engine, framework_id)[code]


def test_too_little_evidence_fits_nothing_and_writes_nothing(demo_engine: Engine) -> None:
    framework_id = _framework(demo_engine)
    before = dump(demo_engine)
    with transaction(demo_engine) as session:
        report = calibrate_course(session, framework_id, min_students=10_000)
    assert report.fitted == () and report.kept and report.version is None
    assert dump(demo_engine) == before


def test_a_build_that_fails_half_way_changes_nothing_shown(
    demo_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import learnway.store._calibrate as calibration

    framework_id = _framework(demo_engine)
    real, calls = calibration.replay_students, []

    def broken(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(calibration, "CHUNK", 30)
    monkeypatch.setattr(calibration, "replay_students", broken)
    shown = ("mastery", "mastery_events", "competency_fits")
    before = {k: v for k, v in dump(demo_engine).items() if k in shown}
    with transaction(demo_engine) as session:
        report = calibrate_course(session, framework_id)
    assert report.version is not None
    with pytest.raises(RuntimeError, match="disk full"):
        build_model(demo_engine, report.version)
    after = dump(demo_engine)
    with transaction(demo_engine) as session:
        assert active_version(session, framework_id) == 0
    live = [r for r in after["mastery"] if r[2] == 0]  # the live version's rows, untouched
    assert live == before["mastery"] and after["competency_fits"] == before["competency_fits"]
    monkeypatch.setattr(calibration, "replay_students", real)
    build_model(demo_engine, report.version)  # run again, it completes and swaps
    with transaction(demo_engine) as session:
        assert active_version(session, framework_id) == report.version


def test_unknown_course_is_refused(demo_engine: Engine) -> None:
    with transaction(demo_engine) as session:
        missing = (session.scalar(select(func.max(FrameworkRow.id))) or 0) + 1
        with pytest.raises(LookupError, match="no framework"):
            calibrate_course(session, missing)


def test_every_live_family_is_compared_and_the_best_held_out_serves(demo_engine: Engine) -> None:
    framework_id = _framework(demo_engine)
    compared = tuple(f for f in LIVE_FAMILIES if f != "dkt")  # the LSTM: minutes on a CPU
    report = _calibrate(demo_engine, framework_id, candidates=compared)
    assert [c["name"] for c in report.candidates] == list(compared)
    assert all(0.5 < c["mean_auc"] < 1 and 0 <= c["mean_ece"] < 0.5 for c in report.candidates)
    best = max(report.candidates, key=lambda c: float(c["mean_auc"]))
    assert report.family == best["name"]
    with transaction(demo_engine) as session:
        row = session.get_one(LearnerModelRow, report.version)
        assert row.status == "active" and row.family == report.family
        assert [c["name"] for c in row.figures["held_out"]] == list(compared)
        assert (row.model is None) == (report.family in BKT_FAMILIES)


@pytest.mark.parametrize("family", ["elo", "best-lr+"])
def test_a_model_other_than_bkt_serves_answer_by_answer_as_its_replay(
    demo_engine: Engine, family: str
) -> None:
    """Under a fitted Elo or logistic model, the state kept one answer at a time (the live
    path) equals the replay of the same attempts, and every estimate is the model's own."""
    framework_id = _framework(demo_engine)
    report = _calibrate(demo_engine, framework_id, candidates=(family,))
    assert report.family == family and report.version
    with transaction(demo_engine) as session:
        course = load_course(session, framework_id)
        live = live_course(session, course, framework_id)
        assert live.model is not None and live.version == report.version
        student = session.scalar(select(User.id).where(User.role == "student").order_by(User.id))
        steps = session.scalars(select(StepAlignment.step_id).limit(40)).all()
    assert student is not None
    now = dt.datetime.now(dt.UTC)
    for k, step in enumerate(steps):
        moment = now + dt.timedelta(minutes=k)
        attempt = AttemptIn(id=f"live-{family}-{k}", student_id=student, step_id=step,
                            correct=k % 3 != 0, timestamp=moment)  # fmt: skip
        with transaction(demo_engine) as session:
            record_practice(session, course, framework_id, [attempt], live=live)

    def stored() -> dict[tuple[int, int], tuple[float, int, str]]:
        with transaction(demo_engine) as session:
            rows = session.execute(
                select(Mastery.student_id, Mastery.competency_id, Mastery.p_mastery,
                       Mastery.evidence_count, Mastery.status)
                .where(Mastery.student_id == student, Mastery.model_version == live.version)
            ).all()  # fmt: skip
            belief = session.scalar(
                select(LearnerModelState.state).where(LearnerModelState.student_id == student)
            )
        assert belief is not None
        return {(s, c): (p, n, st) for s, c, p, n, st in rows}

    incremental = stored()
    with transaction(demo_engine) as session:
        replay_students(session, live, [student])
    replayed = stored()
    assert incremental.keys() == replayed.keys() and incremental
    for key, (p, n, status) in incremental.items():
        assert replayed[key][0] == pytest.approx(p, abs=1e-9)
        assert replayed[key][1:] == (n, status)


def test_by_default_calibration_compares_the_families_the_policy_benchmark_measures(
    demo_engine: Engine,
) -> None:
    with transaction(demo_engine) as session:
        report = calibrate_course(session, _framework(demo_engine))
    assert CANDIDATES == BKT_FAMILIES
    assert [c["name"] for c in report.candidates] == list(BKT_FAMILIES)
