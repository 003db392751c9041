"""Peak memory of a fit is the fitting process's own: a parent's memory is never counted."""

from __future__ import annotations

import numpy as np
import pytest

from learnway.learner import (
    BKT,
    call_in_fresh_process,
    fit_memory_mb,
    load_split_files,
    peak_memory_mb,
)
from learnway.learner._evaluate import _fit_whole

from .conftest import synthetic_attempts

GIB = 2**30


def _fit(attempts):
    BKT(forgetting=True).fit(attempts)
    return len(attempts)


def test_child_reports_its_own_peak_when_the_parent_holds_1_gb():
    attempts = synthetic_attempts(200, 20)
    rows, alone = call_in_fresh_process(_fit, attempts)
    assert rows == len(attempts)
    ballast = np.ones(GIB // 8)  # 1 GiB, every page touched
    assert peak_memory_mb() > 1024  # the parent really holds it
    _, beside = call_in_fresh_process(_fit, attempts)
    assert float(ballast.sum()) == GIB // 8
    del ballast
    assert 50 < alone < 1024
    assert beside == pytest.approx(alone, rel=0.10)


def test_a_child_that_allocates_reports_it():
    _, small = call_in_fresh_process(np.zeros, 10)
    _, big = call_in_fresh_process(np.ones, GIB // 16)  # 64 MiB... times 8 bytes: 512 MiB
    assert big - small == pytest.approx(512, rel=0.10)


def test_whole_data_set_fit_memory(tmp_path):
    frame = synthetic_attempts(50, 10)
    for part in ("train", "test"):
        frame.rename(columns={"student_id": "student", "competency_id": "competency"}).to_csv(
            tmp_path / f"{part}.csv", index=False
        )
    split = load_split_files(tmp_path / "train.csv", tmp_path / "test.csv", format="csv")
    assert _fit_whole(BKT(), split) == 2 * len(frame)  # both parts, students kept apart
    assert 50 < fit_memory_mb(split) < 1024


def test_failure_in_the_child_is_reported():
    with pytest.raises(RuntimeError, match="failed in its own process"):
        call_in_fresh_process(np.ones, -1)
