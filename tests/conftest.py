"""Fixtures shared by every test: the real data in ../shared, and databases on both backends.

Database tests run on SQLite and on PostgreSQL. Each test gets a database of its own, copied
from a template built once per session (an empty schema, or the demo school with the real
content), so no test depends on another or wipes a shared database. PostgreSQL tests carry the
``postgres`` marker; they use the server named by ``LEARNWAY_TEST_POSTGRES_URL`` (default: the
local server on 127.0.0.1:5432). When that server cannot be reached they fail under CI and are
skipped elsewhere, with the reason shown.
"""

from __future__ import annotations

import os
import queue
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from learnway.store import make_engine, upgrade

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CCSSM_DIR = SHARED / "frameworks" / "ccssm"
ALGEBRA_TARBALL = SHARED / "content" / "oatutor-elementary-algebra.tar.gz"
POSTGRES_URL = os.environ.get(
    "LEARNWAY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"the shared data folder {SHARED} is missing")
    return SHARED


class _Postgres:
    """Creates uniquely named databases on the test server, and drops them again.

    A test's database is dropped in a background thread as soon as the test is done, so that
    the server's work of removing it overlaps the next tests instead of piling up at the end.
    """

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        self.made: list[str] = []
        self._doomed: queue.Queue[str | None] = queue.Queue()
        self._dropper = threading.Thread(target=self._drop_queued, daemon=True)
        self._dropper.start()

    def create(self, template: str | None = None) -> str:
        name = f"learnway_test_{uuid.uuid4().hex[:12]}"
        clause = f" TEMPLATE {template}" if template else ""
        with self.admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}{clause}"))
        self.made.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def release(self, engine: Engine) -> None:
        """Drop this test database soon, in the background."""
        name = engine.url.database
        if engine.dialect.name == "postgresql" and name in self.made:
            self._doomed.put(name)

    def _drop_queued(self) -> None:
        while (name := self._doomed.get()) is not None:
            self._drop(name)

    def _drop(self, name: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        self.made.remove(name)

    def drop_all(self) -> None:
        self._doomed.put(None)
        self._dropper.join()
        for name in list(self.made):
            self._drop(name)
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres() -> Iterator[_Postgres]:
    server = _Postgres(POSTGRES_URL)
    try:
        with server.admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # pragma: no cover - depends on the machine
        message = f"PostgreSQL at {POSTGRES_URL} cannot be reached: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message + " (set LEARNWAY_TEST_POSTGRES_URL; CI always runs these)")
    yield server
    server.drop_all()


def _build_template(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    fill: Callable[[Engine], None],
) -> Callable[[], Engine]:
    """Build a database once with ``fill``; return a factory of fresh copies of it."""
    if backend == "sqlite":
        folder = tmp_path_factory.mktemp("template")
        template = folder / "template.db"
        engine = make_engine(f"sqlite:///{template}")
        fill(engine)
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()

        def copy_sqlite() -> Engine:
            target = tmp_path_factory.mktemp("db") / "learnway.db"
            shutil.copyfile(template, target)
            return make_engine(f"sqlite:///{target}")

        return copy_sqlite
    server: _Postgres = request.getfixturevalue("postgres")
    url = server.create()
    engine = make_engine(url)
    fill(engine)
    engine.dispose()
    name = make_url(url).database

    def copy_postgres() -> Engine:
        return make_engine(server.create(template=name))

    return copy_postgres


@pytest.fixture(scope="session", params=BACKENDS)
def empty_template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[], Engine]:
    return _build_template(request.param, request, tmp_path_factory, upgrade)


@pytest.fixture(scope="session", params=BACKENDS)
def demo_template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[], Engine]:
    from learnway.demo import build_demo

    return _build_template(request.param, request, tmp_path_factory, build_demo)


def _own(request: pytest.FixtureRequest, made: Engine) -> Iterator[Engine]:
    server = request.getfixturevalue("postgres") if made.dialect.name == "postgresql" else None
    yield made
    made.dispose()
    if server is not None:
        server.release(made)


@pytest.fixture
def engine(
    request: pytest.FixtureRequest, empty_template: Callable[[], Engine]
) -> Iterator[Engine]:
    """A migrated, empty database of its own, on each backend."""
    yield from _own(request, empty_template())


@pytest.fixture
def demo_engine(
    request: pytest.FixtureRequest, demo_template: Callable[[], Engine]
) -> Iterator[Engine]:
    """A database of its own holding the demo school and the real content, on each backend."""
    yield from _own(request, demo_template())
