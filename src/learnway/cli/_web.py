"""``learnway serve``: the web application on a database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from learnway.cli._app import DatabaseOption, app, bench_app, console


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    database: DatabaseOption = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Web processes sharing the port (e.g. one per core); "
            "background jobs still run once.",
        ),
    ] = 1,
) -> None:
    """Serve the web application (pages and the JSON API under /api/v1) until Ctrl+C."""
    from learnway.settings import get_settings
    from learnway.store import has_schema, make_engine, upgrade
    from learnway.web import serve as run

    engine = make_engine(database or get_settings().resolved_database_url)
    if not has_schema(engine):
        console.print("[bold red]The database has no schema yet.[/] Run `learnway init` first.")
        raise typer.Exit(code=1)
    upgrade(engine)  # in place: adds the web application's tables to an older database
    run(engine, host=host, port=port, echo=console.print, workers=workers)


@app.command("worker")
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Run the jobs due now, then stop (for cron).")
    ] = False,
    database: DatabaseOption = None,
) -> None:
    """Run background jobs (replays of late attempts, model builds) until Ctrl+C."""
    import threading

    from learnway.settings import get_settings
    from learnway.store import make_engine, run_pending
    from learnway.worker import handlers, run

    engine = make_engine(database or get_settings().resolved_database_url)
    if once:
        console.print(f"{run_pending(engine, handlers())} jobs run.")
        return
    console.print("Learnway worker running (Ctrl+C to stop).")
    try:
        run(engine, threading.Event())
    except KeyboardInterrupt:
        console.print("Worker stopped.")


@bench_app.command("live")
def bench_live(
    out_dir: Annotated[Path, typer.Option(help="where the results files go")] = Path(
        "benchmarks/results"
    ),
    postgres: Annotated[
        str | None,
        typer.Option(help="PostgreSQL server URL on which to create the benchmark databases"),
    ] = None,
    repeats: Annotated[int, typer.Option(min=5)] = 100,
    days: Annotated[int, typer.Option(min=1)] = 180,
    attempts_per_day: Annotated[int, typer.Option(min=1)] = 4,
    part: Annotated[
        list[str] | None,
        typer.Option(
            help="speed, section, http, truth or district (default: all; district "
            "when --district is given)"
        ),
    ] = None,
    district: Annotated[
        str | None,
        typer.Option(
            help="URL of a PostgreSQL database filled by learnway bench scale: the "
            "leader's reports (and, with the http part, answers through HTTP) there"
        ),
    ] = None,
) -> None:
    """The live path measured end to end: answer and recommendation time against history,
    teacher pages for a section of 150, answers through HTTP against a bare endpoint, and
    shown mastery against a simulated year's truth.
    Writes live.json and live.md."""
    from learnway._livebench import run_live_benchmark

    parts = tuple(part or ("speed", "section", "http", "truth", *(("district",) if district
                                                                   else ())))  # fmt: skip
    run_live_benchmark(
        out_dir, postgres_url=postgres, repeats=repeats, days=days,
        attempts_per_day=attempts_per_day, parts=parts, district_url=district,
        progress=console.print,
    )  # fmt: skip
    console.print((out_dir / "live.md").read_text(), markup=False, highlight=False)


@bench_app.command("attack")
def bench_attack(
    out_dir: Annotated[Path, typer.Option(help="where the results files go")] = Path(
        "benchmarks/results"
    ),
    postgres: Annotated[
        str | None,
        typer.Option(help="PostgreSQL server URL on which to create the benchmark database"),
    ] = None,
) -> None:
    """Attacks on a served demo school: twenty oversized answers at once while twenty students
    answer, and 40 and 400 concurrent wrong passwords for one account while users work; on
    SQLite and, with --postgres, on PostgreSQL. Writes attack.json and attack.md."""
    from learnway._attackbench import run_attack_benchmark

    run_attack_benchmark(out_dir, postgres_url=postgres, progress=console.print)
    console.print((out_dir / "attack.md").read_text(), markup=False, highlight=False)
