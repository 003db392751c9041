"""``learnway serve``: the web application on a database."""

from __future__ import annotations

from typing import Annotated

import typer

from learnway.cli._app import DatabaseOption, app, console


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    database: DatabaseOption = None,
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
    run(engine, host=host, port=port, echo=console.print)


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
