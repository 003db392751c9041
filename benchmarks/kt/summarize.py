"""Collect the acceptance figures of every ``kt-*.json`` results file into ``kt-summary.md``.

Run after ``run_all.sh``; every number comes from the results files, none is typed by hand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ORDER = ["assist2009-dkt", "dkvmn/assist2009_updated", "dkvmn/assist2015", "dkvmn/STATICS",
         "synthetic-5"]  # fmt: skip


def main(results_dir: Path) -> None:
    files = {json.loads(p.read_text())["dataset"]: p for p in results_dir.glob("kt-*.json")}
    lines = [
        "# Knowledge tracing benchmark: acceptance figures",
        "",
        "Collected from the `kt-*.json` files by `benchmarks/kt/summarize.py`. Fit ratio: pyBKT's",
        "fit time over Learnway's (fastest of the repeated fits on each side); AUC gaps are",
        "Learnway minus pyBKT. Best model: Learnway's best AUC on the split, against pyBKT's best",
        "and against the best published deep-model AUC for the same split.",
        "",
        "| data set | split | BKT AUC gap | BKT fit ratio | BKT+forget AUC gap | "
        "BKT+forget fit ratio | best model | AUC | minus pyBKT best | published deep | "
        "minus published | load at start |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in [n for n in ORDER if n in files] + sorted(set(files) - set(ORDER)):
        r = json.loads(files[name].read_text())
        pub = r["published_best_deep"]
        load = r["machine"].get("load_average_1_5_15_min", {}).get("start", [float("nan")])[0]
        for split, s in r["summary"].items():
            lines.append(
                f"| {name} | {split} | {s.get('bkt_auc_minus_pybkt', float('nan')):+.4f} | "
                f"{s.get('pybkt_fit_over_bkt_fit', float('nan')):.1f}x | "
                f"{s.get('bkt-forget_auc_minus_pybkt-forget', float('nan')):+.4f} | "
                f"{s.get('pybkt-forget_fit_over_bkt-forget_fit', float('nan')):.1f}x | "
                f"{s.get('best_model')} | {s.get('best_auc', float('nan')):.4f} | "
                f"{s.get('best_minus_best_peer', float('nan')):+.4f} | {pub['auc']:.3f} | "
                f"{s.get('best_minus_published', float('nan')):+.4f} | {load:.2f} |"
            )
        if len(r["splits"]) > 1:  # folds: the best model by mean AUC over the folds
            peers = {"pybkt", "pybkt-forget"}
            names = set.intersection(*(set(run["models"]) for run in r["splits"]))
            mean = {m: sum(run["models"][m]["auc"] for run in r["splits"]) / len(r["splits"])
                    for m in names}  # fmt: skip
            ours = max((m for m in mean if m not in peers), key=mean.__getitem__)
            peer = max((m for m in mean if m in peers), key=mean.__getitem__, default=None)
            gap = f"{mean[ours] - mean[peer]:+.4f}" if peer else "n/a"
            lines.append(
                f"| {name} | mean of {len(r['splits'])} folds | | | | | {ours} | "
                f"{mean[ours]:.4f} | {gap} | {pub['auc']:.3f} | {mean[ours] - pub['auc']:+.4f} | |"
            )
    lines += ["", "Sources of the published figures:", ""]
    for name in [n for n in ORDER if n in files]:
        pub = json.loads(files[name].read_text())["published_best_deep"]
        lines.append(f"- {name}: {pub['auc']:.3f}, {pub['source']}")
    (results_dir / "kt-summary.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("benchmarks/results"))
