"""Migrations create the whole schema on both backends and stay in step with the models."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from learnway.store import current_revision, make_engine, transaction, upgrade
from learnway.store._schema import Base, Org, Timestamp


def test_migrations_create_every_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    from alembic.script import ScriptDirectory

    from learnway.store._engine import MIGRATIONS

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert current_revision(engine) == head


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_is_idempotent_in_place(engine: Engine) -> None:
    with transaction(engine) as session:
        session.add(Org(sourced_id="o", name="School", type="school"))
    upgrade(engine)
    with transaction(engine) as session:
        assert session.scalars(select(Org.name)).all() == ["School"]


def test_timestamps_come_back_in_utc(engine: Engine) -> None:
    stamp = Timestamp()
    dialect = engine.dialect
    local = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    back = stamp.process_result_value(stamp.process_bind_param(local, dialect), dialect)
    assert back == local
    assert back is not None and back.tzinfo == dt.UTC and back.hour == 14
    with pytest.raises(ValueError, match="no time zone"):
        stamp.process_bind_param(local.replace(tzinfo=None), dialect)


def test_check_constraints_refuse_bad_values(engine: Engine) -> None:
    with pytest.raises((IntegrityError, StatementError)), transaction(engine) as session:
        session.add(Org(sourced_id="o", name="School", type="galaxy"))
    with transaction(engine) as session:
        assert session.scalars(select(Org)).all() == []


def test_the_backend_is_what_it_claims(engine: Engine, request: pytest.FixtureRequest) -> None:
    """Guards against PostgreSQL tests silently running on SQLite."""
    backend = request.node.callspec.params["empty_template"]
    assert engine.dialect.name == backend
    with engine.connect() as connection:
        if backend == "postgresql":
            assert "PostgreSQL" in connection.execute(text("SELECT version()")).scalar_one()
        else:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_sqlite_file_is_created_with_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "school.db"
    made = make_engine(f"sqlite:///{path}")
    upgrade(made)
    assert path.exists()
