"""The evaluation harness on a small sample of a real split, without the pyBKT peer."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from learnway.cli._app import app
from learnway.learner import auc, calibration, log_loss, rmse

from .conftest import DATA_DIR


def test_metrics_on_known_values():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.4, 0.35, 0.8])
    assert auc(y, p) == 0.75
    assert rmse(y, p) == np.sqrt(np.mean((y - p) ** 2))
    assert log_loss(y, np.full(4, 0.5)) == np.log(2)
    cal = calibration(y, p, n_bins=2)
    assert cal["count"] == [3, 1] and cal["observed"] == [round(1 / 3, 6), 1.0]


def test_bench_kt_command_writes_results(tmp_path, statics_sample):
    import learnway.cli._bench_kt  # noqa: F401  (registers the command)

    result = CliRunner().invoke(
        app,
        ["bench", "kt", "--dataset", "dkvmn/STATICS", "--models", "bkt,bkt-forget,best-lr,elo",
         "--data-dir", str(DATA_DIR), "--out-dir", str(tmp_path), "--max-students", "12",
         "--cv-models", "bkt-forget,best-lr+", "--fit-repeats", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "kt-dkvmn-statics.json").read_text())
    run = data["splits"][0]
    assert set(run["models"]) == {"bkt", "bkt-forget", "best-lr", "elo"}
    assert all(0.5 < m["auc"] <= 1 for m in run["models"].values())
    assert run["online"]["bkt"]["replay_attempts_per_second"] > 0
    assert run["selection"]["selected"] in {"bkt-forget", "best-lr+"}
    assert data["summary"]["test"]["best_model"] == run["selection"]["selected"]
    assert data["machine"]["versions"]["numpy"]
    assert "| bkt |" in (tmp_path / "kt-dkvmn-statics.md").read_text()
    assert (tmp_path / "kt-dkvmn-statics.png").stat().st_size > 1000
