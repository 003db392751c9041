"""scale: the attempt log and the mastery events partitioned by month on PostgreSQL

Revision ID: 0016
Revises: 0015

On PostgreSQL each table is rebuilt as a declaratively partitioned table (by ``timestamp`` and
``at``): same columns, defaults, checks, foreign keys and indexes, the partition key added to
the primary key, monthly partitions from the oldest row's month to a few months ahead plus a
default partition, the rows copied over. SQLite keeps one table of each. Both get a BRIN (on
SQLite: b-tree) index on the attempts' ``recorded_at`` for the recent-attempt figures.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTITIONED = {"attempts": "timestamp", "mastery_events": "at"}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from learnway.store._scale import ensure_partitions

        for table, key in PARTITIONED.items():
            _rebuild(bind, table, partition_key=key)
        oldest = [
            bind.scalar(sa.text(f'SELECT min("{key}") FROM {table}'))
            for table, key in PARTITIONED.items()
        ]
        known = [o.date() for o in oldest if o is not None]
        ensure_partitions(bind, first=min(known) if known else None)
        for table in PARTITIONED:
            bind.execute(sa.text(f"INSERT INTO {table} SELECT * FROM {table}_unpartitioned"))
            bind.execute(sa.text(f"DROP TABLE {table}_unpartitioned"))
    op.create_index("ix_attempts_recorded_at", "attempts", ["recorded_at"], postgresql_using="brin")


def downgrade() -> None:
    op.drop_index("ix_attempts_recorded_at", table_name="attempts")
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in PARTITIONED:
            _rebuild(bind, table, partition_key=None)
            bind.execute(sa.text(f"INSERT INTO {table} SELECT * FROM {table}_unpartitioned"))
            bind.execute(sa.text(f"DROP TABLE {table}_unpartitioned CASCADE"))


def _rebuild(bind: sa.Connection, table: str, *, partition_key: str | None) -> None:
    """Rename ``table`` aside and create it anew (partitioned by ``partition_key``, or plain)
    with the same columns, defaults, checks, foreign keys and indexes; the rows stay in
    ``<table>_unpartitioned`` for the caller to copy and drop."""
    old = f"{table}_unpartitioned"
    run = lambda sql: bind.execute(sa.text(sql))  # noqa: E731
    indexes = bind.execute(
        sa.text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
            "AND tablename = :t AND indexname <> :pk"
        ),
        {"t": table, "pk": f"pk_{table}"},
    ).all()
    foreign = bind.execute(
        sa.text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = to_regclass(:t) AND contype = 'f'"
        ),
        {"t": f"public.{table}"},
    ).all()
    sequences = bind.execute(
        sa.text(
            "SELECT a.attname, pg_get_serial_sequence(:t, a.attname) FROM pg_attribute a "
            "WHERE a.attrelid = to_regclass(:t) AND a.attnum > 0 AND NOT a.attisdropped "
            "AND pg_get_serial_sequence(:t, a.attname) IS NOT NULL"
        ),
        {"t": f"public.{table}"},
    ).all()
    for name, _ in indexes:
        run(f"DROP INDEX {name}")
    for name, _ in foreign:
        run(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for _, sequence in sequences:
        run(f"ALTER SEQUENCE {sequence} OWNED BY NONE")
    run(f"ALTER TABLE {table} RENAME TO {old}")
    run(f"ALTER TABLE {old} RENAME CONSTRAINT pk_{table} TO pk_{old}")
    partitioned = f' PARTITION BY RANGE ("{partition_key}")' if partition_key else ""
    run(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS){partitioned}")
    key = f', "{partition_key}"' if partition_key else ""
    run(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (id{key})")
    for name, definition in foreign:
        run(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    for _, definition in indexes:
        run(definition)  # it names public.<table>, now the new one
    for column, sequence in sequences:
        run(f"ALTER SEQUENCE {sequence} OWNED BY {table}.{column}")
