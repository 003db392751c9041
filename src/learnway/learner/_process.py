"""Work run in a fresh Python process that reports its own peak memory.

A fit measured in the process that launched it, or in a child forked from it, counts the
parent's memory too (Linux keeps ``ru_maxrss`` across ``fork`` and ``exec``). Here the child is a
new interpreter (``python -m learnway.learner._process``); it reads a pickled call, runs it, and
writes back the result with its own peak resident memory: ``VmHWM`` from ``/proc/self/status``,
which starts afresh with the new program image.
"""

from __future__ import annotations

import os
import pickle
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def peak_memory_mb() -> float:
    """This process's peak resident memory in MB (2**20 bytes): ``VmHWM`` on Linux, else the
    process's ``ru_maxrss``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS


def call_in_fresh_process(function: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, float]:
    """Run ``function(*args, **kwargs)`` in a new Python interpreter; return its result and the
    child's own peak resident memory in MB (the arguments are unpickled there, so the peak
    counts them; the parent's memory is not counted).

    ``function`` must be importable by name (a module-level function; the child is given this
    process's import path); its arguments and result are passed by pickle through a temporary
    folder. A failure in the child raises
    :class:`RuntimeError` with the end of the child's error output."""
    with tempfile.TemporaryDirectory(prefix="learnway-") as tmp:
        call, result = Path(tmp, "call.pkl"), Path(tmp, "result.pkl")
        with call.open("wb") as handle:
            pickle.dump((function, args, kwargs), handle, protocol=pickle.HIGHEST_PROTOCOL)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        done = subprocess.run(
            [sys.executable, "-m", "learnway.learner._process", str(call), str(result)],
            capture_output=True,
            text=True,
            env=env,
        )
        if done.returncode != 0:
            name = getattr(function, "__qualname__", repr(function))
            raise RuntimeError(
                f"{name} failed in its own process (exit {done.returncode}):\n"
                + done.stderr[-4000:]
            )
        with result.open("rb") as handle:
            value, peak = pickle.load(handle)
    return value, peak


def _main(call: Path, result: Path) -> None:
    with call.open("rb") as handle:
        function, args, kwargs = pickle.load(handle)
    value = function(*args, **kwargs)
    peak = peak_memory_mb()
    with result.open("wb") as handle:
        pickle.dump((value, peak), handle, protocol=pickle.HIGHEST_PROTOCOL)


if __name__ == "__main__":
    _main(Path(sys.argv[1]), Path(sys.argv[2]))
