"""The attempt log at state scale: monthly partitions on PostgreSQL, and their archiving.

On PostgreSQL the attempt log (``attempts``, by its ``timestamp``) and the mastery events
(``mastery_events``, by ``at``) are declaratively partitioned by month. Their primary keys
include the partition key, as PostgreSQL requires; an attempt's id stays unique across the log
because :func:`learnway.store._attempts.record_attempts` takes a transaction-scoped advisory lock
on each id before it looks for it and inserts. The partitions live in a schema of their own
(:data:`PARTS_SCHEMA`), so the application's schema holds exactly the tables of its models.
Rows outside every monthly partition (a late import of an old year, a clock far ahead) land in
each table's default partition. SQLite keeps one table of each.

Old months are archived by :func:`archive_partitions`: a partition is detached (the live log
no longer holds it), its rows written to a gzipped CSV file with a header, then dropped.
"""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, text

PARTS_SCHEMA = "learnway_parts"
PARTITIONED = {"attempts": "timestamp", "mastery_events": "at"}
"""Each partitioned table and the column whose month picks its partition."""
AHEAD_MONTHS = 3
"""Monthly partitions are kept ready this many months past the current one."""


@dataclass(frozen=True)
class Partition:
    table: str
    name: str
    start: dt.date | None
    """First day of its month; ``None`` for the default partition."""
    rows: int
    """The planner's estimate (exact after ANALYZE)."""


def _month(day: dt.date) -> dt.date:
    return dt.date(day.year, day.month, 1)


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def months(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    """The first day of every month from ``first``'s to ``last``'s, both included."""
    month = _month(first)
    while month <= last:
        yield month
        month = _next_month(month)


def partition_name(table: str, month: dt.date) -> str:
    return f"{table}_y{month.year:04d}m{month.month:02d}"


def is_partitioned(connection: Connection, table: str) -> bool:
    if connection.dialect.name != "postgresql":
        return False
    return bool(
        connection.scalar(
            text("SELECT count(*) FROM pg_partitioned_table WHERE partrelid = to_regclass(:t)"),
            {"t": f"public.{table}"},
        )
    )


def ensure_partitions(
    connection: Connection,
    *,
    first: dt.date | None = None,
    through: dt.date | None = None,
    tables: tuple[str, ...] = tuple(PARTITIONED),
) -> list[str]:
    """Create the monthly partitions missing between ``first`` (default: this month) and
    ``through`` (default: :data:`AHEAD_MONTHS` months ahead), and each table's default
    partition; return the partitions created. Nothing on SQLite."""
    created: list[str] = []
    if connection.dialect.name != "postgresql":
        return created
    today = dt.datetime.now(dt.UTC).date()
    first = _month(first or today)
    through = through or _month(today + dt.timedelta(days=31 * AHEAD_MONTHS))
    connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {PARTS_SCHEMA}"))
    for table in tables:
        if not is_partitioned(connection, table):
            continue
        existing = set(
            connection.scalars(
                text(
                    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = to_regclass(:t)"
                ),
                {"t": f"public.{table}"},
            )
        )
        for month in months(first, through):
            name = partition_name(table, month)
            if name in existing:
                continue
            connection.execute(
                text(
                    f"CREATE TABLE {PARTS_SCHEMA}.{name} PARTITION OF public.{table} "
                    f"FOR VALUES FROM ('{month.isoformat()}T00:00:00+00:00') "
                    f"TO ('{_next_month(month).isoformat()}T00:00:00+00:00')"
                )
            )
            created.append(name)
        default = f"{table}_default"
        if default not in existing:
            connection.execute(
                text(f"CREATE TABLE {PARTS_SCHEMA}.{default} PARTITION OF public.{table} DEFAULT")
            )
            created.append(default)
    return created


def split_default(connection: Connection) -> int:
    """Move the rows of each default partition into monthly partitions (created as needed),
    e.g. after an import of an older year; return the rows moved. Nothing on SQLite."""
    moved = 0
    if connection.dialect.name != "postgresql":
        return moved
    for table, key in PARTITIONED.items():
        default = f"{PARTS_SCHEMA}.{table}_default"
        if (
            not is_partitioned(connection, table)
            or connection.scalar(text("SELECT to_regclass(:t)"), {"t": default}) is None
        ):
            continue
        span = connection.execute(text(f'SELECT min("{key}"), max("{key}") FROM {default}')).one()
        if span[0] is None:
            continue
        connection.execute(text(f"ALTER TABLE public.{table} DETACH PARTITION {default}"))
        connection.execute(text(f"ALTER TABLE {default} RENAME TO {table}_default_moving"))
        ensure_partitions(connection, first=span[0].date(), through=span[1].date(), tables=(table,))
        moved += connection.execute(
            text(f"INSERT INTO public.{table} SELECT * FROM {PARTS_SCHEMA}.{table}_default_moving")
        ).rowcount
        connection.execute(text(f"DROP TABLE {PARTS_SCHEMA}.{table}_default_moving"))
    return moved


def partition_upkeep(engine: Engine) -> None:
    """The worker's daily upkeep: next months' partitions ready before the first attempt."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        ensure_partitions(connection)


def list_partitions(engine: Engine) -> list[Partition]:
    """Every partition of the partitioned tables, oldest month first (PostgreSQL)."""
    found: list[Partition] = []
    if engine.dialect.name != "postgresql":
        return found
    with engine.connect() as connection:
        for table in PARTITIONED:
            rows = connection.execute(
                text(
                    "SELECT c.relname, greatest(c.reltuples, 0)::bigint FROM pg_inherits i "
                    "JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = to_regclass(:t) ORDER BY c.relname"
                ),
                {"t": f"public.{table}"},
            ).all()
            for name, estimate in rows:
                found.append(Partition(table, name, _start_of(table, name), int(estimate)))
    return found


def _start_of(table: str, name: str) -> dt.date | None:
    tail = name.removeprefix(f"{table}_")
    if tail == "default" or len(tail) != 8:
        return None
    return dt.date(int(tail[1:5]), int(tail[6:8]), 1)


def archive_partitions(engine: Engine, *, before: dt.date, folder: Path) -> list[Path]:
    """Detach every monthly partition wholly before ``before``, write its rows to
    ``folder/<partition>.csv.gz`` (with a header), then drop it; return the files written.

    The attempts archived leave the live log: the learner state already holds their effect,
    but a replay of a student no longer sees them. Refused on SQLite, whose log is one table.
    """
    if engine.dialect.name != "postgresql":
        raise ValueError("archiving partitions needs PostgreSQL (SQLite keeps one table)")
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for part in list_partitions(engine):
        if part.start is None or _next_month(part.start) > before:
            continue
        target = folder / f"{part.name}.csv.gz"
        with engine.begin() as connection:
            connection.execute(
                text(f"ALTER TABLE public.{part.table} DETACH PARTITION {PARTS_SCHEMA}.{part.name}")
            )
            raw = connection.connection.dbapi_connection
            assert raw is not None
            with (
                gzip.open(target, "wb") as out,
                raw.cursor() as cursor,  # type: ignore[attr-defined]
                cursor.copy(
                    f"COPY {PARTS_SCHEMA}.{part.name} TO STDOUT WITH (FORMAT csv, HEADER)"
                ) as copy,
            ):
                for chunk in copy:
                    out.write(chunk)
            connection.execute(text(f"DROP TABLE {PARTS_SCHEMA}.{part.name}"))
        written.append(target)
    return written
