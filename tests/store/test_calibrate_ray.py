"""Calibration on a local Ray cluster gives what the single-process fit gives."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sqlalchemy import Engine, select

from learnway.learner import BKT
from learnway.store import build_model, transaction
from learnway.store._calibrate import attempt_table
from learnway.store._calibrate_ray import (
    FAMILY,
    HELD_OUT_EVERY,
    calibrate_course_ray,
    competency_sizes,
    fit_distributed,
)
from learnway.store._schema import KT_PARAMETERS, ItemRow, Job, LearnerModelRow


def _course(engine: Engine) -> int:
    with transaction(engine) as session:
        return session.scalars(select(ItemRow.framework_id)).first() or 0


@pytest.mark.slow
def test_ray_fits_the_same_parameters_and_held_out_auc_as_one_process(
    demo_engine: Engine,
) -> None:
    framework_id = _course(demo_engine)
    with transaction(demo_engine) as session:
        sizes = competency_sizes(session, framework_id)
        table = attempt_table(session, framework_id)
    codes = sorted(sizes.index[(sizes["attempts"] >= 100) & (sizes["students"] >= 10)])
    assert len(codes) >= 4, "the demo school should give several competencies to fit"
    # small shards, so that the tasks really split the competencies between them
    fit = fit_distributed(demo_engine, framework_id, codes, sizes["attempts"], workers=2,
                          shard_attempts=int(sizes["attempts"].max()), held_out=True)  # fmt: skip
    assert len(fit.shards) >= 2
    assert fit.workers == 2

    table = table[table["competency_id"].isin(codes)]
    test = table["student_id"] % HELD_OUT_EVERY == 0
    single = BKT(forgetting=True, n_restarts=5, random_state=0).fit(table[~test])
    values = np.c_[single.prior_, single.learn_, single.guess_, single.slip_, single.forget_]
    assert sorted(fit.params) == codes
    for code in codes:
        expected = values[single.competency_index_[code]]
        assert np.abs(np.asarray(fit.params[code]) - expected).max() <= 0.01, (code, KT_PARAMETERS)
    y_single = table[test]["correct"].to_numpy(bool)
    auc_single = roc_auc_score(y_single, single.predict_proba(table[test]))
    y, p = fit.held_out
    assert len(y) == len(y_single)
    assert abs(roc_auc_score(y, p) - auc_single) <= 0.001


@pytest.mark.slow
def test_ray_calibration_writes_a_version_the_way_the_single_process_path_does(
    demo_engine: Engine,
) -> None:
    framework_id = _course(demo_engine)
    with transaction(demo_engine) as session:
        report = calibrate_course_ray(session, framework_id, workers=2)
    assert report.version is not None and report.family == FAMILY
    assert report.fitted
    with transaction(demo_engine) as session:
        row = session.get(LearnerModelRow, report.version)
        assert row is not None
        assert (row.status, row.family) == ("building", FAMILY)
        assert set(row.params) == set(report.fitted)
        first = row.params[report.fitted[0]]
        assert set(first) == {*KT_PARAMETERS, "attempts", "students"}
        assert all(0 < first[k] < 1 for k in ("p_init", "p_learn", "p_guess", "p_slip"))
        assert row.figures["engine"] == "ray"
        assert session.scalars(select(Job.kind).where(Job.status == "queued")).all() == [
            "build_model"
        ]
    build_model(demo_engine, report.version)
    with transaction(demo_engine) as session:
        row = session.get(LearnerModelRow, report.version)
        assert row is not None and row.status == "active"
