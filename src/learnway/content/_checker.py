"""Answer checking in worker processes, each check bounded in time and memory.

A server must never be held up by what one learner types. :class:`AnswerChecker` runs
:func:`~learnway.content.check_answer` in a few worker processes (``workers``). A check that
runs past ``time_limit_s`` seconds, or needs more than ``memory_limit_mb`` MiB beyond what a
worker holds when it starts, has its worker killed; the answer is refused with
:class:`AnswerTooLarge` ("this answer is too large to check") and a fresh worker takes the
place of the killed one at the next check. When every worker stays busy for ``wait_s`` seconds,
the check is refused with :class:`CheckerBusy` instead of waiting on.

Each worker is a process of its own (``python -m learnway.content._worker``) at a lower priority
than the web server; a killed worker's replacement is started in the background. :class:`WorkerPool`
is the general mechanism, for any importable module-level function.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

from learnway.content._answers import AnswerCheck, check_answer
from learnway.content._latex import AnswerTooLarge

__all__ = ["AnswerChecker", "CheckerBusy", "LimitExceeded", "WorkerPool"]

T = TypeVar("T")

_START_TIMEOUT_S = 60.0


class LimitExceeded(RuntimeError):
    """A call ran past its time limit or needed more memory than allowed; its worker was killed."""


class CheckerBusy(RuntimeError):
    """Every worker stayed busy for the whole wait: nothing was computed; try again shortly."""


class _Worker:
    """One worker process (``python -m learnway.content._worker``) and our end of its socket."""

    def __init__(self, function: Callable[..., Any], memory_limit_mb: int) -> None:
        ours, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "learnway.content._worker", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
            )
        finally:
            theirs.close()
        self.connection = Connection(ours.detach())
        try:
            self.connection.send(
                (list(sys.path), function.__module__, function.__qualname__, memory_limit_mb)
            )
            if not self.connection.poll(_START_TIMEOUT_S) or self.connection.recv()[0] != "ready":
                raise RuntimeError("a worker process did not start")
        except (EOFError, OSError) as exc:
            self.stop()
            raise RuntimeError("a worker process did not start") from exc
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self.connection.close()


class WorkerPool(Generic[T]):
    """Up to ``workers`` processes that run ``function`` under a time and a memory limit.

    ``function`` must be importable by name (a module-level function). Workers start when first
    needed (or with :meth:`warm`) and live until :meth:`close`.
    """

    def __init__(
        self,
        function: Callable[..., T],
        *,
        workers: int = 4,
        time_limit_s: float = 2.0,
        memory_limit_mb: int = 512,
        wait_s: float | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        if not time_limit_s > 0:
            raise ValueError(f"time_limit_s must be positive, got {time_limit_s}")
        if memory_limit_mb < 16:
            raise ValueError(f"memory_limit_mb must be at least 16, got {memory_limit_mb}")
        self.function = function
        self.workers = workers
        self.time_limit_s = time_limit_s
        self.memory_limit_mb = memory_limit_mb
        self.wait_s = 2 * time_limit_s if wait_s is None else wait_s
        self._idle: list[_Worker] = []
        self._alive = 0
        self._closed = False
        self._ready = threading.Condition()
        self.killed = 0
        """How many workers were killed for exceeding a limit."""

    def call(self, **kwargs: Any) -> T:
        """``function(**kwargs)`` in a worker; raises LimitExceeded or CheckerBusy, or what
        ``function`` raised."""
        worker = self._acquire()
        healthy = False
        try:
            worker.connection.send(kwargs)
            if not worker.connection.poll(self.time_limit_s):
                raise LimitExceeded(f"no result within {self.time_limit_s:g} s")
            status, value = worker.connection.recv()
            if status == "memory":
                raise LimitExceeded(f"more than {self.memory_limit_mb} MiB needed")
            healthy = True
        except (EOFError, OSError) as exc:  # the worker died: killed by the system, or crashed
            raise LimitExceeded("the worker stopped") from exc
        finally:
            self._release(worker, healthy)
        if status == "error":
            raise value
        result: T = value
        return result

    def warm(self) -> None:
        """Start every worker now, in the background, so that no caller waits for one."""

        def start_all() -> None:
            started = []
            with contextlib.suppress(CheckerBusy, RuntimeError):
                for _ in range(self.workers):
                    started.append(self._acquire(wait_s=0.0))
            for worker in started:
                self._release(worker, healthy=True)

        threading.Thread(target=start_all, name="learnway-warm-workers", daemon=True).start()

    def close(self) -> None:
        """Stop every worker (a busy one when its call returns)."""
        with self._ready:
            self._closed = True
            idle, self._idle = self._idle, []
            self._alive -= len(idle)
            self._ready.notify_all()
        for worker in idle:
            worker.stop()

    def _acquire(self, wait_s: float | None = None) -> _Worker:
        deadline = time.monotonic() + (self.wait_s if wait_s is None else wait_s)
        with self._ready:
            while True:
                if self._closed:
                    raise RuntimeError("the worker pool is closed")
                if self._idle:
                    return self._idle.pop()
                if self._alive < self.workers:
                    self._alive += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise CheckerBusy("every worker is busy")
                self._ready.wait(remaining)
        try:
            return self._start()
        except BaseException:
            with self._ready:
                self._alive -= 1
                self._ready.notify()
            raise

    def _start(self) -> _Worker:
        return _Worker(self.function, self.memory_limit_mb)

    def _release(self, worker: _Worker, healthy: bool) -> None:
        with self._ready:
            closed = self._closed
            if healthy and not closed:
                self._idle.append(worker)
            elif closed:
                self._alive -= 1
            self.killed += not healthy
            self._ready.notify()
        if healthy and not closed:
            return
        worker.stop()
        if not closed:  # a fresh worker takes its place, started here, not by the next caller
            threading.Thread(
                target=self._replace, name="learnway-worker-start", daemon=True
            ).start()

    def _replace(self) -> None:
        try:
            worker = self._start()
        except BaseException:
            with self._ready:
                self._alive -= 1
                self._ready.notify()
            raise
        self._release(worker, healthy=True)


class AnswerChecker:
    """:func:`check_answer` run in a :class:`WorkerPool`: bounded in time and memory.

    ``check`` takes the keyword arguments of ``check_answer`` and returns its verdict; it raises
    :class:`AnswerTooLarge` for an answer too large to check (refused before evaluation, or its
    worker killed at a limit), :class:`CheckerBusy` when no worker came free in time, and
    ``ValueError`` for a step it cannot check.
    """

    def __init__(
        self, *, workers: int = 4, time_limit_s: float = 2.0, memory_limit_mb: int = 512
    ) -> None:
        self.workers = workers
        self.time_limit_s = time_limit_s
        self.memory_limit_mb = memory_limit_mb
        self._pool = WorkerPool(
            check_answer,
            workers=workers,
            time_limit_s=time_limit_s,
            memory_limit_mb=memory_limit_mb,
        )
        weakref.finalize(self, self._pool.close)

    def check(self, **kwargs: Any) -> AnswerCheck:
        try:
            return self._pool.call(**kwargs)
        except LimitExceeded as exc:
            raise AnswerTooLarge() from exc

    def warm(self) -> None:
        """Start the workers in the background."""
        self._pool.warm()

    def close(self) -> None:
        self._pool.close()

    @property
    def killed(self) -> int:
        """How many workers were killed at a limit."""
        return self._pool.killed
