"""Model selection by cross-validation over the training students only."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from learnway.learner import (
    BKT,
    CV_CANDIDATES,
    EloKT,
    LogisticKT,
    auc,
    load_splits,
    select_model,
    student_folds,
)

from .conftest import DATA_DIR, synthetic_attempts


def test_folds_group_students():
    attempts = synthetic_attempts(30, 5)
    seen = []
    for train, held in student_folds(attempts, 3):
        assert not set(train.student_id) & set(held.student_id)
        seen += sorted(set(held.student_id))
    assert sorted(seen) == sorted(set(attempts.student_id))


def test_select_model_picks_the_best_mean_fold_auc():
    attempts = synthetic_attempts(90, 12)
    candidates = {
        "bkt": BKT(),
        "elo-frozen": EloKT(a=1e-9, b=1e-9),
        "pfa": LogisticKT(features="pfa"),
    }
    chosen = select_model(attempts, candidates, n_folds=3, random_state=1)
    means = {row["name"]: row["mean_auc"] for row in chosen.cv_results}
    assert list(means) == list(candidates)
    assert chosen.name == max(means, key=means.__getitem__)
    assert chosen.name != "elo-frozen"  # a model that never learns loses
    for row in chosen.cv_results:
        assert len(row["fold_auc"]) == 3 and row["mean_auc"] == pytest.approx(
            np.mean(row["fold_auc"])
        )
    # the fold scores are the candidates' own held-out AUCs
    train, held = next(iter(student_folds(attempts, 3, random_state=1)))
    first = auc(held.correct, BKT().fit(train).predict_proba(held))
    assert means and chosen.cv_results[0]["fold_auc"][0] == pytest.approx(first)
    # refitted on all the attempts, not one of the candidates given
    assert chosen.estimator is not candidates[chosen.name]
    expected = type(candidates[chosen.name])(**candidates[chosen.name].get_params())
    np.testing.assert_allclose(
        chosen.estimator.predict_proba(attempts), expected.fit(attempts).predict_proba(attempts)
    )


def test_select_model_is_deterministic_and_refits_only_when_asked():
    attempts = synthetic_attempts(60, 10)
    a = select_model(attempts, {"bkt": BKT(), "pfa": LogisticKT(features="pfa")}, refit=False)
    b = select_model(attempts, {"bkt": BKT(), "pfa": LogisticKT(features="pfa")}, refit=False)
    assert a.cv_results[0]["fold_auc"] == b.cv_results[0]["fold_auc"]
    assert a.name == b.name
    with pytest.raises(NotFittedError):
        a.estimator.predict_proba(attempts)


def test_select_model_rules():
    attempts = synthetic_attempts(4, 5)
    with pytest.raises(ValueError, match="n_folds"):
        select_model(attempts, {"bkt": BKT()}, n_folds=1)
    with pytest.raises(ValueError, match="5 students"):
        select_model(attempts, {"bkt": BKT()}, n_folds=5)
    with pytest.raises(ValueError, match="candidate"):
        select_model(attempts, {})
    assert {"bkt-forget", "best-lr+", "boosted"} <= set(CV_CANDIDATES)


def test_logistic_defaults_converge_on_the_split_that_needed_it():
    if not DATA_DIR.exists():
        pytest.fail(f"the shared data sets are missing at {DATA_DIR}")
    train = load_splits("dkvmn/assist2009_updated", DATA_DIR)[0].train
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = LogisticKT().fit(train)
    assert model.get_params()["max_iter"] == 1000
