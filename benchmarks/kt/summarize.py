"""Collect the acceptance figures of every ``kt-*.json`` results file into ``kt-summary.md``.

Run after ``run_all.sh``; every number comes from the results files, none is typed by hand.
docs/learner.md quotes the table part of ``kt-summary.md`` (a test checks it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ORDER = ["assist2009-dkt", "dkvmn/assist2009_updated", "dkvmn/assist2015", "dkvmn/STATICS",
         "synthetic-5"]  # fmt: skip
PEERS = {"pybkt", "pybkt-forget"}
MEMORY_MODELS = ("bkt-forget", "pybkt-forget", "best-lr+", "boosted")
NAN = float("nan")


def _f(value: float, spec: str) -> str:
    """A figure, or a blank where the results file has none."""
    return "" if value != value else format(value, spec)


def _results(results_dir: Path) -> list[dict[str, Any]]:
    files = {}
    for path in results_dir.glob("kt-*.json"):
        data = json.loads(path.read_text())
        if data["dataset"] in ORDER:  # the shipped splits only, not a researcher's own files
            files[data["dataset"]] = data
    return [files[name] for name in ORDER if name in files]


def accuracy_table(runs: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| data set | split | BKT AUC gap | BKT fit ratio | BKT+forget AUC gap | "
        "BKT+forget fit ratio | best model (CV choice) | its test AUC | minus pyBKT best | "
        "published deep | minus published | best row on the test file | its AUC | "
        "load at start |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        name, pub = r["dataset"], r["published_best_deep"]
        load = r["machine"]["load_average_1_5_15_min"]["start"][0]
        for run in r["splits"]:
            split, s = run["split"], r["summary"][run["split"]]
            if "selection" not in run:  # a results file of the earlier harness: no choice made
                s = {**s, "best_row": s.get("best_model"), "best_row_auc": s.get("best_auc"),
                     "best_model": "not run (earlier harness)", "best_auc": NAN,
                     "best_minus_best_peer": NAN, "best_minus_published": NAN}  # fmt: skip
            lines.append(
                f"| {name} | {split} | {_f(s.get('bkt_auc_minus_pybkt', NAN), '+.4f')} | "
                f"{_f(s.get('pybkt_fit_over_bkt_fit', NAN), '.1f')}x | "
                f"{_f(s.get('bkt-forget_auc_minus_pybkt-forget', NAN), '+.4f')} | "
                f"{_f(s.get('pybkt-forget_fit_over_bkt-forget_fit', NAN), '.1f')}x | "
                f"{s.get('best_model')} | {_f(s.get('best_auc', NAN), '.4f')} | "
                f"{_f(s.get('best_minus_best_peer', NAN), '+.4f')} | {pub['auc']:.3f} | "
                f"{_f(s.get('best_minus_published', NAN), '+.4f')} | {s.get('best_row')} | "
                f"{_f(s.get('best_row_auc', NAN), '.4f')} | {load:.2f} |"
            )
        if len(r["splits"]) > 1 and all("selection" in run for run in r["splits"]):
            n = len(r["splits"])
            chosen = sum(s["best_auc"] for s in r["summary"].values()) / n
            names = set.intersection(*(set(run["models"]) for run in r["splits"]))
            mean = {m: sum(run["models"][m]["auc"] for run in r["splits"]) / n for m in names}
            row = max((m for m in mean if m not in PEERS), key=mean.__getitem__)
            peer = max((m for m in mean if m in PEERS), key=mean.__getitem__, default=None)
            gap = f"{chosen - mean[peer]:+.4f}" if peer else "n/a"
            picks = sorted({s["best_model"] for s in r["summary"].values()})
            lines.append(
                f"| {name} | mean of {n} folds | | | | | {', '.join(picks)} | {chosen:.4f} | "
                f"{gap} | {pub['auc']:.3f} | {chosen - pub['auc']:+.4f} | {row} | "
                f"{mean[row]:.4f} | |"
            )
    return lines


def memory_table(runs: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| data set | split | "
        + " | ".join(MEMORY_MODELS)
        + " | CV choice process | whole data set, bkt-forget |",
        "|---|---|" + "---|" * (len(MEMORY_MODELS) + 2),
    ]
    for r in runs:
        whole = r.get("fit_memory_mb", {}).get("bkt-forget")
        for i, run in enumerate(r["splits"]):
            if "selection" not in run:  # the earlier harness measured no fit's own memory
                continue
            cells = [
                f"{run['models'][m]['peak_memory_mb']:,.0f}" if m in run["models"] else ""
                for m in MEMORY_MODELS
            ]
            selection = run.get("selection")
            cells.append(f"{selection['peak_memory_mb']:,.0f}" if selection else "")
            cells.append(f"{whole:,.0f}" if whole is not None and i == 0 else "")
            lines.append(f"| {r['dataset']} | {run['split']} | " + " | ".join(cells) + " |")
    return lines


def summary_markdown(runs: list[dict[str, Any]]) -> str:
    lines = [
        "# Knowledge tracing benchmark: acceptance figures",
        "",
        "Collected from the `kt-*.json` files by `benchmarks/kt/summarize.py`. Fit ratio: pyBKT's",
        "fit time over Learnway's (fastest of the repeated fits on each side); AUC gaps are",
        "Learnway minus pyBKT. Best model: the one that cross-validation over the training",
        "students chose (3 folds, by mean AUC; the test file is not looked at), with its AUC on",
        "the test file, against pyBKT's best and the best published deep-model AUC for the same",
        "split; beside it, the best row on the test file, for reference only.",
        "",
        *accuracy_table(runs),
        "",
        "Peak resident memory in MB of each fit's own fresh process (VmHWM; the data it was",
        "given included, the harness's memory not); the whole-data-set figure is BKT with",
        "forgetting fitted on train and test together:",
        "",
        *memory_table(runs),
        "",
        "Sources of the published figures:",
        "",
    ]
    for r in runs:
        pub = r["published_best_deep"]
        lines.append(f"- {r['dataset']}: {pub['auc']:.3f}, {pub['source']}")
    return "\n".join(lines) + "\n"


def main(results_dir: Path) -> None:
    (results_dir / "kt-summary.md").write_text(summary_markdown(_results(results_dir)))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1] / "results")
