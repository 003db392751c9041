"""docs/paths.md quotes the benchmark on both worlds exactly as its results file holds it."""

from __future__ import annotations

import json
from pathlib import Path

from learnway.sim import render_worlds_summary

ROOT = Path(__file__).resolve().parents[2]
BEGIN, END = "<!-- bench:paths-worlds -->", "<!-- /bench:paths-worlds -->"


def test_docs_quote_the_benchmark_on_both_worlds():
    doc = (ROOT / "docs" / "paths.md").read_text()
    results = json.loads((ROOT / "benchmarks" / "results" / "paths-worlds.json").read_text())
    assert len(results["setup"]["seeds"]) == 3
    assert set(results["worlds"]) == {"logistic", "knowledge_space"}
    quoted = doc.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"
    assert quoted == render_worlds_summary(results)
