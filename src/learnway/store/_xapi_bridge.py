"""Evidence in and out through xAPI.

Out: every attempt made in Learnway becomes an ``answered`` statement in the store
(:func:`sync_attempts`, idempotent: the statement id is derived from the attempt id), and is
queued for the district's store when forwarding is configured; :func:`forward_once` drains
that queue with retries and backoff, deleting a row only once the other store accepted it.

In: a statement from another tool about an activity mapped to a step (an administrator's
mapping, Learnway's own step IRIs, or a CASE item URI naming a competency) becomes an attempt
through the live attempt path :func:`learnway.store.record_practice`, its id derived from the
statement id, so the same statement twice changes nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import logging
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from sqlalchemy import Engine, delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from learnway._errors import InputError, Problem
from learnway.interop._xapi import (
    VERSION,
    XapiInvalid,
    attempt_id_of_statement,
    attempt_statement,
    digest,
    evidence,
    statement_id_of_attempt,
    validate_statement,
)
from learnway.paths import CourseGraph
from learnway.settings import Settings
from learnway.store import load_course, record_practice, transaction
from learnway.store._attempts import AttemptIn, AttemptReport
from learnway.store._schema import (
    Attempt,
    CompetencyRow,
    FrameworkRow,
    ItemRow,
    StepAlignment,
    StepRow,
    User,
    XapiActivityMap,
    XapiOutbox,
    XapiStatement,
    XapiStatementTerm,
)
from learnway.store._xapi import authority, save_statements

log = logging.getLogger(__name__)

LEARNWAY_AUTHORITY = "learnway"
SYNC_CHUNK = 2000
SYNC_LOCK = 7_262_021
"""The PostgreSQL advisory lock that lets one process at a time write attempts' statements."""


def step_iri(home_page: str, step_key: str) -> str:
    return f"{home_page}xapi/activities/steps/{quote(step_key, safe='')}"


def competency_iri(home_page: str, framework_key: str, code: str) -> str:
    framework, competency = quote(framework_key, safe=""), quote(code, safe="")
    return f"{home_page}xapi/activities/competencies/{framework}/{competency}"


# --- out: attempts as statements -------------------------------------------------------------


def sync_all(engine: Engine, *, home_page: str, forward: bool) -> int:
    """:func:`sync_attempts` in transactions of one chunk each, so that writing a school's
    history holds the database for a moment at a time; a chunk another process wrote at the
    same moment is skipped. Returns how many statements this call wrote."""
    written, clashes = 0, 0
    while True:
        try:
            with transaction(engine) as session:
                if engine.dialect.name == "postgresql":  # one writer at a time, no wasted work
                    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SYNC_LOCK})
                done = sync_attempts(session, home_page=home_page, forward=forward, chunks=1)
        except IntegrityError:
            # another process wrote these statements in the meantime (so it made progress):
            # look again
            clashes += 1
            if clashes > 100:
                raise
            continue
        clashes = 0
        written += done
        if done < SYNC_CHUNK:
            return written


def sync_attempts(
    session: Session,
    *,
    home_page: str,
    forward: bool,
    now: dt.datetime | None = None,
    chunks: int | None = None,
) -> int:
    """Write the statement of every attempt that has none yet (attempts that came in as
    statements excepted), ``chunks`` chunks of them at most; queue them for forwarding if
    asked. Returns how many were written."""
    now = now or dt.datetime.now(dt.UTC)
    written = 0
    for _ in itertools.count() if chunks is None else range(chunks):
        rows = session.execute(
            select(Attempt, User.sourced_id, StepRow.key, ItemRow.title)
            .join(User, User.id == Attempt.student_id)
            .join(StepRow, StepRow.id == Attempt.step_id)
            .join(ItemRow, ItemRow.id == StepRow.item_id)
            .where(
                Attempt.source != "xapi",
                ~select(XapiStatement.seq).where(XapiStatement.attempt_id == Attempt.id).exists(),
            )
            .order_by(Attempt.timestamp, Attempt.id)
            .limit(SYNC_CHUNK)
        ).all()
        if not rows:
            return written
        competencies = _competencies_of(session, {row[0].step_id for row in rows}, home_page)
        who = authority(LEARNWAY_AUTHORITY, home_page)
        statements = [
            attempt_statement(
                attempt_id=attempt.id, home_page=home_page, student=student,
                step_iri=step_iri(home_page, step), step_name=title,
                competency_iris=competencies.get(attempt.step_id, []), correct=attempt.correct,
                timestamp=attempt.timestamp, score=attempt.score, hints_used=attempt.hints_used,
                duration_s=attempt.duration_s, response=attempt.response, authority=who,
            )
            for attempt, student, step, title in rows
        ]  # fmt: skip
        ids = {statement_id_of_attempt(row[0].id): row[0].id for row in rows}
        saved = save_statements(
            session, statements, client_id=None, authority=who, now=now, attempt_ids=ids
        )
        if forward and saved.new:
            seqs = session.scalars(
                select(XapiStatement.seq).where(XapiStatement.id.in_([s["id"] for s in saved.new]))
            )
            queued = [{"statement_seq": seq, "tries": 0, "next_try": now} for seq in seqs]
            session.execute(insert(XapiOutbox), queued)
        session.flush()
        written += len(saved.new)
    return written


def _competencies_of(
    session: Session, step_ids: Iterable[int], home_page: str
) -> dict[int, list[str]]:
    rows = session.execute(
        select(StepAlignment.step_id, FrameworkRow.key, CompetencyRow.code)
        .join(CompetencyRow, CompetencyRow.id == StepAlignment.competency_id)
        .join(FrameworkRow, FrameworkRow.id == CompetencyRow.framework_id)
        .where(StepAlignment.step_id.in_(sorted(step_ids)))
        .order_by(StepAlignment.step_id, CompetencyRow.sequence)
    ).all()
    out: dict[int, list[str]] = defaultdict(list)
    for step_id, framework, code in rows:
        out[step_id].append(competency_iri(home_page, framework, code))
    return out


# --- in: statements as attempts --------------------------------------------------------------


def map_activity(session: Session, iri: str, step_id: int) -> None:
    """Statements about ``iri`` are from now on evidence on the step ``step_id``."""
    row = session.get(XapiActivityMap, digest(iri))
    if row is None:
        session.add(XapiActivityMap(key=digest(iri), iri=iri, step_id=step_id))
    else:
        row.step_id = step_id
    session.flush()


def step_for_competency(session: Session, competency_id: int) -> int | None:
    """The step that practises this competency most purely (fewest other alignments)."""
    other = aliased(StepAlignment)
    others = (
        select(func.count())
        .select_from(other)
        .where(other.step_id == StepRow.id)
        .correlate(StepRow)
        .scalar_subquery()
    )
    return session.scalar(
        select(StepRow.id)
        .join(StepAlignment, StepAlignment.step_id == StepRow.id)
        .where(StepAlignment.competency_id == competency_id)
        .order_by(others, StepRow.id)
        .limit(1)
    )


def step_of_activity(session: Session, iri: str, home_page: str) -> int | None:
    """The step a statement about ``iri`` is evidence on: the administrator's mapping first,
    then Learnway's own step and competency IRIs, then a CASE item URI whose last segment is
    the identifier (or code) of a competency of a CASE framework."""
    mapped = session.scalar(
        select(XapiActivityMap.step_id).where(XapiActivityMap.key == digest(iri))
    )
    if mapped is not None:
        return mapped
    steps_prefix = f"{home_page}xapi/activities/steps/"
    if iri.startswith(steps_prefix):
        return session.scalar(
            select(StepRow.id).where(StepRow.key == unquote(iri[len(steps_prefix) :]))
        )
    competencies_prefix = f"{home_page}xapi/activities/competencies/"
    competency_id: int | None = None
    if iri.startswith(competencies_prefix):
        framework, _, code = iri[len(competencies_prefix) :].partition("/")
        competency_id = session.scalar(
            select(CompetencyRow.id)
            .join(FrameworkRow, FrameworkRow.id == CompetencyRow.framework_id)
            .where(FrameworkRow.key == unquote(framework), CompetencyRow.code == unquote(code))
        )
    elif "/CFItems/" in iri or "/cfitems/" in iri.lower():
        identifier = unquote(iri.rstrip("/").rsplit("/", 1)[-1])
        competency_id = session.scalar(
            select(CompetencyRow.id)
            .join(FrameworkRow, FrameworkRow.id == CompetencyRow.framework_id)
            .where(FrameworkRow.key.like("case-%"), CompetencyRow.code == identifier)
            .limit(1)
        )
    return None if competency_id is None else step_for_competency(session, competency_id)


def student_of(session: Session, actor: Mapping[str, Any]) -> int | None:
    """The student a statement's actor names: an account whose name is the student's sourcedId
    (or username), or the student's email as mbox."""
    query = select(User.id).where(User.role == "student", User.enabled.is_(True))
    if "account" in actor:
        name = actor["account"]["name"]
        return session.scalar(query.where(User.sourced_id == name)) or session.scalar(
            query.where(User.username == name)
        )
    if "mbox" in actor:
        email = actor["mbox"].removeprefix("mailto:").lower()
        return session.scalar(query.where(func.lower(User.email) == email).limit(1))
    return None


@dataclass
class Ingested:
    attempts: int = 0
    """Attempts recorded (new evidence)."""
    duplicates: int = 0
    unmapped: int = 0
    """Statements judging an answer about no mapped activity or by no known student."""
    refused: list[str] = field(default_factory=list)


def ingest(
    session: Session,
    statements: Sequence[Mapping[str, Any]],
    *,
    home_page: str,
    course_of: Callable[[int], CourseGraph] | None = None,
) -> Ingested:
    """Turn the statements that judge a mapped student's answer into attempts, through
    :func:`record_practice` (one call per course), and update their mastery."""
    report = Ingested()
    by_course: dict[int, list[AttemptIn]] = defaultdict(list)
    for statement in statements:
        said = evidence(statement)
        if said is None:
            continue
        step = step_of_activity(session, statement["object"]["id"], home_page)
        student = student_of(session, statement["actor"])
        if step is None or student is None:
            report.unmapped += 1
            continue
        framework_id = session.scalar(
            select(ItemRow.framework_id)
            .join(StepRow, StepRow.item_id == ItemRow.id)
            .where(StepRow.id == step)
        )
        assert framework_id is not None
        response = said["response"]
        by_course[framework_id].append(
            AttemptIn(
                id=attempt_id_of_statement(statement["id"]),
                student_id=student,
                step_id=step,
                correct=said["correct"],
                timestamp=dt.datetime.fromisoformat(statement["timestamp"].replace("Z", "+00:00")),
                source="xapi",
                score=said["score"],
                hints_used=said["hints_used"],
                duration_s=said["duration_s"],
                response=None if response is None else response[:2000],
            )
        )
    for framework_id, attempts in by_course.items():
        course = course_of(framework_id) if course_of else load_course(session, framework_id)
        done: AttemptReport = record_practice(session, course, framework_id, attempts)
        report.attempts += len(done.stored)
        report.duplicates += len(done.duplicates)
        report.refused.extend(str(p) for p in done.refused)
    return report


# --- forwarding to the district's store ------------------------------------------------------


@dataclass
class Forwarded:
    sent: int = 0
    failed: int = 0
    left: int = 0
    error: str | None = None


def backoff(tries: int, base: float, cap: float) -> float:
    """Seconds to wait after the ``tries``-th failure: doubling from ``base`` up to ``cap``."""
    return float(min(cap, base * 2 ** max(0, tries - 1)))


def forward_once(
    engine: Engine,
    *,
    url: str,
    username: str,
    password: str,
    batch: int = 100,
    timeout: float = 10.0,
    base_delay: float = 1.0,
    max_delay: float = 300.0,
    now: Callable[[], dt.datetime] | None = None,
) -> Forwarded:
    """Send every due statement of the outbox, a batch per request, until none is due or a
    request fails (the failed rows wait, doubling each time). A row leaves the outbox only once
    the other store has accepted its statement, so nothing is lost while it is down."""
    clock = now or (lambda: dt.datetime.now(dt.UTC))
    report = Forwarded()
    endpoint = url.rstrip("/") + "/statements"
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    while True:
        with transaction(engine) as session:
            rows = session.execute(
                select(XapiOutbox.statement_seq, XapiStatement.body)
                .join(XapiStatement, XapiStatement.seq == XapiOutbox.statement_seq)
                .where(XapiOutbox.next_try <= clock())
                .order_by(XapiOutbox.statement_seq)
                .limit(batch)
            ).all()
        if not rows:
            break
        error = _post(endpoint, token, [json.loads(body) for _, body in rows], timeout)
        seqs = [seq for seq, _ in rows]
        with transaction(engine) as session:
            if error is None:
                session.execute(delete(XapiOutbox).where(XapiOutbox.statement_seq.in_(seqs)))
                report.sent += len(seqs)
                continue
            report.failed += len(seqs)
            report.error = error
            for row in session.scalars(
                select(XapiOutbox).where(XapiOutbox.statement_seq.in_(seqs))
            ):
                row.tries += 1
                row.last_error = error[:2000]
                row.next_try = clock() + dt.timedelta(
                    seconds=backoff(row.tries, base_delay, max_delay)
                )
        break
    with transaction(engine) as session:
        report.left = session.scalar(select(func.count()).select_from(XapiOutbox)) or 0
    return report


def _post(
    endpoint: str, token: str, statements: list[dict[str, Any]], timeout: float
) -> str | None:
    """POST a batch; on a conflict PUT each one (a statement the other store already holds
    unchanged counts as delivered). ``None`` when delivered, else why not."""
    headers = {
        "Authorization": f"Basic {token}",
        "X-Experience-API-Version": VERSION,
        "Content-Type": "application/json",
    }
    status, text = _send("POST", endpoint, headers, json.dumps(statements).encode(), timeout)
    if status == 200:
        return None
    if status != 409:
        return f"{status}: {text[:300]}"
    for statement in statements:
        target = f"{endpoint}?statementId={quote(statement['id'])}"
        status, text = _send("PUT", target, headers, json.dumps(statement).encode(), timeout)
        if status not in (204, 409):
            return f"{status}: {text[:300]}"
    return None


def _send(
    method: str, url: str, headers: dict[str, str], body: bytes, timeout: float
) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        return 0, f"cannot reach {url}: {error}"


def forward_pending(engine: Engine, settings: Settings) -> Forwarded:
    """One round of the forwarding worker (and of ``learnway xapi-forward``): write the
    statements of new attempts, then send what is due."""
    sync_all(engine, home_page=settings.xapi_home_page, forward=True)
    return forward_once(
        engine,
        url=settings.xapi_forward_url,
        username=settings.xapi_forward_username,
        password=settings.xapi_forward_password.get_secret_value(),
        base_delay=settings.xapi_forward_interval_s,
        max_delay=settings.xapi_forward_max_delay_s,
    )


# --- a statement dump ------------------------------------------------------------------------


def read_statement_dump(text: str, origin: str) -> list[dict[str, Any]]:
    """Statements from a dump: a JSON array, a statement result (``{"statements": [...]}``, as
    GET returns) or one statement per line; every invalid statement is named before any is kept."""
    stripped = text.strip()
    values: list[Any]
    problems: list[Problem] = []
    try:
        loaded = json.loads(stripped) if stripped else []
        values = loaded.get("statements", [loaded]) if isinstance(loaded, dict) else loaded
    except ValueError:
        values = []
        for number, line in enumerate(stripped.splitlines(), 1):
            if line.strip():
                try:
                    values.append(json.loads(line))
                except ValueError as error:
                    problems.append(Problem(origin, f"line {number}", f"not JSON: {error}"))
    if not isinstance(values, list):
        raise InputError([Problem(origin, "file", "must hold statements")])
    for position, value in enumerate(values, 1):
        try:
            validate_statement(value)
        except XapiInvalid as error:
            problems.append(Problem(origin, f"statement {position}", str(error)))
    if problems:
        raise InputError(problems)
    return values


def import_statements(
    session: Session,
    statements: Sequence[dict[str, Any]],
    *,
    home_page: str,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[int, Ingested]:
    """Store a dump's statements (kept as they were stored elsewhere, with their authority) and
    turn those that judge a mapped student's answer into attempts. Returns how many were new.
    ``progress("statements", done, total)`` is called every 500 statements and at the end."""
    new, total = 0, Ingested()
    for done, statement in enumerate(statements):
        if progress is not None and done % 500 == 0:
            progress("statements", done, len(statements))
        who = statement.get("authority") or authority("import", home_page)
        saved = save_statements(session, [statement], client_id=None, authority=who)
        new += len(saved.new)
        if saved.new:
            ingested = ingest(session, saved.new, home_page=home_page)
            total.attempts += ingested.attempts
            total.duplicates += ingested.duplicates
            total.unmapped += ingested.unmapped
            total.refused.extend(ingested.refused)
    if progress is not None:
        progress("statements", len(statements), len(statements))
    log.info(
        "imported %d statement(s): %d new, %d attempt(s), %d about unmapped activities or "
        "unknown students", len(statements), new, total.attempts, total.unmapped,
    )  # fmt: skip
    return new, total


def ingest_stored(session: Session, iri: str, *, home_page: str) -> Ingested:
    """Turn the statements already stored about ``iri`` into attempts (after a new mapping);
    those already turned change nothing."""
    seqs = select(XapiStatementTerm.statement_seq).where(
        XapiStatementTerm.kind == "activity",
        XapiStatementTerm.term == digest(iri),
        XapiStatementTerm.direct.is_(True),
    )
    bodies = session.scalars(
        select(XapiStatement.body)
        .where(XapiStatement.seq.in_(seqs), XapiStatement.voided.is_(False))
        .where(XapiStatement.attempt_id.is_(None))
        .order_by(XapiStatement.seq)
    )
    return ingest(session, [json.loads(body) for body in bodies], home_page=home_page)
