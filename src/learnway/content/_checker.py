"""Answer checking in worker processes, each check bounded in time and memory.

A server must never be held up by what one learner types. :class:`AnswerChecker` runs
:func:`~learnway.content.check_answer` in a few worker processes (``workers``). A check that
runs past ``time_limit_s`` seconds, or needs more than ``memory_limit_mb`` MiB beyond what a
worker holds when it starts, has its worker killed; the answer is refused with
:class:`AnswerTooLarge` ("this answer is too large to check"), and a fresh worker, started in
the background, takes the killed one's place.

Ordinary checks take milliseconds. One still running after ``slow_after_s`` (0.3 s) is
demoted: its worker drops to the lowest CPU priority and a fresh worker joins the pool in its
place, so a burst of slow answers cannot hold up everyone else's. When every worker stays busy
for ``wait_s`` seconds, a check is refused with :class:`CheckerBusy` instead of waiting on.

Workers are forked by one *zygote* process (``python -m learnway.content._worker``) that has
imported the checker once, so a replacement is ready in milliseconds; all run below the web
server's CPU priority and stop when the server is gone. :class:`WorkerPool` is the general
mechanism, for any importable module-level function.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from multiprocessing.reduction import recv_handle
from typing import Any, Generic, TypeVar

from learnway.content._answers import AnswerCheck, check_answer, quick_check
from learnway.content._latex import AnswerTooLarge

__all__ = ["AnswerChecker", "CheckerBusy", "LimitExceeded", "NeedsWorker", "WorkerPool"]

T = TypeVar("T")

_START_TIMEOUT_S = 60.0
_POLL_S = 0.05


def _cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used, from ``/proc``; None where unknown."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


async def _readable(connection: Connection, timeout_s: float) -> bool:
    """Whether ``connection`` has something to read within ``timeout_s``, waited for on the
    running event loop."""
    if connection.poll(0):
        return True
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()
    fd = connection.fileno()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(fd, wake)
    try:
        await asyncio.wait_for(ready, timeout_s)
    except TimeoutError:
        pass
    finally:
        loop.remove_reader(fd)
    return connection.poll(0)


class NeedsWorker(RuntimeError):
    """A check asked not to wait needs a worker process: nothing was computed."""


class LimitExceeded(RuntimeError):
    """A call ran past its time limit or needed more memory than allowed; its worker was killed."""


class CheckerBusy(RuntimeError):
    """Every worker stayed busy for the whole wait: nothing was computed; try again shortly."""


class _Worker:
    """One worker process (forked by the zygote) and our end of its socket."""

    def __init__(self, pid: int, connection: Connection) -> None:
        self.pid = pid
        self.connection = connection

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        self.connection.close()


class _Zygote:
    """``python -m learnway.content._worker``: imports the function once, then forks workers."""

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
        self.lock = threading.Lock()
        try:
            self.connection.send(
                (list(sys.path), function.__module__, function.__qualname__, memory_limit_mb)
            )
            if not self.connection.poll(_START_TIMEOUT_S) or self.connection.recv()[0] != "ready":
                raise RuntimeError("the worker processes did not start")
        except (EOFError, OSError) as exc:
            self.stop()
            raise RuntimeError("the worker processes did not start") from exc
        except BaseException:
            self.stop()
            raise

    def alive(self) -> bool:
        return self.process.poll() is None

    def fork(self) -> _Worker:
        with self.lock:
            try:
                self.connection.send("fork")
                if not self.connection.poll(_START_TIMEOUT_S):
                    raise RuntimeError("no worker process was forked")
                pid = self.connection.recv()
                handle = recv_handle(self.connection)
            except (EOFError, OSError) as exc:
                raise RuntimeError("no worker process was forked") from exc
        return _Worker(pid, Connection(handle))

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self.connection.close()


class WorkerPool(Generic[T]):
    """``workers`` processes that run ``function`` under a time and a memory limit.

    Time is CPU time where the system tells it (``/proc``), so that a busy machine does not make
    an ordinary call look slow: a call is stopped after ``time_limit_s`` seconds of CPU time, or
    ``wall_limit_s`` (1.5 times that) by the clock, whichever comes first. A call that has used
    ``slow_after_s``, of CPU time or by the clock (one that waits for the processor on a busy
    machine holds its worker as long), is *demoted*: its worker drops to the lowest CPU
    priority and stops counting as one of the ``workers``, and a fresh worker is started in
    its place, so slow calls never hold up quick ones. At most ``max_slow`` calls are demoted
    at a time (a further slow call is stopped at once); a demoted worker is not reused.
    A caller waits at most ``wait_s`` for a free worker (:class:`CheckerBusy`).

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
        slow_after_s: float | None = None,
        max_slow: int | None = None,
        wall_limit_s: float | None = None,
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
        self.wait_s = max(10.0, 2 * time_limit_s) if wait_s is None else wait_s
        self.slow_after_s = min(0.3, time_limit_s / 2) if slow_after_s is None else slow_after_s
        self.wall_limit_s = 1.5 * time_limit_s if wall_limit_s is None else wall_limit_s
        self.max_slow = 4 * workers if max_slow is None else max_slow
        self._idle: list[_Worker] = []
        self._normal = 0  # workers that are idle, busy with a quick call, or starting
        self._slow = 0  # workers busy with a demoted call
        self._closed = False
        self._ready = threading.Condition()
        self._zygote: _Zygote | None = None
        self._zygote_lock = threading.Lock()
        self.killed = 0
        """How many calls were stopped at a limit."""

    def call(self, **kwargs: Any) -> T:
        """``function(**kwargs)`` in a worker; raises LimitExceeded or CheckerBusy, or what
        ``function`` raised."""
        worker = self._acquire()
        demoted = healthy = False
        try:
            worker.connection.send(kwargs)
            started, cpu_before = time.monotonic(), _cpu_seconds(worker.pid)
            while not worker.connection.poll(_POLL_S):
                demoted = self._overdue(worker, started, cpu_before, demoted)
            status, value = worker.connection.recv()
            healthy = status != "memory"
        except (EOFError, OSError) as exc:  # the worker died: killed by the system, or crashed
            raise LimitExceeded("the worker stopped") from exc
        finally:
            self._release(worker, healthy=healthy, demoted=demoted)
        return self._result(status, value)

    async def call_async(self, **kwargs: Any) -> T:
        """:meth:`call` for a caller on an event loop, which goes on serving while the worker
        computes; when no worker is idle, the wait for one is in a thread."""
        with self._ready:
            worker = self._idle.pop() if self._idle and not self._closed else None
        if worker is None:
            return await asyncio.to_thread(self.call, **kwargs)
        demoted = healthy = False
        try:
            worker.connection.send(kwargs)
            started, cpu_before = time.monotonic(), _cpu_seconds(worker.pid)
            while not await _readable(worker.connection, _POLL_S):
                demoted = self._overdue(worker, started, cpu_before, demoted)
            status, value = worker.connection.recv()
            healthy = status != "memory"
        except (EOFError, OSError) as exc:
            raise LimitExceeded("the worker stopped") from exc
        finally:
            self._release(worker, healthy=healthy, demoted=demoted)
        return self._result(status, value)

    def _overdue(self, worker: _Worker, started: float, cpu_before: float | None,
                 demoted: bool) -> bool:  # fmt: skip
        """Whether the call is now demoted; LimitExceeded past a limit."""
        wall = time.monotonic() - started
        cpu = _cpu_seconds(worker.pid)
        used = wall if cpu is None or cpu_before is None else cpu - cpu_before
        if used > self.time_limit_s or wall > self.wall_limit_s:
            raise LimitExceeded(
                f"no result within {self.time_limit_s:g} s of CPU time "
                f"({self.wall_limit_s:g} s by the clock)"
            )
        if not demoted and max(used, wall) > self.slow_after_s:
            demoted = self._demote(worker)
            if not demoted:
                raise LimitExceeded("too many slow calls at once")
        return demoted

    def _result(self, status: str, value: Any) -> T:
        if status == "memory":
            raise LimitExceeded(f"more than {self.memory_limit_mb} MiB needed")
        if status == "error":
            raise value
        result: T = value
        return result

    def warm(self) -> None:
        """Start every worker now, in the background, so that no caller waits for one."""
        self._top_up()

    def close(self) -> None:
        """Stop every worker (a busy one when its call returns)."""
        with self._ready:
            self._closed = True
            idle, self._idle = self._idle, []
            self._normal -= len(idle)
            self._ready.notify_all()
        for worker in idle:
            worker.stop()
        with self._zygote_lock:
            if self._zygote is not None:
                self._zygote.stop()
                self._zygote = None

    def _acquire(self) -> _Worker:
        deadline = time.monotonic() + self.wait_s
        with self._ready:
            while True:
                if self._closed:
                    raise RuntimeError("the worker pool is closed")
                if self._idle:
                    return self._idle.pop()
                if self._normal < self.workers:
                    self._normal += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise CheckerBusy("every worker is busy")
                self._ready.wait(remaining)
        try:
            return self._new_worker()
        except BaseException:
            with self._ready:
                self._normal -= 1
                self._ready.notify()
            raise

    def _new_worker(self) -> _Worker:
        """A worker forked by the zygote (started, or restarted, first when needed)."""
        with self._zygote_lock:
            if self._closed:
                raise RuntimeError("the worker pool is closed")
            if self._zygote is None or not self._zygote.alive():
                if self._zygote is not None:
                    self._zygote.stop()
                self._zygote = _Zygote(self.function, self.memory_limit_mb)
            zygote = self._zygote
        return zygote.fork()

    def _demote(self, worker: _Worker) -> bool:
        """Move a slow call out of the way; False when too many are demoted already."""
        with self._ready:
            if self._slow >= self.max_slow:
                return False
            self._slow += 1
            self._normal -= 1
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, worker.pid, 19)
        self._top_up()
        return True

    def _release(self, worker: _Worker, *, healthy: bool, demoted: bool) -> None:
        with self._ready:
            self.killed += not healthy
            if demoted:
                self._slow -= 1
            elif healthy and not self._closed:
                self._idle.append(worker)
                self._ready.notify()
                return
            else:
                self._normal -= 1
        worker.stop()
        self._top_up()

    def _top_up(self) -> None:
        """Start workers in the background until there are ``workers`` of them."""
        with self._ready:
            missing = 0 if self._closed else self.workers - self._normal
            self._normal += max(0, missing)
        for _ in range(missing):
            threading.Thread(
                target=self._start_one, name="learnway-worker-start", daemon=True
            ).start()

    def _start_one(self) -> None:
        try:
            worker = self._new_worker()
        except BaseException:
            with self._ready:
                self._normal -= 1
                self._ready.notify()
            raise
        with self._ready:
            if not self._closed:
                self._idle.append(worker)
                self._ready.notify()
                return
            self._normal -= 1
        worker.stop()


class AnswerChecker:
    """:func:`check_answer` run in a :class:`WorkerPool`: bounded in time and memory.

    ``check`` takes the keyword arguments of ``check_answer`` (and a ``key``, such as the student,
    of whom one check at a time runs) and returns its verdict; it raises
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
        self._checking: set[object] = set()
        self._lock = threading.Lock()

    def check(self, *, key: object = None, wait: bool = True, **kwargs: Any) -> AnswerCheck:
        """The verdict of ``check_answer(**kwargs)``; with a ``key`` (a student), at most one
        check per key at a time: a second one while the first runs raises CheckerBusy. A
        choice, a text answer or a plain number against plain numbers needs no symbolic work:
        :func:`quick_check` decides it here, without a worker. Without ``wait``, a response
        that needs a worker raises :class:`NeedsWorker` (:meth:`check_async` checks it)."""
        quick = quick_check(**kwargs)
        if quick is not None:
            return quick
        if not wait:
            raise NeedsWorker("the response needs a worker process")
        with self._one_at_a_time(key):
            return self._pool.call(**kwargs)

    async def check_async(self, *, key: object = None, **kwargs: Any) -> AnswerCheck:
        """:meth:`check` for a caller on an event loop, which goes on serving meanwhile."""
        quick = quick_check(**kwargs)
        if quick is not None:
            return quick
        with self._one_at_a_time(key):
            return await self._pool.call_async(**kwargs)

    @contextlib.contextmanager
    def _one_at_a_time(self, key: object) -> Iterator[None]:
        if key is not None:
            with self._lock:
                if key in self._checking:
                    raise CheckerBusy("another answer of yours is still being checked")
                self._checking.add(key)
        try:
            yield
        except LimitExceeded as exc:
            raise AnswerTooLarge() from exc
        finally:
            if key is not None:
                with self._lock:
                    self._checking.discard(key)

    def warm(self) -> None:
        """Start the workers in the background."""
        self._pool.warm()

    def close(self) -> None:
        self._pool.close()

    @property
    def killed(self) -> int:
        """How many workers were killed at a limit."""
        return self._pool.killed
