"""Background jobs: a queue in the school database, so it works wherever the data does.

A job is claimed by one worker at a time (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite
serializes writers), then run in a transaction of its own that also marks it done: the work and
its completion commit together. A worker that dies mid-job leaves it ``running``; once its lease
has passed another worker claims it again and runs it from the start, so handlers are written to
be repeatable (a replay rebuilds from the attempt log). A job that raises is retried with a
growing delay, and marked ``failed`` with its error after ``MAX_TRIES``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from learnway.store._engine import transaction
from learnway.store._schema import Job

Handler = Callable[[Session, dict[str, Any]], None]
LEASE = dt.timedelta(minutes=10)
MAX_TRIES = 5
log = logging.getLogger(__name__)


def enqueue(
    session: Session,
    kind: str,
    *,
    key: str | None = None,
    payload: dict[str, Any] | None = None,
    run_after: dt.datetime | None = None,
) -> bool:
    """Queue a job in the caller's transaction. A job with the same ``key`` still waiting to
    run covers this one: nothing is added and False is returned."""
    if key is not None and session.scalar(
        select(Job.id).where(Job.key == key, Job.status == "queued").limit(1)
    ):
        return False
    now = dt.datetime.now(dt.UTC)
    session.add(
        Job(kind=kind, key=key, payload=payload or {}, status="queued", tries=0,
            run_after=run_after or now, created_at=now)
    )  # fmt: skip
    session.flush()
    return True


def _claim(session: Session, now: dt.datetime) -> Job | None:
    session.execute(
        update(Job)
        .where(Job.status == "running", Job.locked_at < now - LEASE)
        .values(status="queued")
    )
    query = (
        select(Job.id).where(Job.status == "queued", Job.run_after <= now).order_by(Job.id).limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    job_id = session.scalar(query)
    if job_id is None:
        return None
    taken = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "queued")
        .values(status="running", locked_at=now, tries=Job.tries + 1)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get(Job, job_id)


def run_one(engine: Engine, handlers: Mapping[str, Handler]) -> bool:
    """Claim and run one due job; False when there was none."""
    with transaction(engine) as session:
        job = _claim(session, dt.datetime.now(dt.UTC))
        if job is None:
            return False
        job_id, kind, payload, tries = job.id, job.kind, dict(job.payload), job.tries
    try:
        with transaction(engine) as session:
            handler = handlers.get(kind)
            if handler is None:
                raise LookupError(f"no handler for jobs of kind {kind!r}")
            handler(session, payload)
            session.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(status="done", finished_at=func.now(), last_error=None)
            )
    except Exception:
        error = traceback.format_exc(limit=5)
        log.exception("job %s (%s) failed on try %s", job_id, kind, tries)
        retry = tries < MAX_TRIES
        with transaction(engine) as session:
            session.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(
                    status="queued" if retry else "failed",
                    last_error=error[-4000:],
                    run_after=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2**tries),
                    finished_at=None if retry else func.now(),
                )
            )
    return True


def run_pending(engine: Engine, handlers: Mapping[str, Handler], *, limit: int = 1000) -> int:
    """Run due jobs until none is left (or ``limit``); return how many ran."""
    done = 0
    while done < limit and run_one(engine, handlers):
        done += 1
    return done


def work(
    engine: Engine,
    handlers: Mapping[str, Handler],
    stop: threading.Event,
    *,
    poll_s: float = 0.5,
    periodic: Mapping[Callable[[Engine], object], float] | None = None,
) -> None:
    """Run jobs until ``stop`` is set, polling every ``poll_s`` seconds when idle, and call each
    ``periodic`` function every so many seconds."""
    due = dict.fromkeys(periodic or {}, 0.0)
    while not stop.is_set():
        try:
            ran = run_one(engine, handlers)
            for task, every in (periodic or {}).items():
                if time.monotonic() >= due[task]:
                    task(engine)
                    due[task] = time.monotonic() + every
        except Exception:  # the worker outlives a database hiccup
            log.exception("background worker error")
            ran = False
        if not ran:
            stop.wait(poll_s)
