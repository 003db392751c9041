"""The xAPI commands: clients of the learning record store, activity mappings, forwarding,
and statement dumps."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from learnway._errors import InputError
from learnway.cli._app import DatabaseOption, _engine, _fail, _with_bar, app, console, import_app


@app.command("add-xapi-client")
def add_xapi_client(
    name: Annotated[str, typer.Argument(help="The tool's name (its statements' authority)")],
    scope: Annotated[
        list[str] | None,
        typer.Option(
            help="What it may do (repeat): statements/write, statements/read/mine, "
            "statements/read, all/read, all, state, profile, define. Default: write statements, "
            "read back its own, state and profiles."
        ),
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Issue credentials for a tool calling the xAPI store at /xapi/ (again: new credentials)."""
    from learnway.store import transaction, upgrade
    from learnway.store import xapi as lrs

    engine = _engine(database)
    upgrade(engine)
    try:
        with transaction(engine) as session:
            key, secret = lrs.add_client(session, name=name, scopes=scope or lrs.DEFAULT_SCOPES)
    except ValueError as error:
        console.print(f"[bold red]{error}[/]")
        raise typer.Exit(code=1) from None
    console.print(f"Client {name}: give the tool these credentials (shown once).")
    console.print(
        f"  HTTP Basic: user {key}, password {secret}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"  or Authorization: Bearer {key}.{secret}", markup=False, highlight=False, soft_wrap=True
    )


@app.command("map-xapi-activity")
def map_xapi_activity(
    activity: Annotated[str, typer.Argument(help="The activity id (IRI) other tools use")],
    framework: Annotated[str, typer.Option(help="Key of the course's content framework")],
    competency: Annotated[
        str | None, typer.Option(help="Code of the competency the activity practises")
    ] = None,
    step: Annotated[str | None, typer.Option(help="Key of the step it is evidence on")] = None,
    database: DatabaseOption = None,
) -> None:
    """Make statements about an activity evidence on a competency (or a step): they become
    attempts, from now on and for those already stored."""
    from sqlalchemy import select

    from learnway.interop import xapi as model
    from learnway.settings import get_settings
    from learnway.store import transaction, upgrade
    from learnway.store import xapi as lrs
    from learnway.store._schema import CompetencyRow, FrameworkRow, ItemRow, StepRow

    if (competency is None) == (step is None) or not model.is_iri(activity):
        console.print("[bold red]Give an activity IRI and one of --competency or --step.[/]")
        raise typer.Exit(code=1)
    engine = _engine(database)
    upgrade(engine)
    with transaction(engine) as session:
        framework_id = session.scalar(select(FrameworkRow.id).where(FrameworkRow.key == framework))
        found: int | None = None
        if framework_id is not None and competency is not None:
            competency_id = session.scalar(
                select(CompetencyRow.id).where(
                    CompetencyRow.framework_id == framework_id, CompetencyRow.code == competency
                )
            )
            if competency_id is not None:
                found = lrs.step_for_competency(session, competency_id)
        elif framework_id is not None:
            found = session.scalar(
                select(StepRow.id)
                .join(ItemRow, ItemRow.id == StepRow.item_id)
                .where(StepRow.key == step, ItemRow.framework_id == framework_id)
            )
        if found is None:
            console.print(f"[bold red]No step of {framework} for {competency or step}.[/]")
            raise typer.Exit(code=1)
        lrs.map_activity(session, activity, found)
        report = lrs.ingest_stored(session, activity, home_page=get_settings().xapi_home_page)
    console.print(
        f"Statements about {activity} are now evidence on {competency or step}; "
        f"{report.attempts} stored statement(s) became attempts."
    )


@app.command("xapi-forward")
def xapi_forward(database: DatabaseOption = None) -> None:
    """Forward what is due to the district's xAPI store once (LEARNWAY_XAPI_FORWARD_URL)."""
    from learnway.settings import get_settings
    from learnway.store import upgrade
    from learnway.store import xapi as lrs

    settings = get_settings()
    if not settings.xapi_forward_url:
        console.print("[bold red]Set LEARNWAY_XAPI_FORWARD_URL (and its credentials) first.[/]")
        raise typer.Exit(code=1)
    engine = _engine(database)
    upgrade(engine)
    report = lrs.forward_pending(engine, settings)
    console.print(f"Sent {report.sent} statement(s); {report.left} still queued.")
    if report.error:
        console.print(f"[bold red]Last failure:[/] {report.error}", markup=False)
        raise typer.Exit(code=1)


@import_app.command("xapi")
def import_xapi(
    path: Annotated[Path, typer.Argument(help="A statement dump: JSON array, GET result or lines")],
    database: DatabaseOption = None,
) -> None:
    """Import an xAPI statement dump; statements about mapped activities become attempts."""
    from learnway.settings import get_settings
    from learnway.store import transaction, upgrade
    from learnway.store import xapi as lrs

    try:
        statements = lrs.read_statement_dump(path.read_text(encoding="utf-8"), str(path))
        engine = _engine(database)
        upgrade(engine)
        with transaction(engine) as session:
            new, report = _with_bar(
                f"importing {path.name}",
                lambda bar: lrs.import_statements(
                    session, statements, home_page=get_settings().xapi_home_page, progress=bar
                ),
            )
    except InputError as error:
        _fail(error)
    except OSError as error:
        console.print(f"[bold red]Cannot read {path}:[/] {error}")
        raise typer.Exit(code=1) from None
    except lrs.XapiConflict as error:
        console.print(f"[bold red]Nothing was imported.[/] {error}")
        raise typer.Exit(code=1) from None
    console.print(
        f"{len(statements)} statement(s): {new} new, {len(statements) - new} already stored; "
        f"{report.attempts} became attempts ({report.unmapped} about unmapped activities "
        "or unknown students)."
    )
