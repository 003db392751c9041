"""From a fresh clone to the demo's first page: the time ``make demo`` takes on this machine.

    python benchmarks/ops/demo_start.py [--repo PATH] [--port 8090]

Clones the repository (its committed state) into a temporary folder, runs ``make demo`` there
with the Python that runs this script (a new environment: nothing is shared with the
checkout's ``.venv``, only the package index and its local cache), and polls the sign-in page
until it answers 200. Writes ``benchmarks/results/demo.json`` and ``demo.md``: the seconds to
the installed environment, to the first page, and the environment's size. Target: the first
page within 90 s.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from machine import machine, write

ROOT = Path(__file__).resolve().parents[2]
TARGET_S = 90.0


def _size_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20


def first_page(repo: Path, port: int, timeout_s: float = 600.0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="learnway-demo-") as tmp:
        clone = Path(tmp) / "learnway"
        subprocess.run(["git", "clone", "--quiet", str(repo), str(clone)], check=True)
        env = {**os.environ, "PYTHON": sys.executable}
        env.pop("VIRTUAL_ENV", None)
        started = time.perf_counter()
        command = ["make", "demo", f"ARGS=--port {port} --no-browser"]
        process = subprocess.Popen(
            command, cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        installed = None
        try:
            while time.perf_counter() - started < timeout_s:
                if installed is None and (clone / ".venv" / ".demo-stamp").exists():
                    installed = time.perf_counter() - started
                if process.poll() is not None:
                    output = process.stdout.read().decode() if process.stdout else ""
                    raise RuntimeError(f"make demo exited with {process.returncode}:\n{output}")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                time.sleep(0.25)
            else:
                raise RuntimeError(f"no first page within {timeout_s:g} s")
            seconds = time.perf_counter() - started
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(30)
        return {
            "seconds_to_first_page": round(seconds, 1),
            "seconds_to_environment": round(installed, 1) if installed else None,
            "environment_mb": round(_size_mb(clone / ".venv"), 1),
            "target_s": TARGET_S,
        }


def render(r: dict[str, Any]) -> str:
    m = r["machine"]
    return "\n".join([
        "# The demo from a fresh clone",
        "",
        f"`make demo` in a fresh clone, timed to its first page (`{r['command']}`). Machine: "
        f"{m.get('cpu', '?')} ({m.get('cpus', '?')} cores), load average at start "
        f"{m['load_average']}; {m['date']}.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| seconds to the installed environment | {r['seconds_to_environment']} |",
        f"| seconds to the first page (target under {r['target_s']:g}) "
        f"| {r['seconds_to_first_page']} |",
        f"| size of the environment (MiB) | {r['environment_mb']} |",
        "",
        "The environment is new; packages come from the index and the machine's package cache, "
        "as on any machine that has installed them before.",
    ])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=ROOT)
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    results = {
        "machine": machine(),
        "command": "python benchmarks/ops/demo_start.py",
        **first_page(args.repo, args.port),
    }
    path = write("demo", results, render(results))
    print(render(results))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
