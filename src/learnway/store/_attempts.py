"""The attempt log: append-only, idempotent by attempt id.

Each attempt is either stored once or refused with a reason. Sending an attempt again with
the same id and content is a no-op reported as a duplicate; the same id with different content
is refused, and the stored row is left as it was.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

from sqlalchemy import Table, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from learnway._errors import InputError, Problem
from learnway.store._schema import ATTEMPT_KINDS, ATTEMPT_SOURCES, Attempt, StepRow, User

MAX_RESPONSE = 2000


@dataclass(frozen=True, slots=True)
class AttemptIn:
    """One attempt as it arrives, before it is stored."""

    id: str
    student_id: int
    step_id: int
    correct: bool
    timestamp: dt.datetime
    source: str = "web"
    score: float | None = None
    hints_used: int = 0
    duration_s: float | None = None
    response: str | None = None
    kind: str = "answer"


@dataclass
class AttemptReport:
    stored: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    """Already stored with the same content: nothing was written."""
    refused: list[Problem] = field(default_factory=list)


_COLUMNS = [f.name for f in fields(AttemptIn)]


def record_attempts(
    session: Session,
    attempts: Sequence[AttemptIn],
    *,
    all_or_nothing: bool = False,
    known: bool = False,
) -> AttemptReport:
    """Store new attempts; report duplicates and refusals.

    With ``all_or_nothing``, any refusal raises :class:`InputError` (listing every refused
    attempt) before anything is written, as imports require. With ``known``, the caller has
    read the students and steps in this transaction (a live answer): they are not looked up
    again.
    """
    report = AttemptReport()
    unique: dict[str, AttemptIn] = {}
    for attempt in attempts:
        reason = _invalid(attempt)
        if reason is None and attempt.id in unique:
            if unique[attempt.id] == attempt:
                report.duplicates.append(attempt.id)
                continue
            reason = "the same id appears earlier in this batch with different content"
        if reason is not None:
            report.refused.append(Problem("attempt", str(attempt.id), reason))
        else:
            unique[attempt.id] = attempt
    if not known:
        _refuse_unknown(session, unique, report)
    if all_or_nothing and report.refused:
        raise InputError(report.refused)
    if not unique:
        return report

    stored = _insert_new(session, list(unique.values()))
    report.stored.extend(i for i in unique if i in stored)
    clashes = [i for i in unique if i not in stored]
    for chunk_start in range(0, len(clashes), 500):
        chunk = clashes[chunk_start : chunk_start + 500]
        for row in session.scalars(select(Attempt).where(Attempt.id.in_(chunk))):
            if _same(row, unique[row.id]):
                report.duplicates.append(row.id)
            else:
                report.refused.append(
                    Problem("attempt", row.id, "id already stored with different content")
                )
    if all_or_nothing and report.refused:
        raise InputError(report.refused)
    return report


def _insert_new(session: Session, attempts: list[AttemptIn]) -> set[str]:
    """Insert, skipping ids already stored; return the ids that were inserted."""
    if session.get_bind().dialect.name == "postgresql":
        # One statement over arrays: far cheaper than a 10,000-parameter VALUES list. The log
        # is partitioned by month, so its key is (id, timestamp): an id is kept unique by
        # transaction-scoped locks taken before looking for it in every partition.
        columns = {name: [getattr(a, name) for a in attempts] for name in _COLUMNS}
        _lock_ids(session, columns["id"])
        return set(session.scalars(_PG_INSERT, columns).all())
    rows = [{name: getattr(a, name) for name in _COLUMNS} for a in attempts]
    return set(session.connection().execute(_SQLITE_INSERT, rows).scalars().all())


_LOG_LOCK = 7_310_448_021
"""The advisory lock of the whole attempt log: shared by every small batch, exclusive for a
large one."""
_FEW = 64


def _lock_ids(session: Session, ids: list[str]) -> None:
    """Lock the ids about to be stored until the transaction ends. A live answer (a few ids)
    shares the log lock and locks each id, in one order so that writers never deadlock; an
    import of many ids takes the log lock alone, exclusively (as many locks would not fit in
    the server's lock table)."""
    if len(ids) > _FEW:
        session.execute(_LOCK_LOG, {"k": _LOG_LOCK})
    elif len(ids) == 1:  # a live answer: both locks in one round trip, in this order
        session.execute(_LOCK_ONE, {"k": _LOG_LOCK, "id": ids[0]})
    else:
        session.execute(_LOCK_SHARED, {"k": _LOG_LOCK})
        session.execute(_LOCK_EACH, {"id": ids})


_PG_ARRAYS = {
    "id": "varchar",
    "student_id": "integer",
    "step_id": "integer",
    "correct": "boolean",
    "timestamp": "timestamptz",
    "source": "varchar",
    "score": "float8",
    "hints_used": "integer",
    "duration_s": "float8",
    "response": "text",
    "kind": "varchar",
}


_PG_INSERT = text(
    f"INSERT INTO attempts ({', '.join(_COLUMNS)}) SELECT * FROM unnest("
    + ", ".join(f"CAST(:{name} AS {_PG_ARRAYS[name]}[])" for name in _COLUMNS)
    + f") AS u({', '.join(_COLUMNS)}) "
    "WHERE NOT EXISTS (SELECT 1 FROM attempts a WHERE a.id = u.id) "
    "ON CONFLICT DO NOTHING RETURNING id"
)
_ATTEMPTS: Table = Attempt.__table__  # type: ignore[assignment]
_SQLITE_INSERT = (  # into the table, not the entity: no ORM bulk insert around it
    sqlite.insert(_ATTEMPTS).on_conflict_do_nothing(index_elements=["id"]).returning(_ATTEMPTS.c.id)
)
_LOCK_LOG = text("SELECT pg_advisory_xact_lock(:k)")
_LOCK_ONE = text(
    "SELECT pg_advisory_xact_lock_shared(:k), pg_advisory_xact_lock(hashtextextended(:id, 7))"
)
_LOCK_SHARED = text("SELECT pg_advisory_xact_lock_shared(:k)")
_LOCK_EACH = text(
    "SELECT count(pg_advisory_xact_lock(h)) FROM (SELECT DISTINCT "
    "hashtextextended(i, 7) AS h FROM unnest(CAST(:id AS varchar[])) AS i ORDER BY 1) AS o"
)


def _invalid(a: AttemptIn) -> str | None:
    """Why this attempt cannot be stored, judged on its own; ``None`` if it can."""
    if not isinstance(a.id, str) or not a.id.strip() or len(a.id) > 64:
        return "id must be a non-empty string of at most 64 characters"
    if a.source not in ATTEMPT_SOURCES:
        return f"source must be one of {', '.join(ATTEMPT_SOURCES)}"
    if a.kind not in ATTEMPT_KINDS:
        return f"kind must be one of {', '.join(ATTEMPT_KINDS)}"
    if not isinstance(a.timestamp, dt.datetime) or a.timestamp.tzinfo is None:
        return "timestamp must be a date and time with a time zone"
    if a.score is not None and not (math.isfinite(a.score) and 0.0 <= a.score <= 1.0):
        return "score must be between 0 and 1"
    if not isinstance(a.hints_used, int) or a.hints_used < 0:
        return "hints_used must be a whole number, 0 or more"
    if a.duration_s is not None and not (math.isfinite(a.duration_s) and a.duration_s >= 0):
        return "duration_s must be 0 or more seconds"
    if a.response is not None and len(a.response) > MAX_RESPONSE:
        return f"response longer than {MAX_RESPONSE} characters"
    return None


def _refuse_unknown(session: Session, unique: dict[str, AttemptIn], report: AttemptReport) -> None:
    students = {a.student_id for a in unique.values()}
    steps = {a.step_id for a in unique.values()}
    known_students = (
        set(session.scalars(select(User.id).where(User.id.in_(students), User.role == "student")))
        if students
        else set()
    )
    known_steps = (
        set(session.scalars(select(StepRow.id).where(StepRow.id.in_(steps)))) if steps else set()
    )
    for key, a in list(unique.items()):
        reason = None
        if a.student_id not in known_students:
            reason = f"no student with id {a.student_id}"
        elif a.step_id not in known_steps:
            reason = f"no step with id {a.step_id}"
        if reason:
            report.refused.append(Problem("attempt", key, reason))
            del unique[key]


def _same(row: Attempt, attempt: AttemptIn) -> bool:
    return all(getattr(row, name) == getattr(attempt, name) for name in _COLUMNS)
