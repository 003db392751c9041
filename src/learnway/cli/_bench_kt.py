"""``learnway bench kt``: the knowledge-tracing evaluation harness."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer

from learnway.cli._app import bench_app

DEFAULT_MODELS = "bkt,bkt-forget,pfa,best-lr,best-lr+,elo,boosted,pybkt,pybkt-forget"
CV_MODELS = "bkt-forget,pfa,best-lr+,best-lr+ C=0.1,boosted"


def _names(text: str) -> list[str]:
    return [m.strip() for m in text.split(",") if m.strip()]


@bench_app.command("kt")
def bench_kt(
    dataset: Annotated[
        str | None,
        typer.Option(
            help="a built-in data set: assist2009-dkt, dkvmn/assist2009_updated, "
            "dkvmn/assist2015, dkvmn/STATICS, synthetic-5 (or give --train and --test)"
        ),
    ] = None,
    train: Annotated[
        Path | None, typer.Option(help="a training file of attempts (with --test)")
    ] = None,
    test: Annotated[Path | None, typer.Option(help="its test file")] = None,
    format: Annotated[
        str,
        typer.Option(
            help="format of --train and --test: three-line, csv (student, competency, correct, "
            "time, optional item) or auto (told apart by the first line)"
        ),
    ] = "auto",
    name: Annotated[
        str | None,
        typer.Option(help="names the results files kt-NAME.* (default: the train file's name)"),
    ] = None,
    models: Annotated[
        str,
        typer.Option(
            help="comma-separated models (pybkt and pybkt-forget are the peer; the dkt models need "
            "learnway[deep])"
        ),
    ] = DEFAULT_MODELS,
    cv_models: Annotated[
        str,
        typer.Option(
            help="candidates of the cross-validated choice of the best model ('' for none)"
        ),
    ] = CV_MODELS,
    cv_folds: Annotated[int, typer.Option(help="folds of training students for the choice")] = 3,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="folder of the built-in data sets (default: ../shared/datasets from "
            "the project root)"
        ),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(help="where the results files go (default: the project's benchmarks/results)"),
    ] = None,
    pybkt_python: Annotated[
        Path | None,
        typer.Option(
            help="python of pyBKT's environment (default: the project's benchmarks/.pybkt-venv, "
            "built by benchmarks/kt/setup_pybkt.sh)"
        ),
    ] = None,
    max_students: Annotated[
        int | None, typer.Option(help="keep only the first students (a quick run)")
    ] = None,
    memory: Annotated[bool, typer.Option(help="also measure peak memory of a whole fit")] = False,
    fit_repeats: Annotated[
        int, typer.Option(help="timed fits of BKT and of pyBKT; the fastest counts")
    ] = 3,
) -> None:
    """Fit and score learner models on a split, pyBKT alongside, and choose the best model by
    cross-validation on the training students; write the results files."""
    from learnway.learner import PEERS, PeerNotFound, Split, find_pybkt, load_split_files
    from learnway.learner._datasets import DEFAULT_DATA_DIR
    from learnway.learner._evaluate import DEFAULT_OUT_DIR, run_kt_benchmark

    if (dataset is None) == (train is None and test is None) or (train is None) != (test is None):
        typer.echo("give either --dataset, or --train and --test", err=True)
        raise typer.Exit(2)
    names = _names(models)
    if any(m in PEERS for m in names):
        try:
            find_pybkt(pybkt_python)
        except PeerNotFound as missing:
            typer.echo(f"{missing}; the other models run without it.", err=True)
    data: str | Split = str(dataset)
    label = name or str(dataset)
    if train is not None and test is not None:
        try:
            data = load_split_files(train, test, format=format, max_students=max_students)
        except (OSError, ValueError) as bad:  # AttemptFormatError names the file and line
            typer.echo(f"cannot read the split: {bad}", err=True)
            raise typer.Exit(2) from None
        label = name or train.stem
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="pyBKT not found")  # reported above
        results = run_kt_benchmark(
            data,
            name=label,
            models=names,
            data_dir=data_dir or DEFAULT_DATA_DIR,
            out_dir=out_dir or DEFAULT_OUT_DIR,
            pybkt_python=pybkt_python,
            max_students=max_students,
            measure_memory=memory,
            fit_repeats=fit_repeats,
            cv_models=_names(cv_models) or None,
            cv_folds=cv_folds,
        )
    for split, row in results["summary"].items():
        typer.echo(f"{label} {split}: " + ", ".join(f"{k}={v}" for k, v in row.items()))
