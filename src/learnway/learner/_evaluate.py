"""The evaluation harness: models fitted and scored on a data set's splits, with pyBKT as peer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from learnway._machine import machine_info
from learnway.learner._base import KTModel
from learnway.learner._bkt import BKT
from learnway.learner._boosted import BoostedKT
from learnway.learner._datasets import Split, load_splits
from learnway.learner._dkt import DKT
from learnway.learner._elo import EloKT
from learnway.learner._logistic import LogisticKT
from learnway.learner._metrics import score

MODELS: dict[str, Callable[[], KTModel]] = {
    "bkt": lambda: BKT(),
    "bkt-forget": lambda: BKT(forgetting=True),
    "bkt-item": lambda: BKT(forgetting=True, per_item=True),
    "pfa": lambda: LogisticKT(features="pfa"),
    "best-lr": lambda: LogisticKT(features="best-lr"),
    "best-lr+": lambda: LogisticKT(features="best-lr+"),
    "elo": lambda: EloKT(),
    "boosted": lambda: BoostedKT(),
    "dkt": lambda: DKT(),  # needs the deep extra (torch)
    "dkt-features": lambda: DKT(features=True, dropout=0.4, patience=4),
}
PEERS = {"pybkt": False, "pybkt-forget": True}  # name -> pyBKT's forgets flag
DEFAULT_MODELS = ("bkt", "bkt-forget", "pfa", "best-lr", "best-lr+", "elo", "boosted", *PEERS)

# Best deep-model test AUC published for the same split, with its source.
PUBLISHED = {
    "assist2009-dkt": (0.86, "DKT, Piech et al., NeurIPS 2015 (ASSISTments 2009, same split)"),
    "dkvmn/assist2009_updated": (0.816, "DKVMN, Zhang et al., WWW 2017, table 3"),
    "dkvmn/assist2015": (0.727, "DKVMN, Zhang et al., WWW 2017, table 3"),
    "dkvmn/STATICS": (0.828, "DKVMN, Zhang et al., WWW 2017, table 3"),
    "synthetic-5": (0.827, "DKVMN, Zhang et al., WWW 2017, table 3 (20 versions; here v0)"),
}
TIMING = (
    "fit s is the wall-clock time of the fit call alone, the fastest of {n} fits for BKT and "
    "for the pyBKT peer alike (1 fit for the other models), in a process where the code is "
    "already loaded: Learnway's numba kernels are compiled (cached on disk, and one small "
    "warm-up fit before any timing), pyBKT's C++ E-step is imported; reading the data and "
    "writing pyBKT's input CSV are outside the timings. Both run on the same split, one after "
    "the other, on the same cores (pyBKT with parallel=True, Learnway's BKT with n_jobs=None: "
    "every core)."
)
DEFAULT_PYBKT_PYTHON = Path("benchmarks/.pybkt-venv/bin/python")
PYBKT_RUNNER = Path(__file__).resolve().parents[3] / "benchmarks" / "kt" / "pybkt_peer.py"


def _pybkt_csv(attempts: pd.DataFrame, path: Path) -> None:
    pd.DataFrame(
        {
            "order_id": np.arange(len(attempts)),
            "user_id": "s" + attempts["student_id"].astype(str),
            "skill_name": attempts["competency_id"].astype(str),
            "correct": attempts["correct"].astype(int),
        }
    ).to_csv(path, index=False)


def run_pybkt(
    split: Split,
    *,
    forgets: bool,
    python: Path,
    runner: Path = PYBKT_RUNNER,
    seed: int = 0,
    fit_repeats: int = 1,
) -> dict[str, Any]:
    """Fit and predict with pyBKT (C++ build) in its own environment, on the same split;
    ``fit_seconds`` is the fastest of ``fit_repeats`` timed fits."""
    with tempfile.TemporaryDirectory() as tmp:
        train, test, out = Path(tmp, "train.csv"), Path(tmp, "test.csv"), Path(tmp, "out.json")
        _pybkt_csv(split.train, train)
        _pybkt_csv(split.test, test)
        cmd = [str(python), str(runner), "--train", str(train), "--test", str(test)]
        cmd += ["--out", str(out), "--seed", str(seed), "--repeats", str(fit_repeats)]
        cmd += ["--forgets"] if forgets else []
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        result: dict[str, Any] = json.loads(out.read_text())
    proba = np.array([np.nan if v is None else v for v in result.pop("proba")], dtype=np.float64)
    unseen = np.isnan(proba)
    proba[unseen] = split.train["correct"].mean()
    result["proba"] = proba
    result["unseen_rows"] = int(unseen.sum())
    return result


def evaluate(
    models: dict[str, KTModel],
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    fit_repeats: dict[str, int] | None = None,
) -> dict[str, dict[str, Any]]:
    """Fit each model on ``train``, predict ``test`` sequentially and score it.

    ``fit_seconds`` is the wall-clock time of the ``fit`` call alone; a model named in
    ``fit_repeats`` is fitted that many times and the fastest fit counts (every fit is listed
    in ``fit_seconds_all``; the fits are identical, the last one predicts)."""
    results: dict[str, dict[str, Any]] = {}
    y = test["correct"].to_numpy()
    for name, model in models.items():
        fit_times = []
        for _ in range((fit_repeats or {}).get(name, 1)):
            start = time.perf_counter()
            model.fit(train)
            fit_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        proba = model.predict_proba(test)
        predict_s = time.perf_counter() - start
        results[name] = {
            **score(y, proba),
            "fit_seconds": min(fit_times),
            "fit_seconds_all": fit_times,
            "predict_seconds": predict_s,
        }
    return results


def _online_timing(model: KTModel, test: pd.DataFrame, n: int = 20_000) -> dict[str, float]:
    """Replay throughput in batch, and the time of one ``update`` call from Python."""
    start = time.perf_counter()
    model.predict_proba(test)
    batch_s = time.perf_counter() - start
    rows = test.head(n)
    attempts = list(zip(rows["competency_id"].tolist(), rows["correct"].tolist(), strict=True))
    students = rows["student_id"].to_numpy()
    states: dict[Any, dict[str, Any]] = {}
    start = time.perf_counter()
    for student, attempt in zip(students.tolist(), attempts, strict=True):
        state = states.get(student)
        if state is None:
            state = states[student] = model.init_state()
        model.update(state, attempt)
    single_s = (time.perf_counter() - start) / max(len(attempts), 1)
    return {
        "replay_attempts_per_second": len(test) / batch_s,
        "single_update_microseconds": single_s * 1e6,
    }


def fit_memory_mb(dataset: str, data_dir: Path, model: str = "bkt-forget") -> float:
    """Peak resident memory (MB) of a fresh process that loads a whole data set (train and test
    together) and fits one model on it."""
    code = (
        "import resource, sys, pandas as pd\n"
        "from learnway.learner._datasets import load_splits\n"
        "from learnway.learner._evaluate import MODELS\n"
        f"s = load_splits({dataset!r}, {str(data_dir)!r})[0]\n"
        "test = s.test.assign(student_id=s.test['student_id'] + s.train['student_id'].max() + 1)\n"
        "data = pd.concat([s.train, test], ignore_index=True)\n"
        f"MODELS[{model!r}]().fit(data)\n"
        "print(len(data), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    _, kb = out.stdout.split()
    return int(kb) / 1024


def run_kt_benchmark(
    dataset: str,
    *,
    models: Sequence[str] = DEFAULT_MODELS,
    data_dir: str | Path = "../shared/datasets",
    out_dir: str | Path | None = "benchmarks/results",
    pybkt_python: str | Path | None = DEFAULT_PYBKT_PYTHON,
    max_students: int | None = None,
    n_folds: int = 5,
    measure_memory: bool = False,
    fit_repeats: int = 3,
) -> dict[str, Any]:
    """Run the models (and the pyBKT peer) on every split of ``dataset``; return the results
    and, with ``out_dir``, write ``kt-<dataset>.json``, ``.md`` and a calibration ``.png``."""
    unknown = [m for m in models if m not in MODELS and m not in PEERS]
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; known: {[*MODELS, *PEERS]}")
    splits = load_splits(dataset, data_dir, n_folds=n_folds, max_students=max_students)
    use_peer = pybkt_python is not None and Path(pybkt_python).exists()
    runs: list[dict[str, Any]] = []
    load_before = os.getloadavg()
    repeats = {m: fit_repeats for m in ("bkt", "bkt-forget", "bkt-item")}
    for split in splits:
        ours = {m: MODELS[m]() for m in models if m in MODELS}
        if any(m.startswith("bkt") for m in ours):  # compile once, outside the timings
            BKT(n_restarts=1, max_iter=2).fit(split.train.head(50))
        scored = evaluate(ours, split.train, split.test, fit_repeats=repeats)
        if use_peer:
            for peer in (m for m in models if m in PEERS):
                r = run_pybkt(
                    split,
                    forgets=PEERS[peer],
                    python=Path(str(pybkt_python)),
                    fit_repeats=fit_repeats,
                )
                y = split.test["correct"].to_numpy()
                scored[peer] = {
                    **score(y, r["proba"]),
                    "fit_seconds": r["fit_seconds"],
                    "fit_seconds_all": r["fit_seconds_all"],
                    "predict_seconds": r["predict_seconds"],
                    "unseen_rows": r["unseen_rows"],
                }
        online = {}
        for m in ("bkt", "bkt-forget"):
            if m in ours:
                online[m] = _online_timing(ours[m], split.test)
        runs.append(
            {
                "split": split.name,
                "train_attempts": len(split.train),
                "test_attempts": len(split.test),
                "models": scored,
                "online": online,
            }
        )
    results: dict[str, Any] = {
        "dataset": dataset,
        "max_students": max_students,
        "machine": {
            **machine_info(),
            "load_average_1_5_15_min": {"start": load_before, "end": os.getloadavg()},
        },
        "timing": TIMING.format(n=fit_repeats),
        "peer": "pyBKT 1.4.3 (C++ build)" if use_peer else None,
        "published_best_deep": dict(zip(("auc", "source"), PUBLISHED[dataset], strict=True)),
        "splits": runs,
        "summary": _summary(runs, dataset),
    }
    if measure_memory:
        results["fit_memory_mb"] = {"bkt-forget": fit_memory_mb(dataset, Path(data_dir))}
    if out_dir is not None:
        write_results(results, Path(out_dir))
    return results


def _summary(runs: list[dict[str, Any]], dataset: str) -> dict[str, Any]:
    """Acceptance figures per split: BKT against pyBKT, the best model against both peers."""
    out: dict[str, Any] = {}
    for run in runs:
        m = run["models"]
        ours = {k: v for k, v in m.items() if k not in PEERS}
        row: dict[str, Any] = {}
        if ours:
            best = max(ours, key=lambda k: ours[k]["auc"])
            row["best_model"] = best
            row["best_auc"] = ours[best]["auc"]
            row["best_minus_published"] = ours[best]["auc"] - PUBLISHED[dataset][0]
        peers = {k: v for k, v in m.items() if k in PEERS}
        if peers:
            best_peer = max(peers, key=lambda k: peers[k]["auc"])
            row["best_peer"] = best_peer
            row["best_peer_auc"] = peers[best_peer]["auc"]
            if ours:
                row["best_minus_best_peer"] = row["best_auc"] - peers[best_peer]["auc"]
        for mine, peer in (("bkt", "pybkt"), ("bkt-forget", "pybkt-forget")):
            if mine in m and peer in m:
                row[f"{mine}_auc_minus_{peer}"] = m[mine]["auc"] - m[peer]["auc"]
                row[f"{peer}_fit_over_{mine}_fit"] = m[peer]["fit_seconds"] / m[mine]["fit_seconds"]
        out[run["split"]] = row
    return out


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


def to_markdown(results: dict[str, Any]) -> str:
    pub = results["published_best_deep"]
    lines = [
        f"# Knowledge tracing benchmark: {results['dataset']}",
        "",
        f"Machine: {results['machine']['platform']}, {results['machine']['cpus']} CPUs, "
        f"Python {results['machine']['python']}; "
        + ", ".join(f"{k} {v}" for k, v in results["machine"]["versions"].items())
        + ".",
        "Load average (1, 5, 15 min) at the start: "
        + ", ".join(f"{v:.2f}" for v in results["machine"]["load_average_1_5_15_min"]["start"])
        + "; at the end: "
        + ", ".join(f"{v:.2f}" for v in results["machine"]["load_average_1_5_15_min"]["end"])
        + f" ({results['machine']['cpus']} cores; above that, other work competed for them).",
        f"Peer: {results['peer'] or 'not run'}. Best published deep model on this split: "
        f"AUC {pub['auc']:.3f} ({pub['source']}).",
        "",
        f"Timing: {results['timing']}",
        "",
    ]
    if results.get("max_students"):
        lines += [f"Sample: the first {results['max_students']} students of each part.", ""]
    for run in results["splits"]:
        lines += [
            f"## Split {run['split']} ({run['train_attempts']:,} train / "
            f"{run['test_attempts']:,} test attempts)",
            "",
            "| model | AUC | RMSE | log-loss | ECE | fit s | predict s |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, r in sorted(run["models"].items(), key=lambda kv: -kv[1]["auc"]):
            lines.append(
                f"| {name} | {r['auc']:.4f} | {r['rmse']:.4f} | {r['log_loss']:.4f} | "
                f"{r['calibration']['ece']:.4f} | {r['fit_seconds']:.2f} | "
                f"{r['predict_seconds']:.3f} |"
            )
        lines.append("")
        for name, o in run["online"].items():
            lines.append(
                f"Online {name}: replay {o['replay_attempts_per_second']:,.0f} attempts/s in batch;"
                f" one update {o['single_update_microseconds']:.1f} µs from Python."
            )
        summary = results["summary"].get(run["split"], {})
        if summary:
            lines += ["", "Summary: " + "; ".join(f"{k} = {_fmt(v)}" for k, v in summary.items())]
        lines.append("")
    if "fit_memory_mb" in results:
        for model, mb in results["fit_memory_mb"].items():
            lines.append(f"Peak memory fitting {model} on the whole data set: {mb:,.0f} MB.")
        lines.append("")
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
