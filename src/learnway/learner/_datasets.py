"""The public knowledge-tracing data sets and their splits, read from a data directory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from learnway.learner._data import read_attempts_csv, read_three_line

# The repository that holds this package (a source checkout): default paths are taken from here,
# never from the current folder. The shared data sets sit beside it.
PROJECT_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_DATA_DIR = PROJECT_ROOT.parent / "shared" / "datasets"
FORMATS = ("auto", "three-line", "csv")


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


def read_export_attempts(folder: Path) -> pd.DataFrame:
    """The answered attempts of a research export (``learnway export parquet``) in the models'
    input format, students numbered in order of first appearance, steps as items."""
    frame = pd.read_parquet(folder / "attempts.parquet",
                            columns=["student_id", "competency_id", "step", "correct", "timestamp",
                                     "kind"])  # fmt: skip
    frame = frame[frame["kind"] != "worked_example"].drop(columns="kind")
    frame["student_id"] = pd.factorize(frame["student_id"])[0]
    return frame.rename(columns={"step": "item_id"}).reset_index(drop=True)


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


def sniff_format(path: str | Path) -> str:
    """``"three-line"`` when the file's first line is one integer (a count), else ``"csv"``."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        first = handle.readline().strip().rstrip(",").strip()
    return "three-line" if first.isdigit() else "csv"


def read_attempts_file(path: str | Path, *, format: str = "auto") -> pd.DataFrame:
    """Read a file of attempts: ``"three-line"`` (:func:`read_three_line`), ``"csv"``
    (:func:`read_attempts_csv`), or ``"auto"``, which tells them apart by the first line."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {list(FORMATS)}, got {format!r}")
    kind = sniff_format(path) if format == "auto" else format
    return read_three_line(path) if kind == "three-line" else read_attempts_csv(path)


def load_split_files(
    train: str | Path,
    test: str | Path,
    *,
    format: str = "auto",
    max_students: int | None = None,
) -> Split:
    """A train/test split from two files of attempts (see :func:`read_attempts_file`).

    ``max_students`` keeps only the first students of each file, in file order."""
    parts = [read_attempts_file(train, format=format), read_attempts_file(test, format=format)]
    if max_students is not None:
        parts = [_first_students(p, max_students) for p in parts]
    return Split("test", parts[0], parts[1])


def _first_students(attempts: pd.DataFrame, n: int) -> pd.DataFrame:
    keep = pd.unique(attempts["student_id"].to_numpy())[:n]
    return attempts[attempts["student_id"].isin(keep)].reset_index(drop=True)


def load_splits(
    name: str,
    data_dir: str | Path = DEFAULT_DATA_DIR,
    *,
    n_folds: int = 5,
    max_students: int | None = None,
) -> list[Split]:
    """The paper's train/test split of a data set, or student-grouped folds where none exists.

    ``data_dir`` defaults to the shared data sets beside the project (not the current folder).
    ``max_students`` keeps only the first students of each part."""
    root = Path(data_dir)
    if name in PAPER_SPLITS:
        train_file, test_file = PAPER_SPLITS[name]
        return [load_split_files(root / train_file, root / test_file,
                                 format="three-line", max_students=max_students)]  # fmt: skip
    export = Path(name)
    if name in SYNTHETIC or (export / "attempts.parquet").is_file():
        if name in SYNTHETIC:
            data = read_synthetic(root / SYNTHETIC[name])
        else:  # a research export (learnway export parquet): student-grouped folds
            data = read_export_attempts(export)
        if max_students is not None:
            data = data[data["student_id"] < max_students].reset_index(drop=True)
        return [
            Split(f"fold{k + 1}", train, test)
            for k, (train, test) in enumerate(student_folds(data, n_folds))
        ]
    raise ValueError(
        f"unknown data set {name!r}; known: {', '.join(DATASETS)}, or the folder of a research "
        "export (learnway export parquet)"
    )
