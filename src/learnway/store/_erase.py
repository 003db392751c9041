"""Deletion and export of one student's data, on request or by the retention policy.

What holds a student's data is found, not listed: every table with a column that references
``users.id`` (found by reading the database's own foreign keys, so tables added later are
covered), and every table with a ``student_id`` column. Rows that belong to the student are
deleted, and so, recursively, are rows that depend on them; a nullable reference that only
names the student as the author of something else (``created_by_id``) is emptied instead.
Everything happens in the caller's transaction, so a deletion is whole or nothing; it leaves one
audit record (``action = 'delete'``) with a keyed hash of the student's roster id, not the id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Engine,
    MetaData,
    Select,
    Table,
    column,
    delete,
    func,
    insert,
    inspect,
    select,
    table,
    update,
)
from sqlalchemy.orm import Session

from learnway.store._schema import Enrollment, Timestamp, User

_AUDIT = table(
    "audit_events", column("at", Timestamp()), column("actor_id"), column("student_id"),
    column("action"), column("resource"), column("subject"),
)  # fmt: skip
"""The audit trail (``learnway.web._models.AuditEvent``), as much of it as a deletion writes."""

OWNER_COLUMNS = frozenset({"student_id", "user_id", "actor_id", "guardian_id"})
"""References that make a row the student's own: such rows are deleted, never emptied."""
SECRET_COLUMNS = frozenset({"password_hash", "token_hash", "csrf", "secret"})
"""Never part of an export."""


@dataclass(frozen=True)
class Reference:
    table: str
    column: str
    target: str
    target_column: str
    nullable: bool


@dataclass
class ErasureReport:
    subject: str
    """The keyed hash kept in the audit record of the deletion."""
    deleted: dict[str, int] = field(default_factory=dict)
    emptied: dict[str, int] = field(default_factory=dict)


class NotAStudent(LookupError):
    pass


def _references(session: Session) -> tuple[MetaData, list[Reference]]:
    """Every foreign key of the database, and every undeclared ``student_id`` column."""
    inspector = inspect(session.connection())
    metadata = MetaData()
    found: list[Reference] = []
    for name in inspector.get_table_names():
        if name == "alembic_version":
            continue
        columns = {c["name"]: c for c in inspector.get_columns(name)}
        Table(name, metadata, *(Column(c, c_info["type"]) for c, c_info in columns.items()))
        declared = set()
        for fk in inspector.get_foreign_keys(name):
            for name_of, target in zip(
                fk["constrained_columns"], fk["referred_columns"], strict=True
            ):
                declared.add(name_of)
                found.append(
                    Reference(name, name_of, fk["referred_table"], target,
                              bool(columns[name_of].get("nullable", True)))
                )  # fmt: skip
        if "student_id" in columns and "student_id" not in declared and name != "users":
            found.append(
                Reference(name, "student_id", "users", "id",
                          bool(columns["student_id"].get("nullable", True)))
            )  # fmt: skip
    return metadata, found


def subject_of(sourced_id: str, secret: str) -> str:
    """The keyed hash by which a deletion can later be confirmed (who asks must know both)."""
    return hmac.new(secret.encode(), sourced_id.encode(), hashlib.sha256).hexdigest()


def _purge(
    session: Session,
    metadata: MetaData,
    references: list[Reference],
    table: str,
    where: ColumnElement[bool],
    report: ErasureReport,
    path: tuple[str, ...],
) -> None:
    """Delete the rows of ``table`` matching ``where`` after those that depend on them."""
    parent = metadata.tables[table]
    for ref in references:
        if ref.target != table or ref.table in path:
            continue
        child = metadata.tables[ref.table]
        chosen = child.c[ref.column].in_(select(parent.c[ref.target_column]).where(where))
        if ref.nullable and ref.column not in OWNER_COLUMNS:
            result = session.execute(update(child).where(chosen).values({ref.column: None}))
            count = int(getattr(result, "rowcount", 0) or 0)
            if count:
                report.emptied[f"{ref.table}.{ref.column}"] = count
            continue
        _purge(session, metadata, references, ref.table, chosen, report, (*path, ref.table))
    result = session.execute(delete(parent).where(where))
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        report.deleted[table] = report.deleted.get(table, 0) + count


def erase_student(
    session: Session,
    *,
    student_id: int,
    secret: str,
    actor_id: int | None = None,
    resource: str = "learnway delete-student",
) -> ErasureReport:
    """Delete every row of one student's data, in the caller's transaction; keep only an audit
    record of the deletion. Raises :class:`NotAStudent` for any other id."""
    sourced_id = session.scalar(
        select(User.sourced_id).where(User.id == student_id, User.role == "student")
    )
    if sourced_id is None:
        raise NotAStudent(f"There is no student {student_id}.")
    session.flush()
    metadata, references = _references(session)
    report = ErasureReport(subject=subject_of(sourced_id, secret))
    users = metadata.tables["users"]
    _purge(session, metadata, references, "users", users.c.id == student_id, report, ("users",))
    session.execute(
        insert(_AUDIT).values(
            at=dt.datetime.now(dt.UTC), actor_id=actor_id, student_id=None, action="delete",
            resource=resource[:255], subject=report.subject,
        )
    )  # fmt: skip
    session.expire_all()
    return report


def student_record(session: Session, *, student_id: int) -> dict[str, list[dict[str, Any]]]:
    """Everything stored about one student, by table: their own row and every row that
    references them (secrets such as password hashes left out), as JSON-ready values."""
    metadata, references = _references(session)
    record: dict[str, list[dict[str, Any]]] = {}

    def rows(query: Select[Any]) -> Iterator[dict[str, Any]]:
        for row in session.execute(query).mappings():
            yield {k: _plain(v) for k, v in row.items() if k not in SECRET_COLUMNS}

    users = metadata.tables["users"]
    record["users"] = list(rows(select(users).where(users.c.id == student_id)))
    for ref in references:
        if ref.target != "users" or ref.column not in OWNER_COLUMNS | {"created_by_id"}:
            continue
        if ref.table in ("audit_events",) and ref.column == "actor_id":
            continue
        held = metadata.tables[ref.table]
        found = list(rows(select(held).where(held.c[ref.column] == student_id)))
        if found:
            record.setdefault(ref.table, []).extend(found)
    return record


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def students_past_retention(
    session: Session, *, days: int, today: dt.date | None = None
) -> list[int]:
    """Students whose last enrollment ended more than ``days`` days ago (and who have no
    current or future one)."""
    day = today or dt.datetime.now(dt.UTC).date()
    ended = func.max(Enrollment.end_date)
    query = (
        select(Enrollment.user_id)
        .join(User, User.id == Enrollment.user_id)
        .where(User.role == "student")
        .group_by(Enrollment.user_id)
        .having(func.count(Enrollment.end_date) == func.count())  # every enrollment has ended
        .having(ended < day - dt.timedelta(days=days))
    )
    return list(session.scalars(query))


def apply_retention(
    session: Session, *, days: int, secret: str, today: dt.date | None = None
) -> list[ErasureReport]:
    """Delete the students past the retention period (``LEARNWAY_RETENTION_DAYS``)."""
    return [
        erase_student(session, student_id=sid, secret=secret, resource="retention policy")
        for sid in students_past_retention(session, days=days, today=today)
    ]


def retention_upkeep(engine: Engine) -> int:
    """The background worker's daily pass of the retention policy (nothing when
    ``LEARNWAY_RETENTION_DAYS`` is not set); the number of students deleted."""
    from learnway.settings import get_settings
    from learnway.store._engine import transaction

    settings = get_settings()
    if settings.retention_days is None:
        return 0
    with transaction(engine) as session:
        done = apply_retention(session, days=settings.retention_days, secret=settings.secret_key)
    return len(done)
