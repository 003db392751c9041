"""The Typer application and its sub-commands, gathered from one module per domain."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
bench_app = typer.Typer(no_args_is_help=True, help="Run the benchmarks; each writes its results file.")
app.add_typer(bench_app, name="bench")


def main() -> None:
    from learnway.cli import _bench_kt, _paths  # noqa: F401  (registers their commands)

    app()
