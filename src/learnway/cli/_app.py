"""The Typer application: set up a database, import standards and content, run the demo."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, Protocol, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from learnway._errors import InputError

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from learnway import Problem
    from learnway.content import Course
    from learnway.frameworks import Framework
    from learnway.interop import Roster
    from learnway.store import ImportReport

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Learnway: a personalized-learning engine for schools.",
)
import_app = typer.Typer(no_args_is_help=True, help="Import standards or content, all or nothing.")
export_app = typer.Typer(no_args_is_help=True, help="Export the school's data in standard formats.")
bench_app = typer.Typer(no_args_is_help=True, help="Run a benchmark; each writes a results file.")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.add_typer(bench_app, name="bench")

console = Console()
T = TypeVar("T")
Report = Callable[[str, int, int], None]
LINE_EVERY = 5.0  # seconds between progress lines when the output is not a terminal


class _HasTitle(Protocol):
    @property
    def title(self) -> str: ...


Titled = TypeVar("Titled", bound=_HasTitle)
MIN_PASSWORD = 10

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="SQLAlchemy URL of the database (default: LEARNWAY_DATABASE_URL, "
        "else the SQLite file var/learnway.db).",
    ),
]


def main() -> None:
    from learnway.cli import (  # noqa: F401  (register their commands)
        _bench_kt,
        _evidence,
        _ops,
        _paths,
        _privacy,
        _reports,
        _web,
        _xapi,
    )

    app()


@app.callback()
def _logging(
    ctx: typer.Context,
    log_level: Annotated[
        str,
        typer.Option(
            "--log-level",
            help="Show what imports and exports log, at this level and above, on standard "
            "error (debug, info, warning, error).",
        ),
    ] = "warning",
) -> None:
    """Learnway: a personalized-learning engine for schools."""
    from rich.logging import RichHandler

    level = logging.getLevelName(log_level.upper())
    if not isinstance(level, int):
        raise typer.BadParameter(f"{log_level!r} is not a logging level", param_hint="--log-level")
    if ctx.invoked_subcommand not in ("import", "export"):
        return  # the server and the worker set up their own logging
    logger = logging.getLogger("learnway")
    handler = next((h for h in logger.handlers if isinstance(h, RichHandler)), None)
    if handler is None:  # one per process; its console writes to whatever stderr is now
        handler = RichHandler(console=Console(stderr=True), show_path=False)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        logger.addHandler(handler)
    handler.setLevel(level)
    logger.setLevel(min(level, logger.getEffectiveLevel()))


def _engine(database: str | None) -> Engine:
    from learnway.settings import get_settings
    from learnway.store import make_engine

    return make_engine(database or get_settings().resolved_database_url)


def _step(label: str, work: Callable[[], T]) -> T:
    """Run ``work`` with a spinner and the elapsed time, for anything that may take a second."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        progress.add_task(label, total=None)
        return work()


def _with_bar(label: str, work: Callable[[Report], T]) -> T:
    """Run ``work(report)`` with a progress bar; ``report(stage, done, total)`` moves it. When
    the output is not a terminal (a log file, CI), a line is printed instead at each new stage
    and at most every ``LINE_EVERY`` seconds within one."""
    if not console.is_terminal:
        last: list[tuple[str, float]] = [("", 0.0)]

        def line(stage: str, done: int, total: int) -> None:
            now = time.monotonic()
            if stage != last[0][0] or now - last[0][1] >= LINE_EVERY:
                last[0] = (stage, now)
                console.print(f"{label}: {stage} ({done:,}/{total:,})", markup=False)

        return work(line)
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(label, total=None)

        def report(stage: str, done: int, total: int) -> None:
            progress.update(task, description=f"{label}: {stage}", completed=done, total=total)

        return work(report)


def _fail(error: InputError, done: str = "imported") -> NoReturn:
    console.print(f"[bold red]Nothing was {done}.[/] {len(error.problems)} problem(s):")
    for problem in error.problems:
        console.print(f"  - {problem}", markup=False, highlight=False)
    raise typer.Exit(code=1)


@app.command()
def init(database: DatabaseOption = None) -> None:
    """Create the database schema, or upgrade an existing database in place."""
    from learnway.store import current_revision, upgrade

    engine = _engine(database)
    before = current_revision(engine)
    _step("migrating", lambda: upgrade(engine))
    after = current_revision(engine)
    state = "already up to date" if before == after else f"upgraded from {before or 'empty'}"
    console.print(f"Database {engine.url.render_as_string()} at revision {after} ({state}).")


@import_app.command("ccssm")
def import_ccssm(
    path: Annotated[Path, typer.Argument(help="Folder with ccssm-k8.csv, ccssm-hs.csv, ...")],
    database: DatabaseOption = None,
) -> None:
    """Import the Common Core math standards and their prerequisite edges."""
    from learnway.frameworks import read_ccssm
    from learnway.store import save_framework

    _import(database, lambda: _step(f"reading {path}", lambda: read_ccssm(path)), save_framework)


@import_app.command("oatutor")
def import_oatutor(
    path: Annotated[Path, typer.Argument(help="An OATutor content package: .tar.gz or folder")],
    course: Annotated[str | None, typer.Option(help="Course name, if it holds several")] = None,
    database: DatabaseOption = None,
) -> None:
    """Import a course in OATutor's content format: skills, lessons, items, steps, hints."""
    from learnway.content import read_oatutor
    from learnway.store import save_course

    def read() -> Course:
        return _with_bar(
            f"reading {path.name}",
            lambda report: read_oatutor(path, course=course, progress=report),
        )

    _import(database, read, save_course)


@import_app.command("case")
def import_case(
    path: Annotated[Path, typer.Argument(help="A CASE 1.0 CFPackage JSON file")],
    database: DatabaseOption = None,
) -> None:
    """Import a competency framework published in CASE (CFDocument, CFItems, CFAssociations)."""
    from learnway.interop import read_case
    from learnway.store import save_framework

    def read() -> Framework:
        warnings: list[Problem] = []
        framework = _step(f"reading {path}", lambda: read_case(path, warnings=warnings))
        _warnings(warnings)
        return framework

    _import(database, read, save_framework)


@import_app.command("oneroster")
def import_oneroster(
    path: Annotated[Path, typer.Argument(help="A OneRoster 1.1 or 1.2 CSV bundle: .zip or folder")],
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Refuse what is otherwise read with a warning: extension and unknown columns, "
            "missing optional columns, no manifest, OneRoster 1.0 names and statuses.",
        ),
    ] = False,
    date_format: Annotated[
        str | None,
        typer.Option(
            "--date-format",
            help="How the bundle writes dates that are not ISO 8601, e.g. %m/%d/%Y.",
        ),
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Import a OneRoster CSV bundle: orgs, terms, courses, classes, people, enrollments,
    guardians and demographics."""
    from learnway.interop import read_oneroster
    from learnway.store import save_roster

    def read() -> Roster:
        roster = _with_bar(
            f"reading {path.name}",
            lambda report: read_oneroster(
                path, strict=strict, date_format=date_format, progress=report
            ),
        )
        for kind, sourced_id, why in roster.skipped:
            console.print(f"  left out: {kind} {sourced_id}: {why}", markup=False)
        _warnings(roster.warnings)  # shown even if the writing then refuses the bundle
        return roster

    def save(session: Session, roster: Roster) -> ImportReport:
        read_warnings = len(roster.warnings)
        report = _with_bar("writing", lambda bar: save_roster(session, roster, progress=bar))
        _warnings(roster.warnings[read_warnings:])  # what the writing tolerated
        return report

    _import(database, read, save, writing=None)


@export_app.command("edfi")
def export_edfi(
    folder: Annotated[Path, typer.Argument(help="Folder to write the interchange files into")],
    course: Annotated[str, typer.Option(help="Framework key of the course")] = (
        "oatutor-openstax-elementary-algebra"
    ),
    subject: Annotated[str, typer.Option(help="Ed-Fi academic subject")] = "Mathematics",
    student_id: Annotated[
        str,
        typer.Option(
            "--student-id",
            help="Which of a student's ids is Ed-Fi's StudentUniqueId: sourcedId, identifier, "
            "or userIds:<type> (e.g. userIds:SIS).",
        ),
    ] = "sourcedId",
    database: DatabaseOption = None,
) -> None:
    """Write every student's mastery of a course as Ed-Fi 5.2 XML interchanges (descriptors,
    standards, assessment metadata, student assessments)."""
    from sqlalchemy import select

    from learnway.interop import edfi_interchanges
    from learnway.store import mastery_export, transaction
    from learnway.store._schema import FrameworkRow

    engine = _engine(database)
    with transaction(engine) as session:
        framework_id = session.scalar(select(FrameworkRow.id).where(FrameworkRow.key == course))
        if framework_id is None:
            console.print(f"[bold red]No course[/] named {course} in this database.")
            raise typer.Exit(code=1)
        try:
            exported = _step(
                "reading mastery",
                lambda: mastery_export(
                    session, framework_id, subject=subject, student_id=student_id
                ),
            )
        except ValueError as error:
            if isinstance(error, InputError):
                _fail(error, "exported")
            console.print(f"[bold red]--student-id:[/] {error}")
            raise typer.Exit(code=1) from None
    try:
        files = edfi_interchanges(exported)
    except InputError as error:
        _fail(error, "exported")
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("Interchange-*.xml"):  # of an earlier export, not written now
        if stale.name not in files:
            stale.unlink()
    _write_files(folder, files)
    students = len({row.student for row in exported.mastery})
    console.print(
        f"Wrote {len(files)} Ed-Fi interchanges to {folder}: {len(exported.standards)} learning "
        f"standards, mastery of {students} students."
    )


@export_app.command("oneroster")
def export_oneroster(
    folder: Annotated[Path, typer.Argument(help="Folder to write the bundle's CSV files into")],
    database: DatabaseOption = None,
) -> None:
    """Write the school's roster as a OneRoster 1.2 CSV bundle (bulk files and a manifest),
    with each record's extension data (ext_ and metadata. columns) back in its columns."""
    from learnway.interop import oneroster_files
    from learnway.store import roster_export, transaction

    engine = _engine(database)
    with transaction(engine) as session:
        roster = _step("reading the roster", lambda: roster_export(session))
    files = oneroster_files(roster)
    folder.mkdir(parents=True, exist_ok=True)
    _write_files(folder, files)
    console.print(
        f"Wrote a OneRoster 1.2 bundle to {folder}: {len(roster.orgs)} orgs, "
        f"{len(roster.users)} people, {len(roster.classes)} classes, "
        f"{len(roster.enrollments)} enrollments."
    )


def _write_files(folder: Path, files: dict[str, bytes]) -> None:
    def write(report: Report) -> None:
        for done, (name, data) in enumerate(files.items()):
            report(name, done, len(files))
            (folder / name).write_bytes(data)
        report("done", len(files), len(files))

    _with_bar(f"writing {folder}", write)
    logging.getLogger(__name__).info("wrote %d file(s) to %s", len(files), folder)


@app.command("find-user")
def find_user(
    text: Annotated[str, typer.Argument(help="A sourcedId, username, identifier or userIds id")],
    database: DatabaseOption = None,
) -> None:
    """Find people by any of their ids: sourcedId, username, the roster's identifier, or one
    of their userIds (LDAP, SIS, ...)."""
    from sqlalchemy import select

    from learnway.store import find_users, transaction
    from learnway.store._schema import UserIdentifier

    engine = _engine(database)
    with transaction(engine) as session:
        people = find_users(session, text)
        table = Table("sourcedId", "username", "name", "role", "identifier", "userIds")
        for person in people:
            ids = session.execute(
                select(UserIdentifier.type, UserIdentifier.identifier).where(
                    UserIdentifier.user_id == person.id
                )
            ).all()
            table.add_row(
                person.sourced_id, person.username,
                f"{person.given_name} {person.family_name}", person.role,
                person.identifier or "", ", ".join(f"{k}:{v}" if k else v for k, v in ids),
            )  # fmt: skip
    if not people:
        console.print(f"No one is known by {text!r}.")
        raise typer.Exit(code=1)
    console.print(table)


def _warnings(warnings: list[Problem]) -> None:
    """Print what an import tolerated, one line each."""
    if warnings:
        console.print(f"[yellow]{len(warnings)} warning(s)[/] (read, not refused):")
    for warning in warnings:
        console.print(f"  - {warning}", markup=False, highlight=False)


def _import(
    database: str | None,
    read: Callable[[], Titled],
    save: Callable[[Session, Titled], ImportReport],
    *,
    writing: str | None = "writing",
) -> None:
    """Read and validate the whole input, then write it in one transaction, and report.
    ``writing`` labels a spinner while ``save`` runs (``None``: ``save`` shows its own)."""
    from learnway.store import transaction, upgrade

    try:
        parsed = read()
    except InputError as error:
        _fail(error)
    engine = _engine(database)
    upgrade(engine)
    try:
        with transaction(engine) as session:  # a refused write rolls back whole
            if writing is None:
                report = save(session, parsed)
            else:
                report = _step(writing, lambda: save(session, parsed))
    except InputError as error:
        _fail(error)
    _report(parsed.title, report)


def _report(title: str, report: ImportReport) -> None:
    table = Table(title=f"Imported {title}")
    for column in ("table", "inserted", "updated", "deleted", "unchanged"):
        table.add_column(column, justify="left" if column == "table" else "right")
    for row in report.rows():
        table.add_row(*(str(v) for v in row))
    console.print(table)
    if report.changed == 0:
        console.print("Nothing changed: the database already held this input.")


@app.command("set-password")
def set_password(
    username: Annotated[str, typer.Argument(help="The person's username")],
    database: DatabaseOption = None,
) -> None:
    """Set a person's password (asked twice, never echoed): how people imported from a roster
    first sign in."""
    from sqlalchemy import select

    from learnway.store import transaction
    from learnway.store._schema import User
    from learnway.web._passwords import password_problem
    from learnway.web._security import set_password as set_and_revoke

    engine = _engine(database)
    with transaction(engine) as session:
        role = session.scalar(select(User.role).where(User.username == username))
    if role is None:
        console.print(f"[bold red]No user[/] named {username}.")
        raise typer.Exit(code=1)
    password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password, username=username)
    if problem is not None:
        console.print(f"[bold red]Refused:[/] {problem}")
        raise typer.Exit(code=1)
    with transaction(engine) as session:  # not held open while the password is typed
        user = session.scalars(select(User).where(User.username == username)).one()
        set_and_revoke(session, user=user, password=password)
    console.print(f"Password set for {username} ({role}); every earlier sign-in has ended.")


@app.command("link-course")
def link_course(
    course: Annotated[str, typer.Argument(help="The roster course's sourcedId")],
    framework: Annotated[str, typer.Argument(help="The key of the imported content or standards")],
    database: DatabaseOption = None,
) -> None:
    """Give a roster course its content: its classes then follow that course's path."""
    from sqlalchemy import select

    from learnway.store import transaction
    from learnway.store._schema import Course, FrameworkRow

    engine = _engine(database)
    with transaction(engine) as session:
        row = session.scalar(select(Course).where(Course.sourced_id == course))
        framework_id = session.scalar(select(FrameworkRow.id).where(FrameworkRow.key == framework))
        if row is None or framework_id is None:
            missing = f"course {course}" if row is None else f"content {framework}"
            console.print(f"[bold red]No {missing}[/] in this database.")
            raise typer.Exit(code=1)
        row.framework_id = framework_id
    console.print(f"Course {course} ({row.title}) now follows {framework}.")


@app.command("add-lti-platform")
def add_lti_platform(
    issuer: Annotated[str, typer.Option(help="The platform's issuer (iss)")],
    client_id: Annotated[str, typer.Option(help="The client id the platform gave Learnway")],
    auth_url: Annotated[str, typer.Option(help="The platform's OIDC authorization endpoint")],
    deployment: Annotated[list[str], typer.Option(help="A deployment id (repeat for more)")],
    jwks: Annotated[
        Path | None, typer.Option(help="A file holding the platform's public keys (JWKS)")
    ] = None,
    jwks_url: Annotated[
        str | None, typer.Option(help="Or the URL of its keys: fetched, cached, refreshed")
    ] = None,
    token_url: Annotated[
        str | None, typer.Option(help="Its OAuth 2 token endpoint (grades and rosters)")
    ] = None,
    frame_ancestor: Annotated[
        list[str] | None,
        typer.Option(help="An origin that may frame LTI pages (default: the issuer's)"),
    ] = None,
    school: Annotated[
        str | None, typer.Option(help="sourcedId of the school of people a roster sync makes")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Register (or update) an LMS that launches Learnway with LTI 1.3."""
    import json

    from learnway.store import transaction, upgrade
    from learnway.web._lti_register import RegistrationError, register_by_hand

    keys = None
    if jwks is not None:
        try:
            keys = json.loads(jwks.read_text())
        except (OSError, ValueError) as error:
            console.print(f"[bold red]Not a JWKS file:[/] {jwks}: {error}")
            raise typer.Exit(code=1) from None
    engine = _engine(database)
    upgrade(engine)
    try:
        with transaction(engine) as session:
            register_by_hand(
                session, issuer=issuer, client_id=client_id, auth_url=auth_url, jwks=keys,
                jwks_url=jwks_url, token_url=token_url, deployments=deployment,
                frame_ancestors=frame_ancestor or [], school=school,
            )  # fmt: skip
    except RegistrationError as error:
        console.print(f"[bold red]Not registered:[/] {error}")
        raise typer.Exit(code=1) from None
    console.print(
        f"Registered {issuer} (client {client_id}). Give the platform these URLs: "
        "login initiation <server>/lti/login, launch (redirect) <server>/lti/launch, "
        "Learnway's keys <server>/lti/jwks."
    )


@app.command("lti-registration-url")
def lti_registration_url(
    server: Annotated[str, typer.Option(help="Learnway's public address, https://...")],
    school: Annotated[
        str | None, typer.Option(help="sourcedId of the school of people a roster sync makes")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """A one-time URL (valid 7 days) for an LMS's LTI Dynamic Registration of Learnway."""
    from learnway.store import transaction, upgrade
    from learnway.web._lti_register import RegistrationError, registration_url

    engine = _engine(database)
    upgrade(engine)
    try:
        with transaction(engine) as session:
            url = registration_url(session, server=server, school=school)
    except RegistrationError as error:
        console.print(f"[bold red]No URL:[/] {error}")
        raise typer.Exit(code=1) from None
    console.print(url, soft_wrap=True)


@app.command("lti-sync")
def lti_sync(
    grades: Annotated[bool, typer.Option(help="Post changed mastery to LMS gradebooks")] = True,
    rosters: Annotated[bool, typer.Option(help="Sync course rosters (NRPS)")] = True,
    database: DatabaseOption = None,
) -> None:
    """Sync with every registered LMS: roster memberships, then grades (changed scores and
    earlier failures that are due)."""
    from learnway.store import upgrade
    from learnway.web._lti_services import sync_grades, sync_rosters

    engine = _engine(database)
    upgrade(engine)
    errors: list[str] = []
    if rosters:
        found = sync_rosters(engine)
        errors += found.errors
        console.print(
            f"Rosters: {found.contexts} courses synced, {found.skipped} left to OneRoster, "
            f"{found.people_made} people made, {found.enrolled} enrolled, "
            f"{found.unenrolled} unenrolled."
        )
    if grades:
        sent = sync_grades(engine)
        errors += sent.errors
        console.print(
            f"Grades: {sent.queued} changed, {sent.sent} sent, {sent.retrying} to retry, "
            f"{sent.failed} failed for good."
        )
    for error in errors:
        console.print(f"[yellow]{error}[/]", soft_wrap=True)
    if errors:
        raise typer.Exit(code=1)


@app.command()
def calibrate(
    course: Annotated[
        str | None,
        typer.Option(help="Framework key of the course (default: every course with content)"),
    ] = None,
    min_attempts: Annotated[
        int, typer.Option(min=1, help="Fit a competency only with this many attempts")
    ] = 100,
    min_students: Annotated[
        int, typer.Option(min=1, help="... by at least this many students")
    ] = 10,
    background: Annotated[
        bool,
        typer.Option(
            "--background", help="Only queue the build of the new state for a running worker"
        ),
    ] = False,
    candidates: Annotated[
        str,
        typer.Option(
            help="Learner models to compare, comma-separated: bkt, bkt-forgetting (the "
            "default: those the policy benchmark measures), elo, pfa, best-lr+, dkt"
        ),
    ] = "bkt,bkt-forgetting",
    engine_name: Annotated[
        str,
        typer.Option(
            "--engine",
            help="local: compare the candidates in this process; ray: fit BKT with "
            "forgetting on a Ray cluster, a task per shard of competencies (learnway[ray])",
        ),
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(help="Ray cluster to use (ray://host:10001, or auto); default: a local one"),
    ] = None,
    ray_workers: Annotated[
        int | None, typer.Option(min=1, help="CPUs of the local Ray cluster (default: all)")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Compare the learner models that can serve the live state on held-out students of the
    school's stored attempts, fit the best and record it as a new model version; then build
    every student's state under it and make it the live one (a running server follows at its
    next request)."""
    from sqlalchemy import select

    from learnway.store import build_model, calibrate_course, transaction, upgrade
    from learnway.store._calibrate import LIVE_FAMILIES
    from learnway.store._schema import FrameworkRow, ItemRow

    names = tuple(n.strip() for n in candidates.split(",") if n.strip())
    unknown = [n for n in names if n not in LIVE_FAMILIES]
    if unknown or not names:
        console.print(f"[bold red]Unknown learner model[/] {', '.join(unknown) or '(none)'}; "
                      f"choose from {', '.join(LIVE_FAMILIES)}.")  # fmt: skip
        raise typer.Exit(code=2)

    if engine_name not in ("local", "ray"):
        console.print(f"[bold red]Unknown engine[/] {engine_name}; choose local or ray.")
        raise typer.Exit(code=2)
    engine = _engine(database)
    versions: list[tuple[str, int]] = []
    if engine_name == "ray":
        from learnway.store._calibrate_ray import calibrate_course_ray, need_ray

        try:
            need_ray()
        except RuntimeError as exc:
            console.print(f"[bold red]{exc}[/]")
            raise typer.Exit(code=1) from None
        fit = partial(calibrate_course_ray, workers=ray_workers, address=ray_address)
    else:
        fit = partial(calibrate_course, candidates=names)

    def build_all(todo: list[tuple[str, int]]) -> None:
        for _, version in todo:
            build_model(engine, version)

    upgrade(engine)  # in place: an older database gains the columns calibration writes
    with transaction(engine) as session:
        query = select(FrameworkRow.id, FrameworkRow.key).where(
            FrameworkRow.id.in_(select(ItemRow.framework_id))
        )
        if course is not None:
            query = query.where(FrameworkRow.key == course)
        targets = session.execute(query.order_by(FrameworkRow.key)).all()
        if not targets:
            which = f"named {course}" if course else "with content"
            console.print(f"[bold red]No course[/] {which} in this database.")
            raise typer.Exit(code=1)
        for framework_id, key in targets:
            report = _step(
                f"calibrating {key}",
                partial(
                    fit,
                    session,
                    framework_id,
                    min_attempts=min_attempts,
                    min_students=min_students,
                ),
            )
            console.print(
                f"{key}: {len(report.fitted)} competencies fitted on {report.attempts:,} "
                f"attempts by {report.students} students in {report.fit_seconds:.2f} s; "
                f"{len(report.kept)} with too few attempts kept their parameters."
            )
            for row in report.candidates:
                console.print(
                    f"  {row['name']}: held-out AUC {row['mean_auc']:.4f} "
                    f"(± {row['std_auc']:.4f} over folds of students), "
                    f"calibration error {row['mean_ece']:.4f}"
                )
            if report.version is not None:
                console.print(
                    f"  chosen: {report.family}, the highest held-out AUC of the models "
                    "compared (each can serve the live state)."
                )
                versions.append((key, report.version))
    if versions and not background:
        _step("building the learner state under the new model", lambda: build_all(versions))
        for key, version in versions:
            console.print(f"{key}: model version {version} now serves.")
    elif versions:
        console.print("The new model versions are queued; a worker builds and swaps them in.")


@app.command()
def demo(
    database: Annotated[
        str, typer.Option("--database", help="SQLAlchemy URL of the demo database")
    ] = "sqlite:///var/demo.db",
    seed: Annotated[int, typer.Option(help="Seed for the generated school")] = 7,
    host: Annotated[str, typer.Option(help="Address to serve on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on")] = 8000,
    browser: Annotated[
        bool, typer.Option("--browser/--no-browser", help="Open the student's page in a browser")
    ] = True,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the web application when built")
    ] = True,
) -> None:
    """Create (or reuse) the demo school with real content and a few weeks of practice, then
    serve it and print sign-in links for a student, a teacher and a leader."""
    from learnway.demo import build_demo
    from learnway.store import make_engine
    from learnway.web import DEMO_PASSWORD, set_demo_passwords

    engine = make_engine(database)
    summary = _with_bar(
        "building the demo school", lambda report: build_demo(engine, seed=seed, progress=report)
    )
    set_demo_passwords(engine)
    verb = "Created" if summary.created else "Reused"
    console.print(f"{verb} the demo school in {engine.url.render_as_string()}")
    table = Table(show_header=False)
    for role, count in sorted(summary.users.items()):
        table.add_row(f"{role.replace('_', ' ')}s", str(count))
    table.add_row("sections", str(summary.sections))
    table.add_row("competencies", str(summary.competencies))
    table.add_row("items", str(summary.items))
    table.add_row("practice attempts", str(summary.attempts))
    console.print(table)
    accounts = ", ".join(f"{k}: {v}" for k, v in summary.sign_in.items())
    console.print(f"Demo accounts ({accounts}) sign in with the password {DEMO_PASSWORD!r}.")
    console.print(
        "Content: OpenStax Elementary Algebra (CC BY 4.0) with hints by OATutor (CC BY 4.0); "
        "Common Core State Standards for Mathematics."
    )
    if serve:
        from learnway.web import serve as run

        run(
            engine, host=host, port=port, open_browser=browser, sign_in_links=True,
            echo=console.print,
        )  # fmt: skip
