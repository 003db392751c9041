"""Operations at scale: the synthetic state (``bench scale``) and the attempt log's partitions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine

from learnway.cli._app import DatabaseOption, app, bench_app, console, export_app

partitions_app = typer.Typer(
    no_args_is_help=True, help="The monthly partitions of the attempt log (PostgreSQL)."
)
app.add_typer(partitions_app, name="partitions")


def _engine(database: str | None) -> Engine:
    from learnway.settings import get_settings
    from learnway.store import make_engine

    return make_engine(database or get_settings().resolved_database_url)


@bench_app.command("scale")
def bench_scale(
    students: Annotated[int, typer.Option(min=1, help="synthetic students to add")] = 1000,
    attempts_per_student: Annotated[
        int, typer.Option(min=25, help="attempts of each over one school year")
    ] = 500,
    seed: Annotated[int, typer.Option()] = 11,
    append: Annotated[
        bool, typer.Option("--append", help="add students to an earlier synthetic state")
    ] = False,
    database: DatabaseOption = None,
) -> None:
    """Add a synthetic district or state to a PostgreSQL database holding the demo school:
    students in sections, a school year of attempts each (from a known BKT), their learner
    state and mastery events, written with COPY."""
    from learnway.demo import build_demo
    from learnway.store._synthetic import generate_scale

    engine = _engine(database)
    if engine.dialect.name != "postgresql":
        console.print("[bold red]bench scale needs PostgreSQL[/]: pass --database postgresql://...")
        raise typer.Exit(code=1)
    build_demo(engine)  # the content and roster the synthetic students join (reused if present)
    try:
        report = generate_scale(
            engine, students=students, attempts_per_student=attempts_per_student, seed=seed,
            progress=console.print, append=append,
        )  # fmt: skip
    except ValueError as exc:
        console.print(f"[bold red]{exc}[/]")
        raise typer.Exit(code=1) from None
    console.print(
        f"{report.students:,} students, {report.attempts:,} attempts, "
        f"{report.mastery_rows:,} learner-state rows, {report.events:,} mastery events "
        f"in {report.seconds:.0f} s ({report.attempts / report.seconds:,.0f} attempts/s)."
    )


@partitions_app.command("list")
def partitions_list(database: DatabaseOption = None) -> None:
    """Every partition of the attempt log and the mastery events, with its estimated rows."""
    from rich.table import Table

    from learnway.store._scale import list_partitions

    found = list_partitions(_engine(database))
    if not found:
        console.print("No partitions: this database keeps one table of each (SQLite).")
        return
    table = Table("table", "partition", "month", "rows (estimate)")
    for part in found:
        month = part.start.strftime("%Y-%m") if part.start else "other months"
        table.add_row(part.table, part.name, month, f"{part.rows:,}")
    console.print(table)


@partitions_app.command("archive")
def partitions_archive(
    before: Annotated[
        str, typer.Option(help="archive the months that end on or before this date (YYYY-MM-DD)")
    ],
    to: Annotated[Path, typer.Option(help="folder for the archived months' .csv.gz files")],
    database: DatabaseOption = None,
) -> None:
    """Detach the months before a date from the live log, write each to a gzipped CSV file,
    and drop it. The learner state keeps their effect; replays no longer see them."""
    from learnway.store._scale import archive_partitions

    try:
        cutoff = dt.date.fromisoformat(before)
        written = archive_partitions(_engine(database), before=cutoff, folder=to)
    except ValueError as exc:
        console.print(f"[bold red]{exc}[/]")
        raise typer.Exit(code=1) from None
    for path in written:
        console.print(f"archived {path}")
    console.print(f"{len(written)} partitions archived.")


@partitions_app.command("ensure")
def partitions_ensure(database: DatabaseOption = None) -> None:
    """Create the coming months' partitions now (the worker also does it every day), and move
    rows that landed in a default partition (an older year imported) into their months."""
    from learnway.store._scale import ensure_partitions, split_default

    engine = _engine(database)
    with engine.begin() as connection:
        made = ensure_partitions(connection)
        moved = split_default(connection)
    console.print(f"{len(made)} partitions created, {moved:,} rows moved into their months.")


@export_app.command("parquet")
def export_parquet(
    out: Annotated[Path, typer.Option(help="folder for the Parquet files and data dictionary")],
    salt: Annotated[
        str | None,
        typer.Option(
            envvar="LEARNWAY_EXPORT_SALT",
            help="secret salt of the pseudonyms: the same salt gives the same pseudonyms in every "
            "export; by default a new random one (never written out)",
        ),
    ] = None,
    min_cell: Annotated[
        int, typer.Option(min=2, help="smallest number of students a subgroup value may show")
    ] = 10,
    database: DatabaseOption = None,
) -> None:
    """A de-identified research export: attempts, learner state, mastery events and large-cell
    subgroups as Parquet files with a data dictionary (readable by DuckDB, pandas, Spark and
    learnway bench kt --dataset FOLDER)."""
    from learnway.store._parquet import export_parquet as write

    try:
        report = write(_engine(database), out, salt=salt, min_cell=min_cell)
    except RuntimeError as exc:
        console.print(f"[bold red]{exc}[/]")
        raise typer.Exit(code=1) from None
    for table, rows in report.rows.items():
        console.print(f"{table}: {rows:,} rows")
    console.print(f"Written to {report.folder} with data_dictionary.json and README.md.")
