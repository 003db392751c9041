"""``learnway bench kt``: the knowledge-tracing evaluation harness."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from learnway.cli._app import bench_app


@bench_app.command("kt")
def bench_kt(
    dataset: Annotated[
        str,
        typer.Option(
            help="data set: assist2009-dkt, dkvmn/assist2009_updated, "
            "dkvmn/assist2015, dkvmn/STATICS, synthetic-5"
        ),
    ],
    models: Annotated[
        str,
        typer.Option(
            help="comma-separated models (pybkt and pybkt-forget are the peer; the dkt models need "
            "learnway[deep])"
        ),
    ] = "bkt,bkt-forget,pfa,best-lr,best-lr+,elo,boosted,pybkt,pybkt-forget",
    data_dir: Annotated[Path, typer.Option(help="folder of the data sets")] = Path(
        "../shared/datasets"
    ),
    out_dir: Annotated[Path, typer.Option(help="where the results files go")] = Path(
        "benchmarks/results"
    ),
    pybkt_python: Annotated[
        Path, typer.Option(help="python of pyBKT's environment (benchmarks/kt/setup_pybkt.sh)")
    ] = Path("benchmarks/.pybkt-venv/bin/python"),
    max_students: Annotated[
        int | None, typer.Option(help="keep only the first students (a quick run)")
    ] = None,
    memory: Annotated[bool, typer.Option(help="also measure peak memory of a whole fit")] = False,
    fit_repeats: Annotated[
        int, typer.Option(help="timed fits of BKT and of pyBKT; the fastest counts")
    ] = 3,
) -> None:
    """Fit and score learner models on a data set's split, pyBKT alongside; write results."""
    from learnway.learner import run_kt_benchmark

    names = [m.strip() for m in models.split(",") if m.strip()]
    if any(m.startswith("pybkt") for m in names) and not pybkt_python.exists():
        typer.echo(f"pyBKT not found at {pybkt_python}: run benchmarks/kt/setup_pybkt.sh", err=True)
        raise typer.Exit(2)
    results = run_kt_benchmark(
        dataset,
        models=names,
        data_dir=data_dir,
        out_dir=out_dir,
        pybkt_python=pybkt_python,
        max_students=max_students,
        measure_memory=memory,
        fit_repeats=fit_repeats,
    )
    for split, row in results["summary"].items():
        typer.echo(f"{dataset} {split}: " + ", ".join(f"{k}={v}" for k, v in row.items()))
