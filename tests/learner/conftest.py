"""Small samples of the real data sets, and synthetic attempts, shared by the learner tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from learnway.learner import read_three_line

DATA_DIR = Path(__file__).parents[2].parent / "shared" / "datasets"


def synthetic_attempts(n_students: int = 40, n_steps: int = 12, seed: int = 0) -> pd.DataFrame:
    """Students practising three competencies with items; mastery grows with practice."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_students):
        known = rng.random(3) < 0.3
        for _ in range(n_steps):
            c = int(rng.integers(3))
            item = f"q{c}-{int(rng.integers(4))}"
            p = 0.9 if known[c] else 0.25
            rows.append((f"s{s}", f"c{c}", item, int(rng.random() < p)))
            known[c] |= rng.random() < 0.2
    return pd.DataFrame(rows, columns=["student_id", "competency_id", "item_id", "correct"])


@pytest.fixture(scope="session")
def attempts() -> pd.DataFrame:
    return synthetic_attempts()


@pytest.fixture(scope="session")
def statics_sample() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first students of the STATICS train and test files (DKVMN split)."""
    if not DATA_DIR.exists():
        pytest.skip("the shared data sets are not present")
    train = read_three_line(DATA_DIR / "dkvmn/STATICS/STATICS_train.csv")
    test = read_three_line(DATA_DIR / "dkvmn/STATICS/STATICS_test.csv")
    return train[train.student_id < 25].reset_index(drop=True), test[
        test.student_id < 10
    ].reset_index(drop=True)
