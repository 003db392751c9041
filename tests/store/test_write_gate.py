"""SQLite writers take turns on the write gate: held from a transaction's first write to its
end, never for a read, and handed on when the writer commits or rolls back."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from learnway.store import make_engine


def _taken(path: Path) -> bool:
    """Whether another open file holds the gate's lock now."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


@pytest.mark.parametrize("end", ["commit", "rollback"])
def test_the_gate_is_held_from_the_first_write_to_the_end(tmp_path: Path, end: str) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/school.db")
    gate = tmp_path / "school.db.writer"
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (n INTEGER)"))
    assert not _taken(gate)
    with engine.connect() as connection:
        connection.execute(text("SELECT count(*) FROM notes")).scalar()
        assert not _taken(gate), "a read took the gate"
        connection.execute(text("INSERT INTO notes VALUES (1)"))
        assert _taken(gate), "a write went on without the gate"
        connection.execute(text("SELECT count(*) FROM notes")).scalar()
        assert _taken(gate)
        getattr(connection, end)()
        assert not _taken(gate), f"the gate outlived the {end}"
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT count(*) FROM notes")).scalar()
    assert stored == (1 if end == "commit" else 0)
    engine.dispose()


def test_a_second_writer_waits_its_turn_and_goes_on_at_the_commit(tmp_path: Path) -> None:
    first = make_engine(f"sqlite:///{tmp_path}/school.db")  # as two server processes would
    second = make_engine(f"sqlite:///{tmp_path}/school.db")
    with first.begin() as connection:
        connection.execute(text("CREATE TABLE notes (n INTEGER)"))
    done: list[float] = []

    def write_second() -> None:
        with second.begin() as connection:
            connection.execute(text("INSERT INTO notes VALUES (2)"))
        done.append(time.monotonic())

    with first.connect() as connection:
        connection.execute(text("INSERT INTO notes VALUES (1)"))
        waiting = threading.Thread(target=write_second)
        waiting.start()
        time.sleep(0.5)
        assert not done, "the second writer did not wait for the first"
        connection.commit()
        committed = time.monotonic()
    waiting.join(10)
    assert done and done[0] >= committed
    with second.connect() as connection:
        assert connection.execute(text("SELECT n FROM notes ORDER BY n")).scalars().all() == [1, 2]
    first.dispose()
    second.dispose()


def test_the_log_is_copied_back_in_the_background_not_in_a_writers_commit(
    tmp_path: Path,
) -> None:
    """Connections leave SQLite's automatic checkpoint off (it would run inside a commit, the
    write lock held); the engine's checkpointer copies the log back into the database file."""
    database = tmp_path / "school.db"
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        assert connection.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
        connection.execute(text("CREATE TABLE notes (body TEXT)"))
    before = database.stat().st_size
    for _ in range(40):  # about 2.5 MiB of log, each commit far below SQLite's own threshold
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO notes VALUES (:b)"), {"b": "x" * 64_000})
    deadline = time.monotonic() + 10
    while database.stat().st_size < before + 2_000_000 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert database.stat().st_size >= before + 2_000_000
    engine.dispose()


def test_without_waiting_a_taken_turn_is_refused_at_once_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    from learnway.store import NO_WAIT_S, WouldWait, without_waiting

    first = make_engine(f"sqlite:///{tmp_path}/school.db")  # as two server processes would
    second = make_engine(f"sqlite:///{tmp_path}/school.db")
    with first.begin() as connection:
        connection.execute(text("CREATE TABLE notes (n INTEGER)"))
    with first.connect() as holder:
        holder.execute(text("INSERT INTO notes VALUES (1)"))  # the turn is taken
        started = time.perf_counter()
        with pytest.raises(WouldWait), without_waiting(), second.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM notes")).scalar() == 0
            connection.execute(text("INSERT INTO notes VALUES (2)"))
        waited = time.perf_counter() - started
        holder.commit()
    assert NO_WAIT_S <= waited < 1.0
    with without_waiting(), second.begin() as connection:  # a free turn is taken as ever
        connection.execute(text("INSERT INTO notes VALUES (3)"))
    with second.connect() as connection:
        stored = connection.execute(text("SELECT n FROM notes ORDER BY n")).scalars().all()
    assert stored == [1, 3]
    first.dispose()
    second.dispose()
