"""The research export: de-identified Parquet files that DuckDB and the KT harness read."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from sqlalchemy import Engine, select

from learnway.learner._datasets import load_splits
from learnway.store import transaction
from learnway.store._parquet import export_parquet, pseudonym
from learnway.store._schema import User


@pytest.mark.slow
def test_the_demo_school_exports_de_identified_and_loads_in_duckdb_and_the_harness(
    demo_engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "export"
    report = export_parquet(demo_engine, folder, salt="s3cret", min_cell=10)
    assert report.rows["attempts"] > 1000 and report.rows["learner_state"] > 100
    db = duckdb.connect()
    for table in ("attempts", "learner_state", "mastery_events", "students"):
        count = db.execute(f"SELECT count(*) FROM '{folder / table}.parquet'").fetchone()
        assert count is not None and count[0] == report.rows[table]
    dictionary = json.loads((folder / "data_dictionary.json").read_text())
    assert set(dictionary["tables"]["attempts"]["columns"]) == set(
        pd.read_parquet(folder / "attempts.parquet").columns
    )

    # no name, username or sourcedId anywhere in the files (nor the salt)
    with transaction(demo_engine) as session:
        people = session.execute(
            select(User.id, User.username, User.sourced_id, User.given_name, User.family_name)
        ).all()
    blob = b"".join(p.read_bytes() for p in folder.iterdir())
    text = "\n".join(
        str(v) for t in ("attempts", "learner_state", "mastery_events", "students")
        for v in pd.read_parquet(folder / f"{t}.parquet").astype(str).to_numpy().ravel()
    )  # fmt: skip
    for _, username, sourced_id, given, family in people:
        for secret in (username, sourced_id, f"{given} {family}"):
            assert secret not in text
            assert secret.encode() not in blob
    assert b"s3cret" not in blob
    # the same salt names the same student the same way; the database id never appears
    students = pd.read_parquet(folder / "students.parquet")
    ids = {p[0] for p in people}
    assert set(students["student_id"]) <= {pseudonym("s3cret", "student", i) for i in ids}
    # a subgroup value shown belongs to at least min_cell students
    for column in ("sex", "asian", "hispanic_or_latino_ethnicity"):
        counts = students[column].dropna().value_counts()
        assert (counts >= 10).all()

    (split, *_) = load_splits(str(folder), n_folds=3)
    assert len(split.train) + len(split.test) > 0
    assert {"student_id", "competency_id", "correct"} <= set(split.train.columns)
