"""``learnway bench evidence``: experiments, supports and content efficacy validated on
simulated schools where the truth is known."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from learnway.cli._app import bench_app

DEFAULT_OUT_DIR = Path(__file__).resolve().parents[3] / "benchmarks" / "results"


@bench_app.command("evidence")
def bench_evidence(
    runs: Annotated[
        int, typer.Option(min=1, help="simulated experiments per design and truth (>= 200)")
    ] = 4000,
    support_runs: Annotated[
        int, typer.Option(min=1, help="simulated schools per truth for the support analysis")
    ] = 300,
    students: Annotated[
        int, typer.Option(min=10, help="simulated students practising the demo course")
    ] = 1500,
    seed: Annotated[int, typer.Option(help="seed of every simulation")] = 2026,
    out_dir: Annotated[
        Path | None,
        typer.Option(help="where the results files go (default: the project's benchmarks/results)"),
    ] = None,
) -> None:
    """Detection rate against planned power, false positives and interval coverage of
    experiments (by student and by section); recovery of a support's effect; the ranking of
    items by learning value. Writes evidence.json and evidence.md."""
    from learnway.analytics import run_evidence_benchmark, write_results

    def progress(stage: str, done: int, total: int) -> None:
        typer.echo(f"{stage}: {done}/{total}", err=True)

    result = run_evidence_benchmark(
        runs=runs, support_runs=support_runs, students=students, seed=seed, progress=progress
    )
    path = write_results(result, out_dir or DEFAULT_OUT_DIR)
    for name, ok in result["checks"].items():
        typer.echo(f"{'pass' if ok else 'FAIL'}: {name}")
    typer.echo(f"results: {path}")
