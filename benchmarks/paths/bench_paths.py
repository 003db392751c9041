"""Policy benchmark for personal learning paths; the same run as ``learnway bench paths``.

    .venv/bin/python benchmarks/paths/bench_paths.py [--seed 0] [--days 90] ...

Writes ``benchmarks/results/paths.json`` and ``paths.md``.
"""

from __future__ import annotations

import sys

from learnway.cli._app import app
from learnway.cli._paths import bench_paths  # noqa: F401  (registers the command)

if __name__ == "__main__":
    sys.exit(app(["bench", "paths", *sys.argv[1:]]))
