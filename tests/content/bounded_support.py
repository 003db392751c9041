"""Functions run in the worker processes of the bounded-checking tests (importable by name)."""

from __future__ import annotations

import time


def nap(*, seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def hoard(*, megabytes: int) -> int:
    block = bytearray(megabytes * 1024 * 1024)
    return len(block)


def refuse(*, message: str) -> None:
    raise ValueError(message)


def spin(*, seconds: float) -> float:
    """Busy for ``seconds`` of CPU time."""
    started = time.process_time()
    while time.process_time() - started < seconds:
        pass
    return seconds
