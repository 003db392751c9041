"""The public knowledge-tracing data sets and their splits, read from a data directory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from learnway.learner._data import read_three_line


@dataclass(frozen=True)
class Split:
    """One train/test split of a data set."""

    name: str
    train: pd.DataFrame
    test: pd.DataFrame


# name -> (train file, test file) relative to the data directory, for the papers' splits
PAPER_SPLITS = {
    "assist2009-dkt": ("assist2009-dkt/builder_train.csv", "assist2009-dkt/builder_test.csv"),
    "dkvmn/assist2009_updated": (
        "dkvmn/assist2009_updated/assist2009_updated_train.csv",
        "dkvmn/assist2009_updated/assist2009_updated_test.csv",
    ),
    "dkvmn/assist2015": (
        "dkvmn/assist2015/assist2015_train.csv",
        "dkvmn/assist2015/assist2015_test.csv",
    ),
    "dkvmn/STATICS": ("dkvmn/STATICS/STATICS_train.csv", "dkvmn/STATICS/STATICS_test.csv"),
}
SYNTHETIC = {"synthetic-5": "synthetic5-dkt/naive_c5_q50_s4000_v0"}
DATASETS = (*PAPER_SPLITS, *SYNTHETIC)


def read_synthetic(stem: Path) -> pd.DataFrame:
    """DKT's synthetic data: a students x questions 0/1 matrix (questions in a fixed order) and
    an info file whose third column is each question's concept; items are the questions."""
    matrix = np.loadtxt(f"{stem}.csv", delimiter=",", dtype=np.int8, ndmin=2)
    info = pd.read_csv(f"{stem.parent}/info/{stem.name}_info.txt", sep=None, header=None,
                       engine="python")  # fmt: skip
    concept = info.iloc[:, 2].to_numpy().astype(np.int64)
    n_students, n_questions = matrix.shape
    return pd.DataFrame(
        {
            "student_id": np.repeat(np.arange(n_students), n_questions),
            "competency_id": np.tile(concept[:n_questions], n_students),
            "item_id": np.tile(np.arange(n_questions), n_students),
            "correct": matrix.ravel(),
        }
    )


def student_folds(
    attempts: pd.DataFrame, n_folds: int = 5, random_state: int = 0
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Student-grouped k-fold: every student's attempts fall in one test fold."""
    students = pd.unique(attempts["student_id"].to_numpy())
    rng = np.random.default_rng(random_state)
    fold_of = dict(zip(students.tolist(), rng.permutation(len(students)) % n_folds, strict=True))
    fold = attempts["student_id"].map(fold_of).to_numpy()
    for k in range(n_folds):
        yield attempts[fold != k].reset_index(drop=True), attempts[fold == k].reset_index(drop=True)


def load_splits(
    name: str, data_dir: str | Path, *, n_folds: int = 5, max_students: int | None = None
) -> list[Split]:
    """The paper's train/test split of a data set, or student-grouped folds where none exists.

    ``max_students`` keeps only the first students of each part (for quick runs)."""
    root = Path(data_dir)
    if name in PAPER_SPLITS:
        train_file, test_file = PAPER_SPLITS[name]
        parts = [read_three_line(root / train_file), read_three_line(root / test_file)]
        if max_students is not None:
            parts = [p[p["student_id"] < max_students].reset_index(drop=True) for p in parts]
        return [Split("test", parts[0], parts[1])]
    if name in SYNTHETIC:
        data = read_synthetic(root / SYNTHETIC[name])
        if max_students is not None:
            data = data[data["student_id"] < max_students].reset_index(drop=True)
        return [
            Split(f"fold{k + 1}", train, test)
            for k, (train, test) in enumerate(student_folds(data, n_folds))
        ]
    raise ValueError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
