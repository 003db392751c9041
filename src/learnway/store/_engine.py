"""Engines, sessions and schema migrations for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

MIGRATIONS = Path(__file__).with_name("migrations")


def normalize_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


POOL_SIZE = 10
"""Connections kept open in an engine's pool."""
POOL_OVERFLOW = 32
"""Connections opened beyond those when more are needed at once, closed when given back: with
``POOL_SIZE`` as many as the threads a web process runs its routes on (40, Starlette's thread
pool) and those that store the API's answers (at most two: the event loop on SQLite, the answer
threads on PostgreSQL), so that no request waits for a connection while others hold theirs (an
answer holds its connection while it is checked)."""


class WouldWait(Exception):
    """Raised under :func:`without_waiting` where the work would have to wait longer than
    ``NO_WAIT_S`` for its turn to write (SQLite's write turn, taken by another writer). It comes
    before the transaction's first write: the caller runs the work again where waiting is
    harmless (a worker thread)."""


NO_WAIT_S = 0.02
"""The longest work under :func:`without_waiting` waits for SQLite's write turn (another
answer holds it only for its writes, computed before it took the turn)."""
_NO_WAITING: ContextVar[bool] = ContextVar("learnway_no_waiting", default=False)


@contextmanager
def without_waiting() -> Iterator[None]:
    """Work done here waits for no other writer; it raises :class:`WouldWait` instead.

    For the API's answers, stored where a wait would hold up others (on SQLite on the event
    loop, on PostgreSQL in the few answer threads of a web process): one that finds its turn
    taken for longer than ``NO_WAIT_S`` (:func:`wait_limit`) goes to a worker thread of its
    own."""
    token = _NO_WAITING.set(True)
    try:
        yield
    finally:
        _NO_WAITING.reset(token)


def wait_limit() -> float | None:
    """How long work may wait for a turn here: without limit, or ``NO_WAIT_S`` under
    :func:`without_waiting`."""
    return NO_WAIT_S if _NO_WAITING.get() else None


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``. SQLite files get WAL, foreign keys and a busy timeout; a file
    database's writers take turns (:class:`_WriteGate`). The pool holds a connection for each
    thread of a web process (``POOL_SIZE`` kept, up to ``POOL_OVERFLOW`` more)."""
    url = normalize_url(url)
    parsed = make_url(url)
    on_file = parsed.database not in (None, "", ":memory:")
    if "poolclass" not in kwargs and (on_file or parsed.get_backend_name() == "postgresql"):
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", POOL_OVERFLOW)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        if database and database != ":memory:":
            _WriteGate(Path(database)).install(engine)
            _Checkpointer(Path(database), engine).start()
        return engine
    if parsed.get_backend_name() == "postgresql":
        try:
            import psycopg  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise RuntimeError("PostgreSQL needs: pip install 'learnway[postgres]'") from exc
        # No JIT compilation: every statement here is short or runs once, in far less time
        # than compiling it takes (a quarter of a second a query at district scale), and a
        # misestimate on a table being loaded would otherwise make each answer pay for one.
        kwargs.setdefault("connect_args", {}).setdefault("options", "-c jit=off")
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA wal_autocheckpoint=0")  # the engine's _Checkpointer does it
    cursor.close()


CHECKPOINT_EVERY_S = 0.5
CHECKPOINT_AT_BYTES = 1 << 20


class _Checkpointer(threading.Thread):
    """Copies a SQLite file's write-ahead log back into the database, in the background.

    SQLite's own automatic checkpoint runs inside the commit that grows the log past its
    limit, while that writer still holds the write lock: every writer waits for the copy and
    its ``fsync``. Here connections leave it off, and
    this thread of the engine's process, on a connection of its own, checkpoints the log
    (``PASSIVE``: never waiting for readers or writers, nor holding them up) whenever it has
    grown past ``CHECKPOINT_AT_BYTES``. It stops when the engine is gone."""

    def __init__(self, database: Path, engine: Engine) -> None:
        super().__init__(name=f"checkpoint {database.name}", daemon=True)
        self.database = database
        self.wal = database.with_name(database.name + "-wal")
        self.engine = weakref.ref(engine)

    def run(self) -> None:
        connection: sqlite3.Connection | None = None
        try:
            while self.engine() is not None:
                time.sleep(CHECKPOINT_EVERY_S)
                try:
                    if self.wal.stat().st_size < CHECKPOINT_AT_BYTES:
                        continue
                    if connection is None:
                        connection = sqlite3.connect(self.database, check_same_thread=False)
                        connection.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except (OSError, sqlite3.Error):
                    continue  # no log yet, or the file is gone: try again later
        finally:
            if connection is not None:
                connection.close()


BUSY_TIMEOUT_S = 10.0
_READS = ("SELECT", "PRAGMA", "SAVEPOINT", "RELEASE", "ROLLBACK")


class _WriteGate:
    """Writers of one SQLite file take turns, across the threads and processes of Learnway.

    SQLite has one write lock per database, taken by a transaction's first write and held to
    its end; a writer that finds it taken is left to SQLite's busy handler, which sleeps in
    growing steps (up to 100 ms) and polls, so that under many concurrent writers the waits
    pile up far beyond the work. Here a connection about to write first waits its turn on a
    lock (the threads of a process) and an exclusive ``flock`` of ``<database>.writer`` (the
    processes), and is woken the moment the writer before it commits or rolls back. The gate
    is held from the transaction's first write to its end, exactly as SQLite's own lock; a
    turn not given within the busy timeout is not waited for longer (SQLite then decides, as
    without the gate), so that the gate can delay a writer but never block it for good. Under
    :func:`without_waiting` a turn not given within ``NO_WAIT_S`` raises :class:`WouldWait`."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".writer")
        self._turn = threading.Lock()
        self._holder: Any = None
        self._file: int | None = None

    def install(self, engine: Engine) -> None:
        event.listen(engine, "before_cursor_execute", self._before_execute)
        event.listen(engine, "after_cursor_execute", self._after_execute)
        event.listen(engine.pool, "checkin", self._ended)
        event.listen(engine.pool, "invalidate", self._ended)
        dialect = engine.dialect
        commit, rollback = dialect.do_commit, dialect.do_rollback

        def do_commit(connection: Any) -> None:
            try:
                commit(connection)
            finally:
                self._release(connection)

        def do_rollback(connection: Any) -> None:
            try:
                rollback(connection)
            finally:
                self._release(connection)

        dialect.do_commit = do_commit  # type: ignore[method-assign,assignment]
        dialect.do_rollback = do_rollback  # type: ignore[method-assign,assignment]

    def _before_execute(self, conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        raw = _raw(conn.connection)
        if raw is self._holder or statement.lstrip()[:9].upper().startswith(_READS):
            return
        limit = wait_limit()
        if not self._turn.acquire(timeout=BUSY_TIMEOUT_S if limit is None else limit):
            if limit is not None:
                raise WouldWait("another writer of this process has the write turn")
            return  # another connection of this thread, or a stalled writer: SQLite decides
        try:
            if self._file is None:
                self._file = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            if limit is None:
                fcntl.flock(self._file, fcntl.LOCK_EX)
            else:
                _flock_within(self._file, limit)
        except BaseException:
            self._turn.release()
            raise
        self._holder = raw

    def _after_execute(self, conn: Any, *_args: Any) -> None:
        raw = _raw(conn.connection)
        if raw is self._holder and not raw.in_transaction:  # autocommit: nothing is held
            self._release(raw)

    def _ended(self, connection: Any, *_args: Any) -> None:
        self._release(connection)

    def _release(self, connection: Any) -> None:
        raw = _raw(connection)
        if raw is None or raw is not self._holder:
            return
        self._holder = None
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
        self._turn.release()


def _flock_within(file: int, seconds: float) -> None:
    """An exclusive ``flock`` of ``file`` taken within ``seconds``, or :class:`WouldWait`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise WouldWait("another process has the write turn") from None
            time.sleep(0.0002)


def _raw(connection: Any) -> Any:
    """The sqlite3 connection under a pool's proxy (or the connection itself)."""
    return getattr(connection, "dbapi_connection", connection)


def make_session(engine: Engine) -> Session:
    """A session on ``engine`` whose objects stay readable after its commit (a plain
    ``Session``: a ``sessionmaker`` would build a new class each time)."""
    return Session(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session whose work is committed at the end, or rolled back on any error. The caller
    may commit earlier (a live answer commits its writes at once); what follows is then a new
    transaction, committed or rolled back at the end in the same way."""
    with make_session(engine) as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create the schema, or bring an existing database up to ``revision``, in place."""
    from alembic import command

    config = _alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version")
