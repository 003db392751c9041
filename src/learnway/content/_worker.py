"""The worker process of :class:`learnway.content.WorkerPool` (run as ``python -m``).

It is handed one end of a socket pair (its file descriptor is the only argument), learns from
the first message which function to run, caps its own memory, and then answers calls one at a
time until the pool hangs up or kills it.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import threading
import time
from multiprocessing.connection import Connection
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
    """Stop this process (even in the middle of a check) once the server that started it is
    gone, so that no check outlives it: a thread watches for the parent to change."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="learnway-parent-watch", daemon=True).start()


def serve(connection: Connection) -> None:
    """Import the function named in the first message, then answer calls until hung up on."""
    die_with_parent()
    with contextlib.suppress(OSError):
        os.nice(NICE)  # the web server comes first, even while this worker starts
    try:
        path, module, name, memory_limit_mb = connection.recv()
        sys.path[:] = path
        function = getattr(importlib.import_module(module), name)
        limit_memory(memory_limit_mb)
        connection.send(("ready", None))
    except (EOFError, OSError):  # the pool stopped (the server is shutting down)
        return
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
        except Exception as exc:  # a result that cannot be sent back
            connection.send(("error", RuntimeError(f"the result cannot be returned: {exc}")))
        if reply[0] == "memory":
            return  # memory may be fragmented or a cache half-filled: start afresh


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])))
