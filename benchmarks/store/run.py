"""Store benchmark: importing the real standards and course, and writing attempts.

    python benchmarks/store/run.py [--postgres URL] [--repeats 3] [--batches 50]

Figures (written to benchmarks/results/store.json and .md):
- import of the CCSS math framework and of the OpenStax Elementary Algebra course into a new
  SQLite database (read + validate + write), median of the repeats, and the rows a second
  import changes (must be 0);
- attempts stored per second in batches of 1,000 through ``record_attempts`` (validation,
  idempotent insert, duplicate detection), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from learnway.content import read_oatutor
from learnway.demo import build_demo
from learnway.frameworks import read_ccssm
from learnway.store import make_engine, transaction, upgrade
from learnway.store._attempts import AttemptIn, record_attempts
from learnway.store._load import save_course, save_framework
from learnway.store._schema import StepRow, User
from machine import machine, write

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
BATCH = 1000


def time_import(folder: Path, repeats: int) -> dict[str, object]:
    figures: dict[str, object] = {}
    for name, read, save, source in (
        ("ccssm", read_ccssm, save_framework, SHARED / "frameworks" / "ccssm"),
        (
            "elementary_algebra",
            read_oatutor,
            save_course,
            SHARED / "content" / "oatutor-elementary-algebra.tar.gz",
        ),
    ):
        seconds, second_import_changes = [], []
        for repeat in range(repeats):
            engine = make_engine(f"sqlite:///{folder / f'{name}-{repeat}.db'}")
            upgrade(engine)
            start = time.perf_counter()
            parsed = read(source)  # type: ignore[operator]
            with transaction(engine) as session:
                save(session, parsed)  # type: ignore[operator]
            seconds.append(time.perf_counter() - start)
            with transaction(engine) as session:
                second_import_changes.append(save(session, read(source)).changed)  # type: ignore[operator]
            engine.dispose()
        figures[name] = {
            "seconds_median": round(statistics.median(seconds), 3),
            "seconds_all": [round(s, 3) for s in seconds],
            "rows_changed_by_second_import": max(second_import_changes),
        }
    return figures


def time_attempts(url: str, batches: int) -> dict[str, object]:
    engine = make_engine(url)
    build_demo(engine)
    with transaction(engine) as session:
        students = np.array(session.scalars(select(User.id).where(User.role == "student")).all())
        steps = np.array(session.scalars(select(StepRow.id)).all())
    rng = np.random.default_rng(0)
    start_time = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    rates = []
    for _ in range(batches):
        batch = [
            AttemptIn(
                id=uuid.uuid4().hex,
                student_id=int(s),
                step_id=int(p),
                correct=bool(c),
                timestamp=start_time + dt.timedelta(seconds=int(t)),
                source="import",
                hints_used=int(h),
                duration_s=float(d),
            )
            for s, p, c, t, h, d in zip(
                rng.choice(students, BATCH),
                rng.choice(steps, BATCH),
                rng.random(BATCH) < 0.7,
                rng.integers(0, 10_000_000, BATCH),
                rng.integers(0, 3, BATCH),
                rng.gamma(2.0, 20.0, BATCH),
                strict=True,
            )
        ]
        began = time.perf_counter()
        with transaction(engine) as session:
            report = record_attempts(session, batch)
        rates.append(BATCH / (time.perf_counter() - began))
        assert len(report.stored) == BATCH, report.refused[:3]
    with transaction(engine) as session:
        again = record_attempts(session, batch)
    engine.dispose()
    return {
        "batch_size": BATCH,
        "batches": batches,
        "attempts_per_second_median": round(statistics.median(rates)),
        "attempts_per_second_min": round(min(rates)),
        "resend_last_batch": {"stored": len(again.stored), "duplicates": len(again.duplicates)},
    }


def fresh_postgres(url: str) -> tuple[str, str]:
    admin = create_engine(make_url(url), isolation_level="AUTOCOMMIT")
    name = f"learnway_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return name, make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_postgres(url: str, name: str) -> None:
    admin = create_engine(make_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batches", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        imports = time_import(Path(folder), args.repeats)
        sqlite = time_attempts(f"sqlite:///{Path(folder) / 'attempts.db'}", args.batches)
    name, url = fresh_postgres(args.postgres)
    try:
        postgres = time_attempts(url, args.batches)
        with make_engine(url).connect() as connection:
            server = connection.execute(text("SHOW server_version")).scalar_one()
    finally:
        drop_postgres(args.postgres, name)
    results = {
        "machine": machine(("sqlalchemy", "psycopg")),
        "postgres_server": server,
        "import_sqlite": imports,
        "attempts": {"sqlite": sqlite, "postgresql": postgres},
        "targets": {
            "ccssm_import_seconds": 2,
            "algebra_import_seconds": 10,
            "attempts_per_second": 20_000,
        },
    }
    m = results["machine"]
    ccssm, algebra = imports["ccssm"], imports["elementary_algebra"]
    rows = [
        ("CCSS math framework import, SQLite (s, median)", ccssm["seconds_median"], "< 2"),
        ("Elementary Algebra course import, SQLite (s, median)", algebra["seconds_median"], "< 10"),
        ("framework imported again: rows changed", ccssm["rows_changed_by_second_import"], "0"),
        ("course imported again: rows changed", algebra["rows_changed_by_second_import"], "0"),
        (f"attempts stored per second, SQLite, batches of {BATCH} (median)",
         f"{sqlite['attempts_per_second_median']:,}", ">= 20,000"),
        (f"attempts stored per second, PostgreSQL, batches of {BATCH} (median)",
         f"{postgres['attempts_per_second_median']:,}", ">= 20,000"),
        ("resending a batch on SQLite: stored / reported duplicate",
         "{stored} / {duplicates}".format(**sqlite["resend_last_batch"]), f"0 / {BATCH}"),
    ]  # fmt: skip
    table = "\n".join(f"| {name} | {value} | {target} |" for name, value, target in rows)
    markdown = (
        "# Store benchmark\n\n"
        f"`python benchmarks/store/run.py` on {m['cpu']} ({m['cpus']} cores), "
        f"Python {m['python']}, PostgreSQL {server}, {m['date']}; "
        f"imports: median of {args.repeats} runs, attempts: {args.batches} batches.\n\n"
        "| figure | result | target |\n|---|---|---|\n" + table
    )
    print(markdown)
    print("written to", write("store", results, markdown))


if __name__ == "__main__":
    main()
