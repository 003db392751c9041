"""The scale benchmark's comparison, extrapolation and results file (benchmarks/scale/run.py)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("scale_run", ROOT / "benchmarks/scale/run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ray(seconds: float, tasks: list[float], count: float) -> dict[str, Any]:
    return {"seconds": seconds, "count_seconds": count, "task_seconds": tasks,
            "worker_peak_rss_mb": 900.0, "driver_peak_rss_mb": 300.0, "shards": len(tasks),
            "task_attempts_max": 10_000_000, "workers": 1}  # fmt: skip


def test_each_ray_run_is_compared_with_the_single_process_fit_of_the_run(
    bench: ModuleType,
) -> None:
    single = {"params": {"a": [0.1, 0.2, 0.3, 0.4, 0.0], "b": [0.5, 0.5, 0.2, 0.1, 0.01]},
              "held_out_auc": 0.80}  # fmt: skip
    run = {"params": {"a": [0.1, 0.2, 0.3, 0.4, 0.0], "b": [0.5, 0.53, 0.2, 0.1, 0.01]},
           "held_out_auc": 0.7995}  # fmt: skip
    got = bench.compare(single, run)
    assert got["max_parameter_difference"] == pytest.approx(0.03)
    assert got["auc_difference"] == pytest.approx(0.0005)
    assert got["competencies_missing"] == 0
    del run["params"]["b"]
    assert bench.compare(single, run)["competencies_missing"] == 1
    earlier = bench.compare({"seconds": 1.0}, run)  # figures of an earlier run: nothing to compare
    assert earlier["max_parameter_difference"] is None


def test_every_task_reading_the_whole_log_makes_the_extrapolation_grow_faster_than_it(
    bench: ModuleType,
) -> None:
    attempts = 50_000_000
    ray = {1: {**_ray(700.0, [100.0] * 5, 150.0), "task_read_seconds": [50.0] * 5,
               "shard_attempts": 10_000_000}}  # fmt: skip
    e = bench.extrapolate(ray, attempts)
    assert e["scan_rows_per_s_per_task"] == 1_000_000  # the whole log in each task's 50 s
    assert e["fit_attempts_per_s_per_worker"] == 200_000  # 50M fitted in 5 x 50 s
    # 50 tasks of 10M, each scanning 500M rows (500 s) and fitting 10M (50 s), on 32 workers
    assert e["predicted_tasks"] == 50
    assert e["predicted_seconds"] == round(1500 + 50 + 50 * (500 + 50) / 32)
    assert e["one_shard_per_worker"]["predicted_seconds"] == round(
        1500 + 50 + 32 * (500 + 500_000_000 / 32 / 200_000) / 32
    )


def test_the_extrapolation_grows_the_database_count_with_the_log(bench: ModuleType) -> None:
    attempts = 50_000_000
    ray = {1: _ray(700.0, [100.0] * 5, 150.0), 2: _ray(500.0, [150.0] * 5, 150.0)}
    e = bench.extrapolate(ray, attempts)
    assert e["measured_with_workers"] == 1
    assert e["rate_attempts_per_s_per_worker"] == attempts // 500
    assert e["start_s"] == pytest.approx(700 - 150 - 500)
    assert e["predicted_count_s"] == 1500  # ten times the log, ten times the count
    assert e["predicted_seconds"] == round(1500 + 50 + 500_000_000 / (32 * attempts / 500))
    assert e["two_worker_task_slowdown"] == 1.5


def test_the_results_page_is_the_rendering_of_the_results_file(bench: ModuleType) -> None:
    stored = json.loads((RESULTS / "scale.json").read_text())
    page = (RESULTS / "scale.md").read_text()
    assert bench.render(stored) == page
    fits = [k for k in stored["fit"] if k.startswith("ray_")]
    assert {"ray_1", "ray_2"} <= set(fits), "Ray with one and with two workers"
    for key in fits:
        assert stored["fit"][key]["max_parameter_difference"] is not None, key
        assert stored["fit"][key]["max_parameter_difference"] <= 0.01, key
        assert stored["fit"][key]["auc_difference"] <= 0.001, key
    pages = stored["live"]["section_pages"]["pages"]
    assert set(pages) == {"heatmap", "needs", "groups", "pacing"}
    for name in pages:
        assert f"| {name} | {pages[name]['median_ms']} |" in page
