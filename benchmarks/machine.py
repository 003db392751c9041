"""Where the benchmark scripts write their results, with the machine they ran on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from learnway._machine import DEFAULT_PACKAGES, load_average, machine_info

RESULTS = Path(__file__).resolve().parent / "results"


def machine(packages: tuple[str, ...] = ()) -> dict[str, Any]:
    return {**machine_info((*DEFAULT_PACKAGES, *packages)), "load_average": load_average()}


def write(name: str, results: dict[str, Any], markdown: str) -> Path:
    """Write ``results/<name>.json`` and ``results/<name>.md``; return the JSON path."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown.rstrip() + "\n")
    return path
