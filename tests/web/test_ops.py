"""Operations: health and readiness, Prometheus metrics, several web processes on one port."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from learnway.store import make_engine, transaction, upgrade
from learnway.store._jobs import enqueue
from learnway.store._schema import Attempt, Job, StepRow, User
from learnway.web import create_app
from web.served import free_port, httpx, learnway_serve
from web.support import SETTINGS


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition ``text``; fails if it is not there."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        found = re.fullmatch(rf"{re.escape(name)}(?:\{{(.*)\}})?", head)
        if found and ",".join(sorted((found.group(1) or "").split(","))) == wanted:
            return float(value)
    raise AssertionError(f"no sample {name}{{{wanted}}} in the metrics")


def test_health_and_readiness_on_a_migrated_school(app: FastAPI) -> None:
    client = TestClient(app)
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_readyz_answers_503_while_migrations_are_pending(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0015")  # a database one release behind the code
    client = TestClient(create_app(engine, settings=SETTINGS))
    assert client.get("/healthz").status_code == 200  # alive all the same
    pending = client.get("/readyz")
    assert pending.status_code == 503
    assert pending.json()["status"] == "migrations pending"
    assert pending.json()["database"] == "0015"
    upgrade(engine)
    assert client.get("/readyz").status_code == 200
    engine.dispose()


def test_readyz_answers_503_when_the_database_is_unreachable() -> None:
    engine = make_engine(
        "postgresql://nobody@127.0.0.1:9/none", connect_args={"connect_timeout": 2}
    )
    client = TestClient(create_app(engine, settings=SETTINGS))
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["status"] == "database unreachable"


def _record_attempt_now(engine: Engine) -> None:
    from learnway.store._attempts import AttemptIn, record_attempts

    with transaction(engine) as session:
        student = session.scalars(select(User.id).where(User.role == "student")).first()
        step = session.scalars(select(StepRow.id)).first()
        assert student is not None and step is not None
        now = dt.datetime.now(dt.UTC)
        report = record_attempts(
            session, [AttemptIn(id=f"metrics-{now.timestamp()}", student_id=student,
                                step_id=step, correct=True, timestamp=now)],
        )  # fmt: skip
        assert report.stored
        session.execute(Attempt.__table__.update().values(recorded_at=now - dt.timedelta(days=9)))
        session.execute(Attempt.__table__.update().where(Attempt.timestamp >= now - dt.timedelta(
            seconds=5)).values(recorded_at=now))  # fmt: skip
        enqueue(session, "no_such_kind", run_after=now + dt.timedelta(days=1))


def test_metrics_count_requests_and_read_the_queue_the_attempts_and_the_model(
    demo_engine: Engine,
) -> None:
    _record_attempt_now(demo_engine)
    client = TestClient(create_app(demo_engine, settings=SETTINGS))
    before = client.get("/metrics")
    assert before.status_code == 200
    assert before.headers["content-type"].startswith("text/plain")
    for _ in range(3):
        client.get("/healthz")
    client.get("/students/999999")  # a page that needs signing in: counted by its route
    text = client.get("/metrics").text
    assert metric(text, "learnway_http_requests_total", method="GET", route="/healthz",
                  status="200") >= 3  # fmt: skip
    assert metric(text, "learnway_http_request_duration_seconds_count", method="GET",
                  route="/healthz") >= 3  # fmt: skip
    assert "/students/999999" not in text  # routes, never what a client typed
    assert metric(text, "learnway_jobs", status="queued") == 1
    # one attempt stored in the last minute (the demo's own were moved back in time)
    assert metric(text, "learnway_attempts_per_second") == pytest.approx(1 / 60)
    assert metric(text, "learnway_model_version", framework_id="1", family="default") == 0


@pytest.mark.slow
def test_serve_with_two_workers_shares_one_port_and_runs_jobs_once(
    demo_engine: Engine, tmp_path: Path
) -> None:
    with transaction(demo_engine) as session:
        enqueue(session, "rebuild", payload={})
        job = session.scalars(select(Job.id).where(Job.kind == "rebuild")).one()
    port = free_port()
    with learnway_serve(demo_engine, tmp_path, port, extra=["--workers", "2"]) as process:
        base = f"http://127.0.0.1:{port}"
        web = _children(process.pid)
        assert len(web) == 2, f"expected two web processes, found {web}"
        for _ in range(20):
            assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200
        text = httpx.get(f"{base}/metrics", timeout=10).text
        # counted in whichever process answered, summed over both
        assert metric(text, "learnway_http_requests_total", method="GET", route="/healthz",
                      status="200") == 20  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with transaction(demo_engine) as session:
                status, tries = session.execute(
                    select(Job.status, Job.tries).where(Job.id == job)
                ).one()
            if status == "done":
                break
            time.sleep(0.5)
        assert (status, tries) == ("done", 1)


def _children(pid: int) -> list[int]:
    """The processes ``pid`` started as web workers (multiprocessing's spawned children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid and "spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


def test_no_worker_thread_in_a_web_process(
    demo_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each web process of ``serve --workers N`` builds its application without the job worker,
    which runs once in the supervising process."""
    import threading

    from learnway.settings import get_settings
    from learnway.web._serve import app_from_environment

    monkeypatch.setenv(
        "LEARNWAY_DATABASE_URL", demo_engine.url.render_as_string(hide_password=False)
    )
    monkeypatch.setenv("LEARNWAY_SECRET_KEY", SETTINGS.secret_key)
    get_settings.cache_clear()
    try:
        app = app_from_environment()
        assert app.state.web.engine.url == demo_engine.url
        assert "learnway-worker" not in {t.name for t in threading.enumerate()}
        app.state.web.engine.dispose()
    finally:
        get_settings.cache_clear()
