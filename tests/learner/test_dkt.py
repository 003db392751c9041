"""DKT beyond the conformance suite: the optional torch dependency and early stopping."""

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


def test_fitted_model_predicts_without_torch(monkeypatch, attempts):
    model = DKT(hidden_size=8, epochs=2, n_threads=1).fit(attempts)
    expected = model.predict_proba(attempts)
    monkeypatch.setitem(sys.modules, "torch", None)
    np.testing.assert_array_equal(model.predict_proba(attempts), expected)
    state = model.init_state()
    assert 0 < model.update(state, ("c0", 1)) < 1
