"""``learnway audit``, ``learnway delete-student`` and ``learnway retention``: the record of
disclosures, deletion on request, and the retention policy."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from learnway.cli._app import DatabaseOption, _engine, app, console


def _student_id(session: object, who: str) -> int:
    from sqlalchemy import or_, select
    from sqlalchemy.orm import Session

    from learnway.store._schema import User

    assert isinstance(session, Session)
    found = session.scalar(
        select(User.id).where(
            User.role == "student",
            or_(User.username == who, User.sourced_id == who,
                User.id == (int(who) if who.isdigit() else -1)),
        )
    )  # fmt: skip
    if found is None:
        console.print(f"[bold red]No student[/] {who}.")
        raise typer.Exit(code=1)
    return found


@app.command("audit")
def audit(
    student: Annotated[str | None, typer.Option(help="Student: id, username or sourcedId.")] = None,
    person: Annotated[str | None, typer.Option(help="Who acted: username.")] = None,
    since: Annotated[str | None, typer.Option(help="From this date (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="To this date, included.")] = None,
    output_format: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    output: Annotated[Path | None, typer.Option(help="Write to this file.")] = None,
    database: DatabaseOption = None,
) -> None:
    """Read or export the audit trail: who viewed, changed, exported or deleted which
    student's data, and every refused request (a FERPA record of disclosures)."""
    from rich.table import Table
    from sqlalchemy import select

    from learnway.store import transaction
    from learnway.store._schema import User
    from learnway.web._audit import COLUMNS, audit_csv, audit_json, audit_records

    if output_format not in ("table", "csv", "json"):
        console.print("[bold red]--format[/] must be table, csv or json.")
        raise typer.Exit(code=2)
    with transaction(_engine(database)) as session:
        student_id = _student_id(session, student) if student else None
        actor_id = None
        if person:
            actor_id = session.scalar(select(User.id).where(User.username == person))
            if actor_id is None:
                console.print(f"[bold red]No person[/] named {person}.")
                raise typer.Exit(code=1)
        rows = audit_records(
            session, student_id=student_id, actor_id=actor_id,
            since=dt.date.fromisoformat(since) if since else None,
            until=dt.date.fromisoformat(until) if until else None, limit=1_000_000,
        )  # fmt: skip
    if output_format == "table":
        table = Table(*COLUMNS[:8])
        for row in rows:
            table.add_row(*("" if getattr(row, c) is None else str(getattr(row, c))
                            for c in COLUMNS[:8]))  # fmt: skip
        console.print(table)
        return
    text = audit_csv(rows) if output_format == "csv" else json.dumps(audit_json(rows), indent=1)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"{len(rows)} records written to {output}.")


@app.command("delete-student")
def delete_student(
    student: Annotated[str, typer.Argument(help="Student: id, username or sourcedId.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    database: DatabaseOption = None,
) -> None:
    """Delete every piece of a student's data in one transaction (attempts, learner state,
    profile, goals, supports, demographics, guardianships, groups, sign-ins, audit views); only
    an audit record of the deletion remains. A roster import that still lists them adds them
    again: remove them from the roster first."""
    from learnway.settings import get_settings
    from learnway.store import transaction
    from learnway.store._erase import erase_student

    engine = _engine(database)
    with transaction(engine) as session:
        student_id = _student_id(session, student)
    if not yes:
        typer.confirm(f"Delete every record of student {student_id}? This cannot be undone",
                      abort=True)  # fmt: skip
    with transaction(engine) as session:
        report = erase_student(session, student_id=student_id, secret=get_settings().secret_key)
    rows = sum(report.deleted.values())
    tables = ", ".join(f"{t} {n}" for t, n in sorted(report.deleted.items()))
    console.print(f"Deleted {rows} rows of student {student_id} ({tables}).")
    console.print(f"Audit record kept: subject {report.subject}.")


@app.command("retention")
def retention(
    days: Annotated[int | None, typer.Option(help="Default: LEARNWAY_RETENTION_DAYS.")] = None,
    dry_run: Annotated[bool, typer.Option(help="Only list who would be deleted.")] = False,
    database: DatabaseOption = None,
) -> None:
    """Delete the data of students whose last enrollment ended more than the retention period
    ago (the background worker does this daily when LEARNWAY_RETENTION_DAYS is set)."""
    from learnway.settings import get_settings
    from learnway.store import transaction
    from learnway.store._erase import apply_retention, students_past_retention

    settings = get_settings()
    keep = days if days is not None else settings.retention_days
    if keep is None:
        console.print("No retention period: set LEARNWAY_RETENTION_DAYS or pass --days.")
        raise typer.Exit(code=2)
    with transaction(_engine(database)) as session:
        if dry_run:
            due = students_past_retention(session, days=keep)
            console.print(f"{len(due)} students are past {keep} days: {due}")
            return
        reports = apply_retention(session, days=keep, secret=settings.secret_key)
    console.print(f"Deleted the data of {len(reports)} students past {keep} days.")
