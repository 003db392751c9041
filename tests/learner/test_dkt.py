"""DKT beyond the conformance suite: the optional torch dependency, early stopping and the
feature head."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from learnway.learner import DKT


def test_importing_the_learner_package_does_not_import_torch():
    code = "import sys, learnway.learner; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "False"


def test_missing_torch_names_the_extra(monkeypatch, attempts):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"learnway\[deep\]"):
        DKT(hidden_size=4, epochs=1).fit(attempts)


def test_early_stopping_keeps_the_best_epoch_on_held_out_training_students(attempts):
    model = DKT(hidden_size=8, epochs=6, patience=1, learning_rate=0.05, n_threads=1)
    model.fit(attempts)
    assert 1 <= model.best_epoch_ <= model.epochs_run_ <= 6
    assert model.epochs_run_ == 6 or model.epochs_run_ == model.best_epoch_ + 1


@pytest.mark.parametrize("features", [False, True])
def test_fitted_model_predicts_without_torch(monkeypatch, attempts, features):
    model = DKT(hidden_size=8, epochs=2, n_threads=1, features=features).fit(attempts)
    expected = model.predict_proba(attempts)
    monkeypatch.setitem(sys.modules, "torch", None)
    np.testing.assert_array_equal(model.predict_proba(attempts), expected)
    state = model.init_state()
    assert 0 < model.update(state, ("c0", 1)) < 1


def test_feature_head_reads_the_history_features(attempts):
    """With the feature head, the same LSTM state gives different predictions when only the
    counts of earlier attempts differ: the head is part of the prediction, online too."""
    model = DKT(hidden_size=8, epochs=2, n_threads=1, features=True).fit(attempts)
    assert {"head_h", "head_f", "head_q", "head_out", "head_out_b"} <= set(model.weights_)
    plain = DKT(hidden_size=8, epochs=2, n_threads=1).fit(attempts)
    assert not any(name.startswith("head_") for name in plain.weights_)
    state = model.init_state()
    for correct in (1, 1, 0):
        model.update(state, ("c0", correct))
    assert len(state["skills"]) == len(state["outcomes"]) == 3
    without_history = dict(state, skills=[], outcomes=[])
    assert model.mastery(state)["c0"] != model.mastery(without_history)["c0"]


def test_feature_head_mastery_is_the_next_attempts_prediction(attempts):
    """``mastery`` scores every tried competency in one pass; each must equal what ``update``
    predicts for a next attempt on it (computed one at a time, on a copy of the state)."""
    import copy

    model = DKT(hidden_size=8, epochs=2, n_threads=1, features=True).fit(attempts)
    state = model.init_state()
    for competency, correct in (("c0", 1), ("c1", 0), ("c0", 1), ("c2", 1), ("c1", 1)):
        model.update(state, (competency, correct))
    mastery = model.mastery(state)
    assert set(mastery) == {"c0", "c1", "c2"}
    for competency, p in mastery.items():
        assert p == pytest.approx(model.update(copy.deepcopy(state), (competency, 0)), abs=1e-12)
    assert len(set(mastery.values())) == 3
