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


def test_docs_quote_the_benchmark_on_other_seeds():
    from learnway.sim._benchmark import SEED_TABLE_COLUMNS, render_seed_row

    doc = (ROOT / "docs" / "paths.md").read_text()
    header = "| seed | " + " | ".join(title for _, title in SEED_TABLE_COLUMNS) + " |"
    assert header in doc
    for seed in (1, 2):
        path = ROOT / "benchmarks" / "results" / f"paths-seed-{seed}" / "paths.json"
        results = json.loads(path.read_text())
        assert results["setup"]["seed"] == seed
        assert render_seed_row(results) in doc
