"""``learnway report``: the leader reports for a whole district (or one school), from the
command line, as a table, CSV or JSON, with the same small-cell suppression as the pages."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated, Any

import typer

from learnway.cli._app import DatabaseOption, _engine, app, console

KINDS = ("mastery", "gaps", "supports")


def _rows(kind: str, session: Any, students: Any, by: str) -> list[dict[str, Any]]:
    from learnway.store import _reports as reports

    if kind == "mastery":
        _, figures = reports.mastery_report(session, students, by=by)
        return [dataclasses.asdict(f) for f in figures]
    if kind == "gaps":
        _, weeks = reports.gap_report(session, students, subgroup=by)
        return [{"week": w.week.isoformat(), **dataclasses.asdict(f)}
                for w in weeks for f in w.figures]  # fmt: skip
    supports = reports.supports_report(session, students)
    return [dataclasses.asdict(c) for c in supports.coverage] + [
        {"kind": "stuck without support", "students": supports.flagged_without_support,
         "suppressed": supports.flagged_without_support is None, "share": None}
    ]  # fmt: skip


@app.command("report")
def report(
    kind: Annotated[str, typer.Argument(help="mastery, gaps or supports.")],
    by: Annotated[
        str | None,
        typer.Option(
            help="mastery: school, section, course, sex, race or ethnicity "
            "(default section); gaps: sex, race or ethnicity (default race)."
        ),
    ] = None,
    school: Annotated[str | None, typer.Option(help="Only this school (sourcedId).")] = None,
    output_format: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    database: DatabaseOption = None,
) -> None:
    """Mean competencies mastered and growth by group, gaps between subgroups week by week,
    or supports coverage, for every student of the district (or of one school). Groups of
    fewer than 10 students are suppressed."""
    from rich.table import Table
    from sqlalchemy import select

    from learnway.store import transaction
    from learnway.store._schema import Enrollment, Org, Section, User

    if kind not in KINDS or output_format not in ("table", "csv", "json"):
        console.print("[bold red]report[/] takes mastery, gaps or supports, and --format "
                      "table, csv or json.")  # fmt: skip
        raise typer.Exit(code=2)
    breakdown = by or {"mastery": "section", "gaps": "race"}.get(kind, "")
    students = select(User.id).where(User.role == "student")
    with transaction(_engine(database)) as session:
        if school is not None:
            org = session.scalar(select(Org.id).where(Org.sourced_id == school))
            if org is None:
                console.print(f"[bold red]No school[/] {school}.")
                raise typer.Exit(code=1)
            students = students.where(
                User.id.in_(
                    select(Enrollment.user_id)
                    .join(Section, Section.id == Enrollment.section_id)
                    .where(Section.school_id == org)
                )
            )
        try:
            rows = _rows(kind, session, students, breakdown)
        except ValueError as error:
            console.print(f"[bold red]{error}[/]")
            raise typer.Exit(code=2) from None
    if output_format == "json":
        typer.echo(json.dumps(rows, indent=1))
        return
    columns = list(rows[0]) if rows else ["group"]
    if output_format == "csv":
        from learnway.web._csv import csv_text

        typer.echo(csv_text(columns, ([row[c] for c in columns] for row in rows)), nl=False)
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
    console.print(table)
