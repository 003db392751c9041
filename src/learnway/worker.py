"""The background worker: runs the queued jobs of the school database and its periodic upkeep.

``learnway worker`` runs it alone (production: one or more beside the web servers);
``learnway serve`` runs one in a thread of its own, so the embedded default needs nothing else.
Jobs are claimed one at a time and survive a crash (see :mod:`learnway.store._jobs`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Engine

from learnway.store import JOB_HANDLERS, work
from learnway.store._jobs import Handler


def handlers() -> dict[str, Handler]:
    """Every kind of background job, by name."""
    return dict(JOB_HANDLERS)


def periodic() -> dict[Callable[[Engine], object], float]:
    """Upkeep run every so many seconds: grades to the LMSs every minute (LTI Advantage, only
    what changed, failures when due), their course rosters every hour, the retention policy
    (``LEARNWAY_RETENTION_DAYS``) and the next months' partitions of the attempt log
    (PostgreSQL) every day."""
    from learnway.store._erase import retention_upkeep
    from learnway.store._scale import partition_upkeep
    from learnway.web._lti_services import sync_grades, sync_rosters

    return {
        sync_grades: 60.0,
        sync_rosters: 3600.0,
        retention_upkeep: 86400.0,
        partition_upkeep: 86400.0,
    }


def run(engine: Engine, stop: threading.Event, *, poll_s: float = 0.5) -> None:
    """Work until ``stop`` is set."""
    work(engine, handlers(), stop, poll_s=poll_s, periodic=periodic())


def start(engine: Engine, *, poll_s: float = 0.5) -> tuple[threading.Thread, threading.Event]:
    """Run the worker in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run, args=(engine, stop), kwargs={"poll_s": poll_s}, name="learnway-worker",
        daemon=True,
    )  # fmt: skip
    thread.start()
    return thread, stop
