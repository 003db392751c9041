"""The knowledge-tracing benchmark's results files: JSON, Markdown and a calibration plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _slug(dataset: str) -> str:
    return dataset.replace("/", "-").lower()


def write_results(results: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write the JSON, Markdown and calibration PNG of a benchmark run."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"kt-{_slug(results['dataset'])}"
    json_path = stem.with_suffix(".json")
    json_path.write_text(json.dumps(results, indent=1, default=float) + "\n")
    md_path = stem.with_suffix(".md")
    md_path.write_text(to_markdown(results))
    png_path = stem.with_suffix(".png")
    plot_calibration(results, png_path)
    return [json_path, md_path, png_path]


def memory_line(model: str, mb: float) -> str:
    """The sentence the results and the docs give for a whole-data-set fit's peak memory."""
    return f"Peak memory of a fresh process fitting {model} on the whole data set: {mb:,.0f} MB."


def selection_lines(selection: dict[str, Any]) -> list[str]:
    """The cross-validated choice of a split, with every candidate's score."""
    test = selection["test"]
    where = f"the {test['row']} row" if test["row"] else "refitted on all the training students"
    lines = [
        f"Cross-validated choice ({selection['n_folds']} folds over the training students only, "
        f"by mean AUC): **{selection['selected']}**; on the test file AUC {test['auc']:.4f} "
        f"({where}). Peak memory of the selection process: "
        f"{selection['peak_memory_mb']:,.0f} MB.",
        "",
        "| candidate | mean CV AUC | std | fit s (all folds) |",
        "|---|---|---|---|",
    ]
    for row in sorted(selection["cv"], key=lambda r: -r["mean_auc"]):
        lines.append(
            f"| {row['name']} | {row['mean_auc']:.4f} | {row['std_auc']:.4f} | "
            f"{row['fit_seconds']:.1f} |"
        )
    return lines


def to_markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    load = machine["load_average_1_5_15_min"]
    pub = results["published_best_deep"]
    published = (
        f"Best published deep model on this split: AUC {pub['auc']:.3f} ({pub['source']})."
        if pub
        else "No published figure for this split."
    )
    lines = [
        f"# Knowledge tracing benchmark: {results['dataset']}",
        "",
        f"Machine: {machine['platform']}, {machine['cpus']} CPUs, Python {machine['python']}; "
        + ", ".join(f"{k} {v}" for k, v in machine["versions"].items())
        + ".",
        "Load average (1, 5, 15 min) at the start: "
        + ", ".join(f"{v:.2f}" for v in load["start"])
        + "; at the end: "
        + ", ".join(f"{v:.2f}" for v in load["end"])
        + f" ({machine['cpus']} cores; above that, other work competed for them).",
        f"Peer: {results['peer']}. {published}",
        "",
        f"Timing and memory: {results['timing']}",
        "",
    ]
    if results.get("max_students"):
        lines += [f"Sample: the first {results['max_students']} students of each part.", ""]
    for run in results["splits"]:
        lines += [
            f"## Split {run['split']} ({run['train_attempts']:,} train / "
            f"{run['test_attempts']:,} test attempts)",
            "",
            "| model | AUC | RMSE | log-loss | ECE | fit s | predict s | peak MB |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, r in sorted(run["models"].items(), key=lambda kv: -kv[1]["auc"]):
            lines.append(
                f"| {name} | {r['auc']:.4f} | {r['rmse']:.4f} | {r['log_loss']:.4f} | "
                f"{r['calibration']['ece']:.4f} | {r['fit_seconds']:.2f} | "
                f"{r['predict_seconds']:.3f} | {r['peak_memory_mb']:,.0f} |"
            )
        lines.append("")
        for name, o in run["online"].items():
            lines.append(
                f"Online {name}: replay {o['replay_attempts_per_second']:,.0f} attempts/s in batch;"
                f" one update {o['single_update_microseconds']:.1f} µs from Python."
            )
        if run.get("selection"):
            lines += ["", *selection_lines(run["selection"])]
        summary = results["summary"].get(run["split"], {})
        if summary:
            lines += ["", "Summary: " + "; ".join(f"{k} = {_fmt(v)}" for k, v in summary.items())]
        lines.append("")
    for model, mb in results.get("fit_memory_mb", {}).items():
        lines += [memory_line(model, mb), ""]
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def plot_calibration(results: dict[str, Any], path: Path) -> None:
    try:
        import matplotlib
    except ImportError:  # the plot is part of the app extra
        raise ImportError("the calibration plot needs matplotlib: install learnway[app]") from None

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = results["splits"][0]
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    for name, r in sorted(run["models"].items()):
        cal = r["calibration"]
        ax.plot(cal["mean_predicted"], cal["observed"], marker="o", markersize=3, label=name)
    ax.set_xlabel("predicted probability of a correct answer")
    ax.set_ylabel("observed rate")
    ax.set_title(f"Calibration, {results['dataset']} ({run['split']})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
