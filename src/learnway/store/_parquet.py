"""Research exports: de-identified evidence as Parquet files (``learnway export parquet``).

Three tables and a data dictionary, written to one folder:

- ``attempts.parquet``: one row per attempt and competency its step is aligned to;
- ``learner_state.parquet``: the live learner state of every student and competency;
- ``mastery_events.parquet``: every change of status or probability band;
- ``students.parquet``: one row per student with the subgroups whose cells are large enough;
- ``data_dictionary.json`` and ``README.md``: every column, its type and meaning.

No name, username, e-mail, sourcedId or free-text answer is written. Students and attempts are
named by salted hashes (SHA-256 of the salt and the database id, 16 hex digits): the same salt
gives the same pseudonyms across exports (so a research team can join them), a new random salt
unlinkable ones; the salt itself is never written. A subgroup value held by fewer than
``min_cell`` students is written as missing, so no small group can be singled out. Rows are read
and written in chunks, so a state's log exports in bounded memory. The files read in DuckDB,
pandas, Spark and ``learnway bench kt --dataset FOLDER``
(:func:`learnway.learner._datasets.read_export_attempts`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, Executable, select

from learnway.store._schema import (
    Attempt,
    CompetencyRow,
    Demographics,
    Mastery,
    MasteryEvent,
    StepAlignment,
    StepRow,
    User,
)

CHUNK_ROWS = 500_000
MIN_CELL = 10
SUBGROUPS = (
    "sex", "american_indian_or_alaska_native", "asian", "black_or_african_american",
    "native_hawaiian_or_other_pacific_islander", "white", "demographic_race_two_or_more_races",
    "hispanic_or_latino_ethnicity",
)  # fmt: skip
"""Demographic columns exported (coarse ones only: no birth date, place of birth or residence)."""

DICTIONARY: dict[str, dict[str, tuple[str, str]]] = {
    "attempts": {
        "attempt": ("string", "salted hash of the attempt's id"),
        "student_id": ("string", "salted hash of the student's id (as in every file)"),
        "competency_id": ("string", "code of a competency the step is aligned to"),
        "step": ("string", "the content's key of the step answered"),
        "correct": ("bool", "right on the first try without hints"),
        "score": ("float64", "partial credit in [0, 1], when the source gave one"),
        "hints_used": ("int64", "hints opened before answering"),
        "duration_s": ("float64", "seconds spent, when known"),
        "timestamp": ("timestamp[UTC]", "when the student answered"),
        "source": ("string", "web, xapi, import, simulation or lti"),
        "kind": ("string", "answer, placement or worked_example (studied, not answered)"),
    },
    "learner_state": {
        "student_id": ("string", "salted hash of the student's id"),
        "competency_id": ("string", "competency code"),
        "model_version": ("int64", "learner model version of this state (0: defaults)"),
        "p_mastery": ("float64", "the model's probability that the competency is known"),
        "status": ("string", "not_started, practicing, mastered, due_for_review, stuck, "
                   "likely_known"),
        "evidence_count": ("int64", "attempts that were direct evidence"),
        "last_evidence_at": ("timestamp[UTC]", "time of the latest direct evidence"),
    },
    "mastery_events": {
        "student_id": ("string", "salted hash of the student's id"),
        "competency_id": ("string", "competency code"),
        "model_version": ("int64", "learner model version"),
        "at": ("timestamp[UTC]", "when the change happened"),
        "from_status": ("string", "status before"),
        "to_status": ("string", "status after"),
        "p_before": ("float64", "probability before"),
        "p_after": ("float64", "probability after"),
        "cause": ("string", "attempt, replay, recalibration or placement"),
        "attempt": ("string", "salted hash of the attempt that caused it, if one did"),
    },
    "students": {
        "student_id": ("string", "salted hash of the student's id"),
        **{name: ("string", "subgroup value; missing where fewer than the minimum cell size "
                  "of students share it, or unknown") for name in SUBGROUPS},
    },
}  # fmt: skip


@dataclass(frozen=True)
class ExportReport:
    folder: Path
    rows: dict[str, int]
    min_cell: int
    suppressed: dict[str, int]
    """Per subgroup column: students whose value was withheld for a small cell."""


def pseudonym(salt: str, kind: str, value: object) -> str:
    return hashlib.sha256(f"{salt}\x1f{kind}\x1f{value}".encode()).hexdigest()[:16]


def _hasher(salt: str, kind: str) -> Any:
    cache: dict[object, str] = {}

    def name(value: object) -> str | None:
        if value is None:
            return None
        if value not in cache:
            cache[value] = pseudonym(salt, kind, value)
        return cache[value]

    return name


def _chunks(engine: Engine, query: Executable, columns: list[str]) -> Iterator[pd.DataFrame]:
    with engine.connect() as connection:
        result = connection.execution_options(yield_per=CHUNK_ROWS).execute(query)
        for part in result.partitions():
            yield pd.DataFrame(part, columns=columns)


def _write(path: Path, frames: Iterator[pd.DataFrame], table: str) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema_types = {
        "string": pa.string(), "bool": pa.bool_(), "float64": pa.float64(),
        "int64": pa.int64(), "timestamp[UTC]": pa.timestamp("us", tz="UTC"),
    }  # fmt: skip
    schema = pa.schema([(name, schema_types[kind]) for name, (kind, _) in
                        DICTIONARY[table].items()])  # fmt: skip
    rows = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for frame in frames:
            writer.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))
            rows += len(frame)
    return rows


def export_parquet(
    engine: Engine, folder: Path, *, salt: str | None = None, min_cell: int = MIN_CELL
) -> ExportReport:
    """Write the de-identified research export of the whole database into ``folder``."""
    try:
        import pyarrow  # noqa: F401
    except ModuleNotFoundError:
        raise RuntimeError(
            "export parquet needs pyarrow: pip install 'learnway[research]'"
        ) from None
    if min_cell < 2:
        raise ValueError("min_cell must be 2 or more: a cell of one student names that student")
    folder.mkdir(parents=True, exist_ok=True)
    salt = salt or secrets.token_hex(16)
    student, attempt = _hasher(salt, "student"), _hasher(salt, "attempt")
    rows: dict[str, int] = {}

    def attempts() -> Iterator[pd.DataFrame]:
        query = (
            select(Attempt.id, Attempt.student_id, CompetencyRow.code, StepRow.key,
                   Attempt.correct, Attempt.score, Attempt.hints_used, Attempt.duration_s,
                   Attempt.timestamp, Attempt.source, Attempt.kind)
            .join(StepAlignment, StepAlignment.step_id == Attempt.step_id)
            .join(CompetencyRow, CompetencyRow.id == StepAlignment.competency_id)
            .join(StepRow, StepRow.id == Attempt.step_id)
            .order_by(Attempt.student_id, Attempt.timestamp, Attempt.id, CompetencyRow.sequence)
        )  # fmt: skip
        names = ["attempt", "student_id", "competency_id", "step", "correct", "score",
                 "hints_used", "duration_s", "timestamp", "source", "kind"]  # fmt: skip
        for frame in _chunks(engine, query, names):
            frame["attempt"] = frame["attempt"].map(attempt)
            frame["student_id"] = frame["student_id"].map(student)
            frame["correct"] = frame["correct"].astype(bool) & (frame["hints_used"] == 0)
            yield frame

    def state() -> Iterator[pd.DataFrame]:
        query = (
            select(Mastery.student_id, CompetencyRow.code, Mastery.model_version,
                   Mastery.p_mastery, Mastery.status, Mastery.evidence_count,
                   Mastery.last_evidence_at)
            .join(CompetencyRow, CompetencyRow.id == Mastery.competency_id)
            .order_by(Mastery.student_id, CompetencyRow.code)
        )  # fmt: skip
        for frame in _chunks(engine, query, list(DICTIONARY["learner_state"])):
            frame["student_id"] = frame["student_id"].map(student)
            yield frame

    def events() -> Iterator[pd.DataFrame]:
        query = (
            select(MasteryEvent.student_id, CompetencyRow.code, MasteryEvent.model_version,
                   MasteryEvent.at, MasteryEvent.from_status, MasteryEvent.to_status,
                   MasteryEvent.p_before, MasteryEvent.p_after, MasteryEvent.cause,
                   MasteryEvent.attempt_id)
            .join(CompetencyRow, CompetencyRow.id == MasteryEvent.competency_id)
            .order_by(MasteryEvent.student_id, MasteryEvent.at)
        )  # fmt: skip
        for frame in _chunks(engine, query, list(DICTIONARY["mastery_events"])):
            frame["student_id"] = frame["student_id"].map(student)
            frame["attempt"] = frame["attempt"].map(attempt)
            yield frame

    rows["attempts"] = _write(folder / "attempts.parquet", attempts(), "attempts")
    rows["learner_state"] = _write(folder / "learner_state.parquet", state(), "learner_state")
    rows["mastery_events"] = _write(folder / "mastery_events.parquet", events(), "mastery_events")
    students, suppressed = _students(engine, student, min_cell)
    rows["students"] = _write(folder / "students.parquet", iter([students]), "students")
    _dictionary(folder, rows, min_cell, suppressed)
    return ExportReport(folder, rows, min_cell, suppressed)


def _students(engine: Engine, student: Any, min_cell: int) -> tuple[pd.DataFrame, dict[str, int]]:
    columns = [getattr(Demographics, name) for name in SUBGROUPS]
    query = (
        select(User.id, *columns)
        .outerjoin(Demographics, Demographics.user_id == User.id)
        .where(User.role == "student")
        .order_by(User.id)
    )
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).all(), columns=["student_id", *SUBGROUPS])
    suppressed: dict[str, int] = {}
    for name in SUBGROUPS:
        values = frame[name].map(lambda v: None if v is None or pd.isna(v) else str(v).lower())
        counts = values.value_counts()
        small = values.isin(counts[counts < min_cell].index)
        suppressed[name] = int(small.sum())
        frame[name] = values.where(~small, None)
    frame["student_id"] = frame["student_id"].map(student)
    return frame, suppressed


def _dictionary(
    folder: Path, rows: dict[str, int], min_cell: int, suppressed: dict[str, int]
) -> None:
    made = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    document = {
        "created": made,
        "min_cell": min_cell,
        "pseudonyms": "SHA-256 of a salt (not included) and the id, first 16 hex digits",
        "suppressed_per_subgroup": suppressed,
        "tables": {
            table: {"file": f"{table}.parquet", "rows": rows[table],
                    "columns": {c: {"type": t, "meaning": m} for c, (t, m) in cols.items()}}
            for table, cols in DICTIONARY.items()
        },
    }  # fmt: skip
    (folder / "data_dictionary.json").write_text(json.dumps(document, indent=2) + "\n")
    lines = [
        "# Learnway research export", "",
        f"Created {made}. De-identified: students and attempts are named by salted hashes; no "
        "name, username, e-mail, roster id or typed answer is included. Subgroup values shared "
        f"by fewer than {min_cell} students are left out.", "",
    ]  # fmt: skip
    for table, cols in DICTIONARY.items():
        lines += [f"## {table}.parquet ({rows[table]:,} rows)", "", "| column | type | meaning |",
                  "|---|---|---|"]  # fmt: skip
        lines += [f"| {c} | {t} | {m} |" for c, (t, m) in cols.items()]
        lines.append("")
    (folder / "README.md").write_text("\n".join(lines))
