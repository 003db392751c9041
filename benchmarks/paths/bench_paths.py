"""Policy benchmark for personal learning paths; the same run as ``learnway bench paths``.

    .venv/bin/python benchmarks/paths/bench_paths.py [--students 90] [--seeds 3] [--jobs 2]

Writes ``benchmarks/results/paths-worlds.json`` and ``paths-worlds.md`` (with ``--diagnostics``,
the single-world benchmark with its diagnostic runs: ``paths.json`` and ``paths.md``).
"""

from __future__ import annotations

import sys

from learnway.cli._app import app
from learnway.cli._paths import bench_paths  # noqa: F401  (registers the command)

if __name__ == "__main__":
    sys.exit(app(["bench", "paths", *sys.argv[1:]]))
