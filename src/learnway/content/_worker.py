"""The worker processes of :class:`learnway.content.WorkerPool`.

The pool starts one *zygote* (``python -m learnway.content._worker FD``), handing it one end of
a socket pair. The zygote learns from the first message which function to run, imports it once,
and then forks a worker each time the pool asks: a fork shares the imported modules, so a fresh
worker (after one was killed at a limit) is ready in milliseconds rather than after seconds of
imports. Each worker caps its own memory and answers calls one at a time over a socket of its
own, passed to the pool, until the pool hangs up or kills it.

Every process here runs below the web server's CPU priority and stops once the process that
started it is gone, so no check outlives the server.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.reduction import send_handle
from typing import Any

NICE = 5


def limit_memory(memory_limit_mb: int) -> None:
    """Cap this process's address space at what it holds now plus ``memory_limit_mb``."""
    try:
        import resource

        with open("/proc/self/statm") as statm:
            held = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (ImportError, OSError, ValueError):  # not Linux: the time limit still holds
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = held + memory_limit_mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def die_with_parent() -> None:
    """Stop this process (even in the middle of a check) once the process that started it is
    gone: a thread watches for the parent to change."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="learnway-parent-watch", daemon=True).start()


def answer_calls(connection: Connection, function: Callable[..., Any]) -> None:
    """A worker's life: answer calls one at a time until the pool hangs up."""
    while True:
        try:
            kwargs = connection.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[str, Any] = ("ok", function(**kwargs))
        except MemoryError:
            reply = ("memory", None)
        except Exception as exc:  # returned to the caller, who raises it
            reply = ("error", exc)
        try:
            connection.send(reply)
        except (EOFError, OSError):
            return
        except Exception as exc:  # a result that cannot be sent back
            connection.send(("error", RuntimeError(f"the result cannot be returned: {exc}")))
        if reply[0] == "memory":
            return  # memory may be fragmented or a cache half-filled: start afresh


def _fork_worker(control: Connection, function: Callable[..., Any], memory_limit_mb: int) -> None:
    """Fork one worker; send the pool its process id and its end of the worker's socket."""
    ours, theirs = socket.socketpair()
    pid = os.fork()
    if pid == 0:  # the worker
        try:
            control.close()
            ours.close()
            die_with_parent()
            limit_memory(memory_limit_mb)
            answer_calls(Connection(theirs.detach()), function)
        finally:
            os._exit(0)
    theirs.close()
    try:
        control.send(pid)
        send_handle(control, ours.fileno(), pid)
    finally:
        ours.close()


def _reap() -> None:
    """Collect finished workers. Only here, after the pool has stopped them: a worker's process
    id is not reused while the pool may still signal it."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def zygote(control: Connection) -> None:
    """Import the function named in the first message, then fork a worker per request."""
    die_with_parent()
    with contextlib.suppress(OSError):
        os.nice(NICE)  # the web server comes first, even while the function is imported
    try:
        path, module, name, memory_limit_mb = control.recv()
        sys.path[:] = path
        function = getattr(importlib.import_module(module), name)
        control.send(("ready", None))
        while control.recv() == "fork":
            _reap()
            _fork_worker(control, function, memory_limit_mb)
    except (EOFError, OSError):  # the pool stopped (the server is shutting down)
        return


if __name__ == "__main__":
    zygote(Connection(int(sys.argv[1])))
