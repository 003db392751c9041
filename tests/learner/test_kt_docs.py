"""docs/learner.md quotes the knowledge-tracing results files, and the files are the benchmark's."""

from __future__ import annotations

import importlib.util
import inspect
import json
import re
from pathlib import Path

import pytest

from learnway.learner import BKT, DKT, BoostedKT, EloKT, LogisticKT
from learnway.learner._report import to_markdown

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
DOC = (ROOT / "docs" / "learner.md").read_text()
BEGIN, END = "<!-- bench:kt-summary -->", "<!-- /bench:kt-summary -->"


def _summarize():
    spec = importlib.util.spec_from_file_location("summarize", ROOT / "benchmarks/kt/summarize.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_quote_the_summary_and_type_no_figure_of_their_own():
    summary = (RESULTS / "kt-summary.md").read_text()
    before, rest = DOC.split(BEGIN, 1)
    quoted, after = rest.split(END, 1)
    assert quoted.strip("\n") == summary.split("\n", 2)[2].strip("\n")  # all but the title
    outside = re.sub(r"`[^`]*`", "", before + after)  # code (signatures) aside
    assert re.findall(r"\d[\d,.]* ?MB\b", outside) == []  # memory figures only as quoted
    assert re.findall(r"\b0\.\d{3,4}\b", outside) == []  # AUCs only as quoted


def _current(path: Path) -> bool:
    """A results file of the current harness (each fit's own memory, the choice by CV)."""
    return all("selection" in run for run in json.loads(path.read_text())["splits"])


CURRENT = [p for p in sorted(RESULTS.glob("kt-*.json")) if _current(p)]


def test_summary_is_what_the_results_files_give():
    summarize = _summarize()
    runs = summarize._results(RESULTS)
    assert [r["dataset"] for r in runs] == summarize.ORDER
    assert (RESULTS / "kt-summary.md").read_text() == summarize.summary_markdown(runs)
    assert any(r["dataset"] == "dkvmn/assist2015" for r in map(_load, CURRENT))
    for r in map(_load, CURRENT):
        assert r["peer"].startswith("pyBKT")
        assert "fit_memory_mb" in r
        for run in r["splits"]:
            assert run["selection"]["test"]["auc"] > 0.5
            assert all(m["peak_memory_mb"] > 10 for m in run["models"].values())
    stale = [r["dataset"] for r in runs if not _current(RESULTS / f"kt-{_slug(r['dataset'])}.json")]
    for name in stale:  # the docs say which splits still hold the earlier harness's figures
        assert f"`{name}`" in DOC.split(END, 1)[1]


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _slug(name: str) -> str:
    return name.replace("/", "-").lower()


@pytest.mark.parametrize("path", CURRENT, ids=lambda p: p.stem)
def test_results_markdown_is_rendered_from_its_json(path):
    assert path.with_suffix(".md").read_text() == to_markdown(_load(path))


@pytest.mark.parametrize("model", [BKT, LogisticKT, EloKT, BoostedKT, DKT])
def test_documented_signatures_are_the_real_ones(model):
    params = inspect.signature(model.__init__).parameters.values()
    shown = ", ".join(
        f'{p.name}="{p.default}"' if isinstance(p.default, str) else f"{p.name}={p.default!r}"
        for p in params
        if p.name != "self"
    )
    assert f"`{model.__name__}({shown})`" in DOC
