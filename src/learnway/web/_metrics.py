"""Prometheus metrics at ``/metrics``.

Counted in each web process: requests (by method, route template and status) and their
latency. Read from the database at scrape time (at most every few seconds): the job queue's
depth by status, attempts stored per second over the last minute, and the learner model version
each course serves. With several web processes (``learnway serve --workers N``) the per-process
figures are summed through ``prometheus_client``'s multiprocess mode, which ``serve`` turns on
by naming a folder in ``PROMETHEUS_MULTIPROC_DIR`` before the processes start.

The endpoint shows operational figures only, never a student; a public deployment still keeps it
off the internet (``docs/deploy.md``).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from learnway.web._deps import Public

REQUESTS = Counter(
    "learnway_http_requests", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "learnway_http_request_duration_seconds",
    "Time to answer an HTTP request (server time)",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
ATTEMPT_WINDOW_S = 60.0
"""Attempts per second are averaged over this many seconds."""
CACHE_S = 5.0
"""Database figures are read at most this often, however often Prometheus scrapes."""


def observe(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request (called by the application's edge middleware)."""
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


class DatabaseCollector(Collector):
    """Figures read from the school database when scraped, cached for :data:`CACHE_S`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._at = -CACHE_S
        self._figures: dict[str, Any] = {}

    def figures(self) -> dict[str, Any]:
        with self._lock:
            if time.monotonic() - self._at >= CACHE_S:
                self._figures = read_figures(self.engine)
                self._at = time.monotonic()
            return self._figures

    def collect(self) -> Iterator[GaugeMetricFamily]:
        figures = self.figures()
        jobs = GaugeMetricFamily(
            "learnway_jobs", "Background jobs in the queue, by status", labels=["status"]
        )
        for status, count in sorted(figures["jobs"].items()):
            jobs.add_metric([status], count)
        yield jobs
        yield GaugeMetricFamily(
            "learnway_attempts_per_second",
            f"Attempts stored per second over the last {ATTEMPT_WINDOW_S:.0f} s",
            value=figures["attempts_per_second"],
        )
        models = GaugeMetricFamily(
            "learnway_model_version",
            "The learner model version each course serves (0: the content's defaults)",
            labels=["framework_id", "family"],
        )
        for framework_id, (version, family) in sorted(figures["models"].items()):
            models.add_metric([str(framework_id), family], version)
        yield models


def read_figures(engine: Engine) -> dict[str, Any]:
    """The queue depth, recent attempts per second and the active model versions."""
    from learnway.store import transaction
    from learnway.store._schema import Attempt, FrameworkRow, Job, LearnerModelRow

    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=ATTEMPT_WINDOW_S)
    with transaction(engine) as session:
        jobs = dict.fromkeys(("queued", "running", "failed"), 0)
        for status, count in session.execute(
            select(Job.status, func.count()).where(Job.status != "done").group_by(Job.status)
        ):
            jobs[status] = count
        # recorded_at is the server's clock; the timestamp bound lets PostgreSQL look only at
        # the newest partitions (an attempt's own time is never far after it is stored)
        recent = session.scalar(
            select(func.count())
            .select_from(Attempt)
            .where(
                Attempt.recorded_at >= since,
                Attempt.timestamp >= since - dt.timedelta(days=1),
            )
        )
        models: dict[int, tuple[int, str]] = {
            framework_id: (0, "default")
            for framework_id in session.scalars(select(FrameworkRow.id))
        }
        for framework_id, version, family in session.execute(
            select(LearnerModelRow.framework_id, LearnerModelRow.id, LearnerModelRow.family)
            .where(LearnerModelRow.status == "active")
            .order_by(LearnerModelRow.id)
        ):
            models[framework_id] = (version, family)
    return {
        "jobs": jobs,
        "attempts_per_second": (recent or 0) / ATTEMPT_WINDOW_S,
        "models": models,
    }


def exposition(engine_collector: DatabaseCollector) -> bytes:
    """The text every scrape gets: the web processes' counters, then the database's figures."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
        counted = generate_latest(processes)
    else:
        counted = generate_latest(REGISTRY)
    database = CollectorRegistry(auto_describe=False)
    database.register(engine_collector)
    return counted + generate_latest(database)


def install_metrics(app: FastAPI, engine: Engine) -> None:
    """Serve ``/metrics`` on ``app``."""
    collector = DatabaseCollector(engine)

    async def metrics(request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        body = await run_in_threadpool(exposition, collector)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    app.add_api_route(  # aggregate figures only: no student, no name (docs/deploy.md)
        "/metrics", metrics, methods=["GET"], include_in_schema=False, dependencies=[Public]
    )
