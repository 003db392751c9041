"""Attempt tables: the one input format of every learner model, and the loaders that produce it.

Every model takes a :class:`pandas.DataFrame` with one row per observed attempt on one competency:

``student_id``
    who answered (any hashable value);
``competency_id``
    the competency (skill) the step is aligned to;
``correct``
    1 if the answer was right, 0 if not;
``item_id`` (optional)
    the item (problem or step) that was answered, used by per-item parameters.

Rows are in chronological order within each student (students may interleave). A step aligned to
several competencies is expanded into one row per competency by :func:`attempts_from_frame`, each
carrying the step's full outcome: every competency receives the whole evidence and is predicted
on its own. This is the choice the knowledge-tracing literature's preprocessed data sets made, and
it keeps every model per-competency; :func:`attempts_from_frame` records the original row in the
``step`` column so that step-level figures can be recovered by grouping.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

REQUIRED_COLUMNS = ("student_id", "competency_id", "correct")


class AttemptFormatError(ValueError):
    """A file or table of attempts that cannot be read; the message names the line and reason."""

    def __init__(self, source: str, line: int | None, reason: str) -> None:
        self.source = source
        self.line = line
        self.reason = reason
        where = f"{source}, line {line}" if line is not None else source
        super().__init__(f"{where}: {reason}")


def _parse_ints(text: str, source: str, line: int, what: str) -> list[int]:
    fields = [f.strip() for f in text.strip().split(",")]
    if fields and fields[-1] == "":  # trailing comma, common in the published files
        fields.pop()
    try:
        return [int(f) for f in fields]
    except ValueError:
        bad = next(f for f in fields if not f.lstrip("-").isdigit())
        raise AttemptFormatError(source, line, f"{what} {bad!r} is not an integer") from None


def read_three_line(path: str | Path) -> pd.DataFrame:
    """Read a "3-line" knowledge-tracing file: length, competency ids, outcomes, per student.

    Students get ids ``0, 1, ...`` in file order; the result is in the model input format.
    Raises :class:`AttemptFormatError` naming the line and the reason for a malformed file.
    """
    source = str(path)
    with open(path, encoding="utf-8") as handle:
        lines = [ln for ln in handle.read().splitlines()]
    # blank lines at the very end are tolerated, anywhere else they are an error
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) % 3:
        raise AttemptFormatError(
            source, len(lines), f"{len(lines)} lines is not a multiple of 3 (length, ids, outcomes)"
        )
    comps: list[NDArray[np.int64]] = []
    outs: list[NDArray[np.int64]] = []
    for start in range(0, len(lines), 3):
        n_line, c_line, o_line = lines[start : start + 3]
        n = _parse_ints(n_line, source, start + 1, "attempt count")
        if len(n) != 1 or n[0] < 0:
            raise AttemptFormatError(source, start + 1, "expected one non-negative attempt count")
        c = _parse_ints(c_line, source, start + 2, "competency id")
        o = _parse_ints(o_line, source, start + 3, "outcome")
        if len(c) != n[0]:
            raise AttemptFormatError(
                source, start + 2, f"{len(c)} competency ids where the count line says {n[0]}"
            )
        if len(o) != n[0]:
            raise AttemptFormatError(
                source, start + 3, f"{len(o)} outcomes where the count line says {n[0]}"
            )
        oa = np.asarray(o, dtype=np.int64)
        if oa.size and ((oa != 0) & (oa != 1)).any():
            raise AttemptFormatError(source, start + 3, "outcomes must be 0 or 1")
        comps.append(np.asarray(c, dtype=np.int64))
        outs.append(oa)
    lengths = np.array([len(c) for c in comps], dtype=np.int64)
    student = np.repeat(np.arange(len(comps), dtype=np.int64), lengths)
    return pd.DataFrame(
        {
            "student_id": student,
            "competency_id": np.concatenate(comps) if comps else np.empty(0, np.int64),
            "correct": (np.concatenate(outs) if outs else np.empty(0, np.int64)).astype(np.int8),
        }
    )


PYBKT_COLUMNS = {
    "user_id": "student_id",
    "skill_name": "competency_id",
    "correct": "correct",
    "problem_id": "item_id",
}


def read_pybkt_csv(path: str | Path, *, sep: str | None = None) -> pd.DataFrame:
    """Read a pyBKT-style CSV (``user_id``, ``skill_name``, ``correct``, optional ``order_id``
    and ``problem_id``) into the model input format, sorted by ``order_id`` when present.

    The separator (comma or tab) is detected unless given. Raises :class:`AttemptFormatError`
    naming the line for a missing column or an outcome that is not 0 or 1.
    """
    source = str(path)
    if sep is None:
        with open(path, encoding="utf-8", errors="replace") as handle:
            header = handle.readline()
        sep = "\t" if header.count("\t") > header.count(",") else ","
    try:
        raw = pd.read_csv(
            path, sep=sep, dtype=str, keep_default_na=False, quoting=csv.QUOTE_MINIMAL
        )
    except pd.errors.ParserError as exc:
        raise AttemptFormatError(source, None, f"not a CSV file ({exc})") from None
    for column in ("user_id", "skill_name", "correct"):
        if column not in raw.columns:
            raise AttemptFormatError(source, 1, f"missing column {column!r} in the header")
    if "order_id" in raw.columns:
        order = pd.to_numeric(raw["order_id"], errors="coerce")
        if order.isna().any():
            bad = int(np.flatnonzero(order.isna().to_numpy())[0])
            raise AttemptFormatError(source, bad + 2, "order_id is not a number")
        raw = raw.iloc[np.argsort(order.to_numpy(), kind="stable")]
    correct = pd.to_numeric(raw["correct"], errors="coerce")
    bad_mask = ~correct.isin([0, 1]).to_numpy()
    if bad_mask.any():
        row = int(raw.index[np.flatnonzero(bad_mask)[0]])
        value = raw["correct"].iloc[int(np.flatnonzero(bad_mask)[0])]
        raise AttemptFormatError(source, row + 2, f"correct is {value!r}, expected 0 or 1")
    out = pd.DataFrame(
        {
            "student_id": raw["user_id"].to_numpy(),
            "competency_id": raw["skill_name"].to_numpy(),
            "correct": correct.to_numpy().astype(np.int8),
        }
    )
    if "problem_id" in raw.columns:
        out["item_id"] = raw["problem_id"].to_numpy()
    return out.reset_index(drop=True)


CSV_COLUMNS = {  # accepted header -> model input column
    "student_id": "student_id",
    "student": "student_id",
    "competency_id": "competency_id",
    "competency": "competency_id",
    "skill": "competency_id",
    "correct": "correct",
    "timestamp": "timestamp",
    "time": "timestamp",
    "item_id": "item_id",
    "item": "item_id",
}


def read_attempts_csv(path: str | Path, *, sep: str | None = None) -> pd.DataFrame:
    """Read a CSV of attempts, one row per attempt, into the model input format.

    Columns (header names, case-insensitive): ``student`` (or ``student_id``), ``competency``
    (or ``competency_id``, ``skill``), ``correct`` (0/1, or a score in [0, 1], right from 0.5),
    ``time`` (or ``timestamp``: a number or a date-time; without it, the file's order) and
    optionally ``item`` (or ``item_id``). Rows are put in time order within each student; a
    competency joined with ``~`` is a step on several competencies, as in
    :func:`attempts_from_frame`. The separator (comma or tab) is detected unless given. Raises
    :class:`AttemptFormatError` naming the line for a missing column or a bad outcome.
    """
    source = str(path)
    if sep is None:
        with open(path, encoding="utf-8", errors="replace") as handle:
            header = handle.readline()
        sep = "\t" if header.count("\t") > header.count(",") else ","
    try:
        raw = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise AttemptFormatError(source, None, f"not a CSV file ({exc})") from None
    chosen: dict[str, str] = {}  # model input column -> the first header that gives it
    for column in raw.columns:
        target = CSV_COLUMNS.get(column.strip().lower())
        if target is not None:
            chosen.setdefault(target, column)
    raw = pd.DataFrame({target: raw[column] for target, column in chosen.items()})
    for column in REQUIRED_COLUMNS:
        if column not in raw.columns:
            raise AttemptFormatError(
                source, 1, f"missing column {column.removesuffix('_id')!r} in the header"
            )
    score = pd.to_numeric(raw["correct"], errors="coerce")
    bad = score.isna() | (score < 0) | (score > 1)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        value = raw["correct"].iloc[row]
        raise AttemptFormatError(source, row + 2, f"correct is {value!r}, expected 0 to 1")
    frame = raw.assign(correct=score)
    for column in ("student_id", "competency_id", "item_id"):
        if column in frame.columns:  # integer ids stay integers, as in the 3-line files
            number = pd.to_numeric(frame[column], errors="coerce")
            if not number.isna().any() and (number % 1 == 0).all():
                frame[column] = number.astype(np.int64)
    if "timestamp" in frame.columns:
        number = pd.to_numeric(frame["timestamp"], errors="coerce")
        if not number.isna().any():
            frame["timestamp"] = pd.to_datetime(number.to_numpy(), unit="s", utc=True)
        else:
            stamps = pd.to_datetime(frame["timestamp"], utc=True, errors="coerce", format="mixed")
            if stamps.isna().any():
                row = int(np.flatnonzero(stamps.isna().to_numpy())[0])
                value = frame["timestamp"].iloc[row]
                raise AttemptFormatError(source, row + 2, f"time {value!r} is not a time")
            frame["timestamp"] = stamps
    else:
        frame["timestamp"] = pd.to_datetime(np.arange(len(frame)), unit="s", utc=True)
    out = attempts_from_frame(frame)
    if (out["step"].to_numpy() == np.arange(len(out))).all():
        out = out.drop(columns="step")
    return out


def _split_competencies(value: object, sep: str) -> list[object]:
    if isinstance(value, str):
        return [part for part in value.split(sep) if part] if sep in value else [value]
    if isinstance(value, Iterable):
        return list(value)
    return [value]


def attempts_from_frame(
    attempts: pd.DataFrame, *, multi_competency_sep: str = "~", score_threshold: float = 0.5
) -> pd.DataFrame:
    """Turn a table of Learnway attempts into the model input format.

    ``attempts`` has ``student_id``, ``competency_id``, ``correct`` and ``timestamp`` (and
    optionally ``item_id``). Rows are put in time order within each student (ties keep their
    order); ``correct`` may be a boolean or a score in [0, 1] (right when ``>= score_threshold``).
    A ``competency_id`` that is a list, or a string joined with ``multi_competency_sep``, marks a
    step aligned to several competencies: it becomes one row per competency with the same
    outcome, and ``step`` keeps the index of the original row.
    """
    missing = [c for c in (*REQUIRED_COLUMNS, "timestamp") if c not in attempts.columns]
    if missing:
        raise AttemptFormatError("attempts table", None, f"missing column(s) {missing}")
    frame = attempts.reset_index(drop=True)
    if frame["correct"].isna().any():
        bad = int(np.flatnonzero(frame["correct"].isna().to_numpy())[0])
        raise AttemptFormatError("attempts table", None, f"row {bad}: correct is missing")
    score = frame["correct"].astype(np.float64).to_numpy()
    if ((score < 0) | (score > 1)).any():
        bad = int(np.flatnonzero((score < 0) | (score > 1))[0])
        raise AttemptFormatError("attempts table", None, f"row {bad}: correct outside [0, 1]")
    stamps = pd.to_datetime(frame["timestamp"], utc=True)
    order = np.argsort(stamps.dt.tz_localize(None).to_numpy(), kind="stable")
    frame = frame.iloc[order]
    score = score[order]
    out = pd.DataFrame(
        {
            "student_id": frame["student_id"].to_numpy(),
            "competency_id": frame["competency_id"].to_numpy(),
            "correct": (score >= score_threshold).astype(np.int8),
            "step": frame.index.to_numpy(),
        }
    )
    if "item_id" in frame.columns:
        out["item_id"] = frame["item_id"].to_numpy()
    if not pd.api.types.is_numeric_dtype(out["competency_id"]):
        split = [_split_competencies(v, multi_competency_sep) for v in out["competency_id"]]
        out["competency_id"] = pd.Series(split, index=out.index, dtype=object)
        out = out.explode("competency_id", ignore_index=True)
    return out.reset_index(drop=True)


def check_attempts(X: pd.DataFrame) -> pd.DataFrame:
    """Validate the model input format; return it with ``correct`` as int8."""
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame of attempts, got {type(X).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in X.columns]
    if missing:
        raise ValueError(f"attempts table is missing column(s) {missing}")
    correct = X["correct"].to_numpy()
    if correct.dtype != np.int8:
        if len(correct) and not np.isin(correct, (0, 1)).all():
            raise ValueError("column 'correct' must hold 0 or 1 only")
        X = X.assign(correct=correct.astype(np.int8))
    return X
