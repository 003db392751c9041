"""deploy/backup.sh and deploy/restore.sh round-trip the demo school on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from dbdump import dump
from learnway.store import make_engine

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LEARNWAY_COMMAND": str(Path(sys.executable).with_name("learnway"))}
    return subprocess.run(["bash", str(ROOT / "deploy" / name), *args], capture_output=True,
                          text=True, env=env, timeout=300, check=False)  # fmt: skip


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_backup_and_restore_round_trip_the_demo_school(
    postgres,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    from learnway.demo import build_demo

    source = make_engine(postgres.create())
    build_demo(source)
    archive = tmp_path / "school.dump"
    made = _script("backup.sh", _url(source), str(archive))
    assert made.returncode == 0, made.stderr
    assert archive.stat().st_size > 0
    target = make_engine(postgres.create())
    restored = _script("restore.sh", str(archive), _url(target))
    assert restored.returncode == 0, restored.stderr
    before, after = dump(source), dump(target)
    assert sum(len(rows) for rows in before.values()) > 1000
    assert after == before
    with target.connect() as connection:  # partitions came back as partitions
        kind = connection.scalar(text("SELECT relkind FROM pg_class WHERE relname = 'attempts'"))
    assert kind == "p"
    # restoring over a database that holds data is refused
    again = _script("restore.sh", str(archive), _url(target))
    assert again.returncode == 1
    assert "refusing" in again.stderr
    for engine in (source, target):
        engine.dispose()
        postgres.release(engine)
