"""docs/paths.md quotes the policy benchmark's figures exactly as the results file holds them."""

from __future__ import annotations

import json
from pathlib import Path

from learnway.sim import render_summary

ROOT = Path(__file__).resolve().parents[2]
BEGIN, END = "<!-- bench:paths -->", "<!-- /bench:paths -->"


def test_docs_quote_the_benchmark_results():
    doc = (ROOT / "docs" / "paths.md").read_text()
    results = json.loads((ROOT / "benchmarks" / "results" / "paths.json").read_text())
    quoted = doc.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"
    assert quoted == render_summary(results)
