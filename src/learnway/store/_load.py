"""Write frameworks and content courses to the database, idempotently.

Rows are matched on their natural keys (framework key, competency code, item, step and hint
keys). A new row is inserted, a changed row updated, an unchanged row left alone, so importing
the same input twice changes nothing. Links (prerequisites, related edges, step alignments)
that the input no longer has are removed; competencies, items and steps are never deleted,
because attempts and mastery refer to them. The caller owns the transaction: an error leaves
the database as it was.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from sqlalchemy import delete, insert, select, text, tuple_, update
from sqlalchemy.orm import Session

from learnway.content import Course, Hint
from learnway.frameworks import Framework
from learnway.store._schema import (
    Base,
    CompetencyRow,
    FrameworkRow,
    HintRow,
    ItemRow,
    Prerequisite,
    RelatedCompetency,
    StepAlignment,
    StepRow,
)

T = TypeVar("T")
ANALYZE_AFTER = 1000  # rows inserted into one table before PostgreSQL re-reads its statistics
SCAN_AT = 20_000  # keys looked up at once: from here, one pass over the table instead


@dataclass
class ImportReport:
    """Rows inserted, updated, deleted and left unchanged, per table."""

    inserted: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    deleted: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> int:
        return sum(self.inserted.values()) + sum(self.updated.values()) + sum(self.deleted.values())

    def rows(self) -> list[tuple[str, int, int, int, int]]:
        tables = sorted({*self.inserted, *self.updated, *self.deleted, *self.unchanged})
        return [
            (t, self.inserted[t], self.updated[t], self.deleted[t], self.unchanged[t])
            for t in tables
        ]


def save_framework(session: Session, framework: Framework) -> ImportReport:
    report = ImportReport()
    _save_framework(session, framework, report)
    return report


def save_course(session: Session, course: Course) -> ImportReport:
    """Save a content course: its framework, items, steps, hints and step alignments."""
    report = ImportReport()
    framework_id, competency_ids = _save_framework(session, course.framework, report)
    items = [
        {
            "key": item.key,
            "framework_id": framework_id,
            "lesson_id": competency_ids[item.lesson],
            "title": item.title,
            "body": item.body,
            "source": item.source,
            "license": item.license,
            "attribution": item.attribution,
        }
        for item in course.items
    ]
    item_ids = _sync(session, ItemRow, ("key",), items, report)
    steps = [
        {
            "key": step.key,
            "item_id": item_ids[(item.key,)],
            "position": step.position,
            "prompt": step.prompt,
            "body": step.body,
            "problem_type": step.problem_type,
            "answer_type": step.answer_type,
            "answers": list(step.answers),
            "choices": list(step.choices),
            "answer_latex": step.answer_latex,
        }
        for item in course.items
        for step in item.steps
    ]
    step_ids = _sync(session, StepRow, ("key",), steps, report)
    hints = [
        {
            "step_id": step_ids[(step.key,)],
            "position": position,
            "key": hint.key,
            "kind": hint.kind,
            "title": hint.title,
            "text": hint.text,
            "depends_on": list(hint.depends_on),
            "problem_type": hint.problem_type,
            "answer_type": hint.answer_type,
            "answers": list(hint.answers),
            "choices": list(hint.choices),
            "sub_hints": [_hint_json(h) for h in hint.sub_hints],
        }
        for step in course.steps
        for position, hint in enumerate(step.hints)
    ]
    _sync(session, HintRow, ("step_id", "position"), hints, report)
    alignments = {
        (step_ids[(step.key,)], competency_ids[code])
        for step in course.steps
        for code in step.competencies
    }
    _sync_links(
        session,
        StepAlignment,
        ("step_id", "competency_id"),
        alignments,
        scope=StepAlignment.step_id.in_(
            select(StepRow.id).join(ItemRow).where(ItemRow.framework_id == framework_id)
        ),
        report=report,
    )
    return report


def _save_framework(
    session: Session, framework: Framework, report: ImportReport
) -> tuple[int, dict[str, int]]:
    header = {
        "key": framework.key,
        "title": framework.title,
        "source": framework.source,
        "license": framework.license,
        "attribution": framework.attribution,
    }
    framework_id = _sync(session, FrameworkRow, ("key",), [header], report)[(framework.key,)]
    rows = [
        {
            "framework_id": framework_id,
            "code": c.code,
            "title": c.title,
            "description": c.description,
            "kind": c.kind,
            "grade": c.grade,
            "sequence": c.sequence,
            "mastery_threshold": c.mastery_threshold,
            "p_init": c.p_init,
            "p_learn": c.p_learn,
            "p_guess": c.p_guess,
            "p_slip": c.p_slip,
            "p_forget": c.p_forget,
        }
        for c in framework.competencies
    ]
    ids = {
        code: i
        for (_, code), i in _sync(
            session, CompetencyRow, ("framework_id", "code"), rows, report
        ).items()
    }
    # Parents refer to rows of the same framework, so they are set once every row has an id.
    parents = [
        {"framework_id": framework_id, "code": c.code, "parent_id": ids.get(c.parent or "")}
        for c in framework.competencies
    ]
    _sync(session, CompetencyRow, ("framework_id", "code"), parents, report, count=False)
    in_framework = select(CompetencyRow.id).where(CompetencyRow.framework_id == framework_id)
    _sync_links(
        session,
        Prerequisite,
        ("before_id", "after_id"),
        {(ids[a], ids[b]) for a, b in framework.prerequisites},
        scope=Prerequisite.after_id.in_(in_framework),
        report=report,
    )
    _sync_links(
        session,
        RelatedCompetency,
        ("a_id", "b_id"),
        {(ids[a], ids[b]) for a, b in framework.related},
        scope=RelatedCompetency.a_id.in_(in_framework),
        report=report,
    )
    return framework_id, ids


def _sync(
    session: Session,
    model: type[Base],
    key: Sequence[str],
    rows: list[dict[str, Any]],
    report: ImportReport,
    *,
    count: bool = True,
) -> dict[tuple[Any, ...], int]:
    """Insert or update ``rows`` matched on ``key``; return the id of every row by its key."""
    table = model.__table__
    columns = [table.c[name] for name in rows[0]] if rows else []
    wanted = {tuple(row[k] for k in key): row for row in rows}
    existing = _existing(session, model, key, columns, list(wanted))
    new = [row for k, row in wanted.items() if k not in existing]
    changed = [
        {"id": existing[k]["id"], **row}
        for k, row in wanted.items()
        if k in existing and any(existing[k][name] != value for name, value in row.items())
    ]
    if new:
        _insert(session, model, new)
    if changed:
        session.execute(update(model), changed)
    name = model.__tablename__
    if count:
        report.inserted[name] += len(new)
        report.updated[name] += len(changed)
        report.unchanged[name] += len(wanted) - len(new) - len(changed)
    if new:  # the new rows' ids (INSERT .. RETURNING is several times slower on SQLite)
        existing = _existing(session, model, key, [], list(wanted))
    return {k: row["id"] for k, row in existing.items()}


def _insert(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Insert ``rows``; on PostgreSQL, refresh the table's statistics after a big insert, or the
    next lookups are planned as on an empty table (a sequential scan per lookup)."""
    session.execute(insert(model), rows)
    if len(rows) >= ANALYZE_AFTER and session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ANALYZE {model.__tablename__}"))


def _existing(
    session: Session,
    model: type[Base],
    key: Sequence[str],
    columns: Sequence[Any],
    keys: list[tuple[Any, ...]],
) -> dict[tuple[Any, ...], dict[str, Any]]:
    table = model.__table__
    key_columns = [table.c[k] for k in key]
    selected = list({c.name: c for c in [table.c.id, *key_columns, *columns]}.values())
    rows = _select_in(session, select(*selected), key_columns, keys)
    return {tuple(row[k] for k in key): dict(row) for row in rows}


def _select_in(
    session: Session, query: Any, key_columns: Sequence[Any], keys: list[tuple[Any, ...]]
) -> list[Any]:
    """The rows (mappings) of ``query`` whose values of ``key_columns`` are one of ``keys``:
    looked up 500 keys at a time, or from ``SCAN_AT`` keys on, read in one pass over the table
    (which beats thousands of index lookups) and filtered here."""
    if len(keys) >= SCAN_AT:
        wanted = set(keys)
        return [
            row
            for row in session.execute(query).mappings()
            if tuple(row[c.name] for c in key_columns) in wanted
        ]
    found: list[Any] = []
    for chunk in _chunks(keys, 500):
        condition = (
            key_columns[0].in_([k[0] for k in chunk])
            if len(key_columns) == 1
            else tuple_(*key_columns).in_(chunk)
        )
        found.extend(session.execute(query.where(condition)).mappings())
    return found


def _sync_links(
    session: Session,
    model: type[Base],
    key: tuple[str, str],
    links: set[tuple[int, int]],
    *,
    scope: Any,
    report: ImportReport,
) -> None:
    """Make the link table hold exactly ``links`` within ``scope``."""
    table = model.__table__
    a, b = (table.c[k] for k in key)
    existing = {(row[0], row[1]) for row in session.execute(select(a, b).where(scope))}
    new = links - existing
    stale = existing - links
    if new:
        _insert(session, model, [dict(zip(key, link, strict=True)) for link in new])
    for chunk in _chunks(sorted(stale), 500):
        session.execute(delete(model).where(tuple_(a, b).in_(chunk)))
    name = model.__tablename__
    report.inserted[name] += len(new)
    report.deleted[name] += len(stale)
    report.unchanged[name] += len(existing & links)


def _chunks(values: list[T], size: int) -> Iterable[list[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _hint_json(hint: Hint) -> dict[str, Any]:
    """The hint as it reads back from a JSON column (lists, not tuples)."""
    loaded: dict[str, Any] = json.loads(json.dumps(asdict(hint)))
    return loaded
