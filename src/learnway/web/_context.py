"""What the application holds for its lifetime: engine, settings, templates, limits, caches.

Built by :func:`learnway.web.create_app`, never at import time, and reached from a request
through ``request.app.state.web``.
"""

from __future__ import annotations

import gc
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from learnway.content import AnswerChecker
from learnway.paths import CourseGraph
from learnway.settings import Settings
from learnway.store import LiveCourse, active_version, live_course, load_course
from learnway.web._catalog import Catalog, build_catalog
from learnway.web._security import CookieSigner, RateLimiter

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class StepFacts:
    """What checking and storing an answer to a step needs of the step."""

    id: int
    item_id: int
    answer_type: str
    problem_type: str
    answers: tuple[str, ...]
    choices: tuple[str, ...]
    following: int | None
    """The next step of the item, if any."""


TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


@dataclass
class WebContext:
    engine: Engine
    settings: Settings
    templates: Jinja2Templates
    signer: CookieSigner
    _courses: dict[int, tuple[LiveCourse, Catalog]] = field(default_factory=dict)
    steps: dict[int, StepFacts] = field(default_factory=dict)
    """What answering each step needs of it, read once (``web._practice.step_facts``):
    content is fixed while it is served, as the courses are."""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    login_by_user: RateLimiter = field(init=False)
    login_by_address: RateLimiter = field(init=False)
    checker: AnswerChecker = field(init=False)
    """Checks typed answers in worker processes, bounded in time and memory."""
    answer_writers: threading.BoundedSemaphore = field(init=False)
    """Answers this process stores at once (their checks are not counted): one on SQLite,
    which takes one writer at a time, two on PostgreSQL (one waits on the database while the
    other computes). More would only compete for the interpreter, which runs one thread's
    Python at a time: a writer holding SQLite's write lock then waits behind every other
    thread for each statement."""
    answer_threads: ThreadPoolExecutor = field(init=False)
    """The threads in which the API stores answers on PostgreSQL, as many as
    ``answer_writers``: each answer is handed to one that is free, or queued on the event loop
    for the next (``web.api._practice``), rather than given to a thread of its own that would
    wait for its turn among the others."""

    def __post_init__(self) -> None:
        self.checker = AnswerChecker(
            workers=self.settings.answer_check_workers,
            time_limit_s=self.settings.answer_check_seconds,
            memory_limit_mb=self.settings.answer_check_memory_mb,
        )
        writers = 1 if self.engine.dialect.name == "sqlite" else 2
        self.answer_writers = threading.BoundedSemaphore(writers)
        self.answer_threads = ThreadPoolExecutor(writers, thread_name_prefix="learnway-answer")
        self.login_by_user = RateLimiter(limit=5, window_s=60.0)
        self.login_by_address = RateLimiter(limit=100, window_s=60.0)

    @property
    def secure_cookies(self) -> bool:
        return self.settings.environment == "production"

    def course(self, session: Session, framework_id: int) -> tuple[CourseGraph, Catalog]:
        """The planner's view of a course and its catalog, under the course's live model
        version: built once per version from the database."""
        live, catalog = self.live(session, framework_id)
        return live.course, catalog

    def live(
        self, session: Session, framework_id: int, *, version: int | None = None
    ) -> tuple[LiveCourse, Catalog]:
        """The course as the live path serves it (graph, competency ids, model version);
        ``version``: its live model version, when the caller has just read it."""
        version = active_version(session, framework_id) if version is None else version
        with self._lock:
            cached = self._courses.get(framework_id)
        if cached is None or cached[0].version != version:
            graph = load_course(session, framework_id)
            cached = (
                live_course(session, graph, framework_id, version=version),
                build_catalog(session, framework_id, graph),
            )
            with self._lock:
                self._courses[framework_id] = cached
            # The course stays for the life of the process (full collections triggered by
            # large responses scanned it again and doubled the heatmap's time).
            keep_for_life()
        return cached


def keep_for_life() -> None:
    """Move every object made so far out of the garbage collector's sight (:func:`gc.freeze`),
    once a process has built what it keeps until it ends (the application, a course): a full
    collection would otherwise scan all of it again each time, and no request of the process
    moves while it does."""
    gc.collect()
    gc.freeze()
