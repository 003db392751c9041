"""The evaluation harness: models fitted and scored on a split, each fit in a fresh process, pyBKT
as the peer, and the best model chosen by cross-validation on the training students."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from learnway._machine import load_average, machine_info
from learnway.learner._base import KTModel
from learnway.learner._bkt import BKT
from learnway.learner._boosted import BoostedKT
from learnway.learner._datasets import DEFAULT_DATA_DIR, PROJECT_ROOT, Split, load_splits
from learnway.learner._dkt import DKT
from learnway.learner._elo import EloKT
from learnway.learner._logistic import LogisticKT
from learnway.learner._metrics import score
from learnway.learner._process import call_in_fresh_process
from learnway.learner._pybkt import PEERS, PeerNotFound, find_pybkt, run_pybkt
from learnway.learner._report import write_results
from learnway.learner._selection import CV_CANDIDATES, select_model

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
DEFAULT_MODELS = ("bkt", "bkt-forget", "pfa", "best-lr", "best-lr+", "elo", "boosted", *PEERS)
DEFAULT_OUT_DIR = PROJECT_ROOT / "benchmarks" / "results"
BKT_REPEATED = ("bkt", "bkt-forget", "bkt-item")  # fitted fit_repeats times, the fastest counts
ONLINE = ("bkt", "bkt-forget")  # replay and single-update timings

# Best deep-model test AUC published for the same split, with its source.
PUBLISHED = {
    "assist2009-dkt": (0.86, "DKT, Piech et al., NeurIPS 2015 (ASSISTments 2009, same split)"),
    "dkvmn/assist2009_updated": (0.816, "DKVMN, Zhang et al., WWW 2017, table 3"),
    "dkvmn/assist2015": (0.727, "DKVMN, Zhang et al., WWW 2017, table 3"),
    "dkvmn/STATICS": (0.828, "DKVMN, Zhang et al., WWW 2017, table 3"),
    "synthetic-5": (0.827, "DKVMN, Zhang et al., WWW 2017, table 3 (20 versions; here v0)"),
}
TIMING = (
    "every fit runs in a fresh Python process of its own, which reports its own peak resident "
    "memory (peak MB: VmHWM, the data it was given included, the harness's memory not). fit s "
    "is the wall-clock time of the fit call alone, the fastest of {n} fits for BKT and for the "
    "pyBKT peer alike (1 fit for the other models), once the code is loaded: Learnway's numba "
    "kernels are compiled (cached on disk, and one small warm-up fit before any timing), "
    "pyBKT's C++ E-step is imported; reading the data and writing pyBKT's input CSV are outside "
    "the timings. Both run on the same split, one after the other, on the same cores (pyBKT "
    "with parallel=True, Learnway's BKT with n_jobs=None: every core)."
)


def _fit_and_predict(
    model: KTModel, train: pd.DataFrame, test: pd.DataFrame, fit_repeats: int, online: bool
) -> dict[str, Any]:
    """Fit ``model`` (the fastest of ``fit_repeats`` fits counts) and predict ``test``; runs in
    the fresh process of :func:`evaluate`."""
    if isinstance(model, BKT):  # load the compiled kernels outside the timings
        BKT(n_restarts=1, max_iter=2).fit(train.head(50))
    fit_times = []
    for _ in range(fit_repeats):
        start = time.perf_counter()
        model.fit(train)
        fit_times.append(time.perf_counter() - start)
    start = time.perf_counter()
    proba = model.predict_proba(test)
    predict_s = time.perf_counter() - start
    return {
        "proba": proba,
        "fit_seconds_all": fit_times,
        "predict_seconds": predict_s,
        "online": _online_timing(model, test) if online else None,
    }


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


def evaluate(
    models: Mapping[str, KTModel],
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    peers: Sequence[str] = (),
    pybkt_python: str | Path | None = None,
    fit_repeats: Mapping[str, int] | None = None,
    online: Sequence[str] = (),
) -> dict[str, dict[str, Any]]:
    """Fit each model on ``train`` in a fresh process, predict ``test`` sequentially, score it.

    ``peers`` names pyBKT runs (``"pybkt"``, ``"pybkt-forget"``) scored on the same split, in
    pyBKT's own environment (:func:`find_pybkt` finds it from ``pybkt_python``; raises
    :class:`PeerNotFound` when it is missing). Every row holds AUC, RMSE, log-loss and
    calibration, ``fit_seconds`` (the fastest of ``fit_repeats[name]`` fits, default 1; all in
    ``fit_seconds_all``), ``predict_seconds`` and ``peak_memory_mb``, the fitting process's own
    peak. Models named in ``online`` also get replay and single-update timings (``online``)."""
    unknown = [p for p in peers if p not in PEERS]
    if unknown:
        raise ValueError(f"unknown peer(s) {unknown}; known: {list(PEERS)}")
    python = find_pybkt(pybkt_python) if peers else None
    y = test["correct"].to_numpy()
    results: dict[str, dict[str, Any]] = {}
    for name, model in models.items():
        repeats = (fit_repeats or {}).get(name, 1)
        run, peak = call_in_fresh_process(
            _fit_and_predict, clone(model), train, test, repeats, name in online
        )
        results[name] = _row(y, run, peak)
        if run["online"] is not None:
            results[name]["online"] = run["online"]
    for peer in peers:
        run = run_pybkt(
            Split("test", train, test),
            forgets=PEERS[peer],
            python=python,
            fit_repeats=(fit_repeats or {}).get(peer, 1),
        )
        results[peer] = {**_row(y, run, run["peak_memory_mb"]), "unseen_rows": run["unseen_rows"]}
    return results


def _row(y: np.ndarray, run: dict[str, Any], peak: float) -> dict[str, Any]:
    return {
        **score(y, run["proba"]),
        "fit_seconds": min(run["fit_seconds_all"]),
        "fit_seconds_all": run["fit_seconds_all"],
        "predict_seconds": run["predict_seconds"],
        "peak_memory_mb": peak,
    }


def _fit_whole(model: KTModel, split: Split) -> int:
    train_ids = pd.factorize(split.train["student_id"])[0]
    test_ids = pd.factorize(split.test["student_id"])[0] + len(train_ids) + 1
    data = pd.concat(
        [split.train.assign(student_id=train_ids), split.test.assign(student_id=test_ids)],
        ignore_index=True,
    )
    model.fit(data)
    return len(data)


def fit_memory_mb(split: Split, model: str = "bkt-forget") -> float:
    """Peak resident memory (MB) of a fresh process that is given a whole split (train and test
    together) and fits one model on it; the caller's memory is not counted."""
    _, peak = call_in_fresh_process(_fit_whole, MODELS[model](), split)
    return peak


def _select(train: pd.DataFrame, names: Sequence[str], n_folds: int) -> dict[str, Any]:
    candidates = {n: (CV_CANDIDATES.get(n) or MODELS[n])() for n in names}
    selection = select_model(train, candidates, n_folds=n_folds, refit=False)
    return {"name": selection.name, "model": selection.estimator, "cv": selection.cv_results}


def _same_model(a: KTModel, b: KTModel) -> bool:
    return type(a) is type(b) and a.get_params() == b.get_params()


def cross_validated_choice(
    split: Split,
    scored: dict[str, dict[str, Any]],
    *,
    candidates: Sequence[str],
    n_folds: int,
) -> dict[str, Any]:
    """Run :func:`select_model` on the split's training students (in a fresh process) and score
    its choice on the test file: the row of the same model when the harness fitted it already
    (every model is deterministic), else one more fit."""
    choice, peak = call_in_fresh_process(_select, split.train, list(candidates), n_folds)
    same = [n for n in scored if n in MODELS and _same_model(MODELS[n](), choice["model"])]
    if same:
        test_row = {"row": same[0], "auc": scored[same[0]]["auc"]}
    else:
        extra = evaluate({choice["name"]: choice["model"]}, split.train, split.test)
        test_row = {"row": None, "auc": extra[choice["name"]]["auc"], "scores": extra}
    return {
        "selected": choice["name"],
        "params": repr(choice["model"]),
        "n_folds": n_folds,
        "cv": choice["cv"],
        "peak_memory_mb": peak,
        "test": test_row,
    }


def run_kt_benchmark(
    data: str | Split | Sequence[Split],
    *,
    name: str | None = None,
    models: Sequence[str] = DEFAULT_MODELS,
    data_dir: str | Path = DEFAULT_DATA_DIR,
    out_dir: str | Path | None = DEFAULT_OUT_DIR,
    pybkt_python: str | Path | None = None,
    max_students: int | None = None,
    n_folds: int = 5,
    measure_memory: bool = False,
    fit_repeats: int = 3,
    cv_models: Sequence[str] | None = tuple(CV_CANDIDATES),
    cv_folds: int = 3,
) -> dict[str, Any]:
    """Run the models (and the pyBKT peer) on every split of ``data`` and choose the best model
    by cross-validation on each split's training students; return the results and, with
    ``out_dir``, write ``kt-<name>.json``, ``.md`` and a calibration ``.png``.

    ``data`` is a built-in data set's name (read from ``data_dir``, by default the shared data
    sets beside the project) or one or more :class:`Split` (for instance from
    :func:`load_split_files`; ``name`` then names the results files). pyBKT runs when ``models``
    name it and its environment is found (:func:`find_pybkt`); when it is not, a warning says
    how to build it and the results say it was not run. ``cv_models`` are the candidates of
    :func:`select_model` (names from ``CV_CANDIDATES`` or ``MODELS``; None: no selection)."""
    known = {*MODELS, *PEERS, *CV_CANDIDATES}
    unknown = [m for m in [*models, *(cv_models or ())] if m not in known]
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; known: {sorted(known)}")
    if isinstance(data, str):
        splits = load_splits(data, data_dir, n_folds=n_folds, max_students=max_students)
        name = name or data
    else:
        splits = [data] if isinstance(data, Split) else list(data)
        name = name or "files"
    peers = [m for m in models if m in PEERS]
    peer_note = None
    if peers:
        try:
            python: Path | None = find_pybkt(pybkt_python)
        except PeerNotFound as missing:
            peer_note = f"not run: {missing}"
            warnings.warn(str(missing), stacklevel=2)
            peers, python = [], None
    runs: list[dict[str, Any]] = []
    load_before = load_average()
    for split in splits:
        ours = {m: MODELS[m]() for m in models if m in MODELS}
        scored = evaluate(
            ours,
            split.train,
            split.test,
            peers=peers,
            pybkt_python=python if peers else None,
            fit_repeats={m: fit_repeats for m in (*BKT_REPEATED, *PEERS)},
            online=ONLINE,
        )
        run: dict[str, Any] = {
            "split": split.name,
            "train_attempts": len(split.train),
            "test_attempts": len(split.test),
            "models": scored,
            "online": {m: scored[m].pop("online") for m in ONLINE if "online" in scored.get(m, {})},
        }
        if cv_models:
            run["selection"] = cross_validated_choice(
                split, scored, candidates=cv_models, n_folds=cv_folds
            )
        runs.append(run)
    published = PUBLISHED.get(name)
    results: dict[str, Any] = {
        "dataset": name,
        "max_students": max_students,
        "machine": {
            **machine_info(),
            "load_average_1_5_15_min": {"start": load_before, "end": load_average()},
        },
        "timing": TIMING.format(n=fit_repeats),
        "peer": "pyBKT 1.4.3 (C++ build)" if peers else peer_note or "not asked",
        "published_best_deep": (
            dict(zip(("auc", "source"), published, strict=True)) if published else None
        ),
        "splits": runs,
        "summary": _summary(runs, published[0] if published else None),
    }
    if measure_memory:
        results["fit_memory_mb"] = {"bkt-forget": fit_memory_mb(splits[0])}
    if out_dir is not None:
        write_results(results, Path(out_dir))
    return results


def _summary(runs: list[dict[str, Any]], published: float | None) -> dict[str, Any]:
    """Acceptance figures per split: the cross-validated choice (the headline best model)
    beside the best row on the test file, against the peers and the published figure."""
    out: dict[str, Any] = {}
    for run in runs:
        m = run["models"]
        ours = {k: v for k, v in m.items() if k not in PEERS}
        row: dict[str, Any] = {}
        selection = run.get("selection")
        if selection:
            row["best_model"] = selection["selected"]
            row["best_auc"] = selection["test"]["auc"]
            if published is not None:
                row["best_minus_published"] = row["best_auc"] - published
        if ours:
            best = max(ours, key=lambda k: ours[k]["auc"])
            row["best_row"] = best
            row["best_row_auc"] = ours[best]["auc"]
        peers = {k: v for k, v in m.items() if k in PEERS}
        if peers:
            best_peer = max(peers, key=lambda k: peers[k]["auc"])
            row["best_peer"] = best_peer
            row["best_peer_auc"] = peers[best_peer]["auc"]
            if "best_auc" in row:
                row["best_minus_best_peer"] = row["best_auc"] - peers[best_peer]["auc"]
        for mine, peer in (("bkt", "pybkt"), ("bkt-forget", "pybkt-forget")):
            if mine in m and peer in m:
                row[f"{mine}_auc_minus_{peer}"] = m[mine]["auc"] - m[peer]["auc"]
                row[f"{peer}_fit_over_{mine}_fit"] = m[peer]["fit_seconds"] / m[mine]["fit_seconds"]
        out[run["split"]] = row
    return out
