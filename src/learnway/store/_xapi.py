"""The learning record store's storage: client credentials, statements, documents.

Statements arrive validated (:func:`learnway.interop.validate_statement`); this module stores
them once by id, voids, indexes who and what they are about for the queries, and keeps
attachments and the state and profile documents. Evidence in and out (attempts as statements,
statements as attempts, forwarding) lives in ``_xapi_bridge``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from learnway.interop._xapi import (
    VOIDED,
    XapiInvalid,
    activities_defined,
    agent_key,
    digest,
    equivalent,
    format_timestamp,
    statement_terms,
)
from learnway.store._schema import (
    Base,
    XapiActivity,
    XapiAttachment,
    XapiClient,
    XapiDocument,
    XapiStatement,
    XapiStatementTerm,
)

SCOPES = (
    "statements/write",
    "statements/read",
    "statements/read/mine",
    "all/read",
    "all",
    "state",
    "define",
    "profile",
)
DEFAULT_SCOPES = ("statements/write", "statements/read/mine", "state", "profile")
"""A new client writes statements and reads back only its own, with its state and profiles."""
PAGE_LIMIT = 100
STATEMENTS = Table("xapi_statements", Base.metadata)
TERMS = Table("xapi_statement_terms", Base.metadata)
"""The tables themselves: bulk inserts skip the ORM's per-row bookkeeping."""


class XapiConflict(Exception):
    """A statement id already stored with different content, or a document changed since."""


class XapiNotFound(Exception):
    pass


# --- clients ---------------------------------------------------------------------------------


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def add_client(
    session: Session, *, name: str, scopes: Sequence[str] = DEFAULT_SCOPES
) -> tuple[str, str]:
    """Register a client (or give an existing one new credentials); return its key and secret.
    Only a hash of the secret is stored."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scopes {unknown}; known: {', '.join(SCOPES)}")
    key, secret = secrets.token_hex(12), secrets.token_urlsafe(24)
    client = session.scalar(select(XapiClient).where(XapiClient.name == name))
    if client is None:
        client = XapiClient(name=name)
        session.add(client)
    client.key, client.secret_hash = key, _hash_secret(secret)
    client.scopes, client.enabled = sorted(set(scopes)), True
    session.flush()
    return key, secret


def authenticate(session: Session, key: str, secret: str) -> XapiClient | None:
    client = session.scalar(select(XapiClient).where(XapiClient.key == key))
    if client is None or not client.enabled:
        return None
    if not secrets.compare_digest(client.secret_hash, _hash_secret(secret)):
        return None
    return client


def authority(client_name: str, home_page: str) -> dict[str, Any]:
    return {"objectType": "Agent", "account": {"homePage": home_page, "name": client_name}}


# --- statements ------------------------------------------------------------------------------


@dataclass
class Saved:
    ids: list[str] = field(default_factory=list)
    new: list[dict[str, Any]] = field(default_factory=list)
    """The statements stored by this call (not those already stored)."""


def save_statements(
    session: Session,
    statements: Sequence[dict[str, Any]],
    *,
    client_id: int | None,
    authority: dict[str, Any],
    attachments: Mapping[str, tuple[str, bytes]] | None = None,
    now: dt.datetime | None = None,
    attempt_ids: Mapping[str, str] | None = None,
) -> Saved:
    """Store validated statements, all or none. A statement whose id is stored already with the
    same content is skipped; with other content :class:`XapiConflict` is raised."""
    now = now or dt.datetime.now(dt.UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # as the statement says it
    stored = format_timestamp(now)
    saved = Saved()
    untimed = set()
    batch: dict[str, dict[str, Any]] = {}
    for original in statements:
        statement = dict(original)
        statement["id"] = str(statement.get("id") or _uuid4()).lower()
        if statement["id"] in batch:
            raise XapiInvalid(f"id: {statement['id']} appears twice in this request")
        if "timestamp" not in statement:
            statement["timestamp"] = stored
            untimed.add(statement["id"])
        statement["stored"] = stored
        statement["authority"] = authority
        statement.setdefault("version", "1.0.0")
        _context_arrays(statement)
        batch[statement["id"]] = statement
    ids = list(batch)
    existing = {
        row.id: row
        for start in range(0, len(ids), 500)
        for row in session.scalars(
            select(XapiStatement).where(XapiStatement.id.in_(ids[start : start + 500]))
        )
    }
    voids = {
        s["object"]["id"].lower(): s["id"] for s in batch.values() if s["verb"]["id"] == VOIDED
    }
    if voids:
        voiding_targets = session.scalars(
            select(XapiStatement.id).where(
                XapiStatement.id.in_(list(voids)), XapiStatement.voids.is_not(None)
            )
        ).all()
        in_batch = [t for t in voids if t in batch and batch[t]["verb"]["id"] == VOIDED]
        if voiding_targets or in_batch:
            raise XapiInvalid("object: a voiding statement cannot be voided")
    for ident, statement in batch.items():
        if ident in existing:
            before = json.loads(existing[ident].body)
            if ident in untimed:  # the store's own timestamp is no difference
                statement["timestamp"] = before["timestamp"]
            if not equivalent(before, statement):
                raise XapiConflict(f"statement {ident} is stored already with other content")
            saved.ids.append(ident)
            continue
        saved.ids.append(ident)
        saved.new.append(statement)
    _insert(session, saved.new, voids=set(voids.values()), now=now, client_id=client_id,
            attempt_ids=attempt_ids or {})  # fmt: skip
    if voids:
        targets = [t for t, v in voids.items() if v in {s["id"] for s in saved.new}]
        session.execute(
            update(XapiStatement)
            .where(XapiStatement.id.in_(targets), XapiStatement.voids.is_(None))
            .values(voided=True)
        )
    for sha2, (content_type, body) in (attachments or {}).items():
        if session.get(XapiAttachment, sha2) is None:
            session.add(XapiAttachment(sha2=sha2, content_type=content_type, body=body))
    session.flush()
    return saved


def _context_arrays(statement: dict[str, Any]) -> None:
    """Context activities are kept (and returned) as arrays, even when one was sent alone; an
    object without an objectType is an Activity, and says so."""
    if "objectType" not in statement["object"]:
        statement["object"] = {"objectType": "Activity", **statement["object"]}
    sub = statement["object"]
    if sub["objectType"] == "SubStatement" and "objectType" not in sub["object"]:
        statement["object"] = {**sub, "object": {"objectType": "Activity", **sub["object"]}}
    for holder in (statement, statement["object"]):
        context = holder.get("context")
        if isinstance(context, dict) and "contextActivities" in context:
            groups = context["contextActivities"]
            holder["context"] = {
                **context,
                "contextActivities": {
                    k: v if isinstance(v, list) else [v] for k, v in groups.items()
                },
            }


def _uuid4() -> str:
    import uuid

    return str(uuid.uuid4())


def _insert(
    session: Session,
    statements: Sequence[dict[str, Any]],
    *,
    voids: set[str],
    now: dt.datetime,
    client_id: int | None,
    attempt_ids: Mapping[str, str],
) -> None:
    """Insert new statements with their query terms, a few statements per batch."""
    if not statements:
        return
    rows = [
        {
            "id": s["id"],
            "body": json.dumps(s, ensure_ascii=False, separators=(",", ":")),
            "verb_hash": digest(s["verb"]["id"]),
            "registration": (s.get("context", {}).get("registration") or "").lower() or None,
            "voids": s["object"]["id"].lower() if s["id"] in voids else None,
            "ref": s["object"]["id"].lower()
            if s["object"]["objectType"] == "StatementRef"
            else None,
            "voided": False,
            "stored": now,
            "client_id": client_id,
            "attempt_id": attempt_ids.get(s["id"]),
        }
        for s in statements
    ]
    inserted = session.execute(
        insert(STATEMENTS).returning(XapiStatement.id, XapiStatement.seq), rows
    ).all()
    seq_of = {ident: seq for ident, seq in inserted}
    terms = [
        {"statement_seq": seq_of[s["id"]], "kind": kind, "term": digest(ident), "direct": direct}
        for s in statements
        for (kind, ident), direct in statement_terms(s).items()
    ]
    session.execute(insert(TERMS), terms)
    _define(session, statements)


def _define(session: Session, statements: Sequence[Mapping[str, Any]]) -> None:
    """Keep each activity's definition as the statements give it, the latest winning, language
    maps gaining each language any statement gave (see :func:`_merged`)."""
    latest: dict[str, tuple[str, dict[str, Any]]] = {}
    for statement in statements:
        for activity in activities_defined(statement):
            key = digest(activity["id"])
            before = latest.get(key, (activity["id"], {}))[1]
            latest[key] = (activity["id"], _merged(before, activity["definition"]))
    keys = sorted(latest)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        known = {
            row.key: row
            for row in session.scalars(select(XapiActivity).where(XapiActivity.key.in_(chunk)))
        }
        for key in chunk:
            iri, definition = latest[key]
            if key in known:
                merged = _merged(json.loads(known[key].definition), definition)
                known[key].definition = json.dumps(merged, ensure_ascii=False)
            else:
                text = json.dumps(definition, ensure_ascii=False)
                session.add(XapiActivity(key=key, iri=iri, definition=text))
    session.flush()


def _merged(before: Mapping[str, Any], definition: Mapping[str, Any]) -> dict[str, Any]:
    """An activity's definition with what a later statement says of it: language maps and
    extensions gain the new entries (a name in another language is kept beside the first),
    anything else is replaced."""
    merged = dict(before)
    for name, value in definition.items():
        old = merged.get(name)
        if name in ("name", "description", "extensions") and isinstance(old, dict):
            merged[name] = {**old, **value} if isinstance(value, dict) else value
        else:
            merged[name] = value
    return merged


def get_statement(
    session: Session, ident: str, *, voided: bool, client_id: int | None = None
) -> dict[str, Any]:
    """One statement by id: ``voided`` asks for a voided one (``voidedStatementId``)."""
    query = select(XapiStatement).where(XapiStatement.id == ident.lower())
    if client_id is not None:
        query = query.where(XapiStatement.client_id == client_id)
    row = session.scalar(query)
    if row is None or row.voided != voided:
        raise XapiNotFound(ident)
    return json.loads(row.body)


@dataclass(frozen=True)
class StatementQuery:
    agent: str | None = None
    """The agent's identifier (:func:`learnway.interop.agent_key`)."""
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    limit: int = 0
    ascending: bool = False
    client_id: int | None = None
    """Only this client's statements (a client that may read only its own)."""


def query_statements(
    session: Session, query: StatementQuery, *, after: int | None = None, bound: int | None = None
) -> tuple[list[dict[str, Any]], int | None, int]:
    """A page of statements (voided ones left out), the ``seq`` to continue after (``None``
    when this is the last page) and the bound that keeps later pages consistent."""
    if bound is None:
        bound = session.scalar(select(func.max(XapiStatement.seq))) or 0
    where = [XapiStatement.voided.is_(False), XapiStatement.seq <= bound]
    matches = _matching(query, XapiStatement)
    if matches:
        # a statement that targets a matching statement (a StatementRef) matches too
        target = aliased(XapiStatement)
        where.append(
            or_(
                and_(*matches),
                exists().where(target.id == XapiStatement.ref, *_matching(query, target)),
            )
        )
    if query.since is not None:
        where.append(XapiStatement.stored > query.since)
    if query.until is not None:
        where.append(XapiStatement.stored <= query.until)
    if query.client_id is not None:
        where.append(XapiStatement.client_id == query.client_id)
    if after is not None:
        where.append(XapiStatement.seq > after if query.ascending else XapiStatement.seq < after)
    limit = PAGE_LIMIT if query.limit <= 0 else min(query.limit, PAGE_LIMIT)
    order = XapiStatement.seq.asc() if query.ascending else XapiStatement.seq.desc()
    rows = session.execute(
        select(XapiStatement.seq, XapiStatement.body).where(*where).order_by(order).limit(limit + 1)
    ).all()
    more = rows[limit - 1][0] if len(rows) > limit else None
    return [json.loads(body) for _, body in rows[:limit]], more, bound


def _matching(query: StatementQuery, statement: Any) -> list[Any]:
    """The query's conditions on who, what and which registration, for ``statement`` (the
    statements table or an alias of it)."""
    conditions: list[Any] = []
    for kind, value, related in (
        ("agent", query.agent, query.related_agents),
        ("activity", query.activity, query.related_activities),
    ):
        if value is None:
            continue
        term = aliased(XapiStatementTerm)
        found = [term.statement_seq == statement.seq, term.kind == kind, term.term == digest(value)]
        if not related:
            found.append(term.direct.is_(True))
        conditions.append(exists().where(*found))
    if query.verb is not None:
        conditions.append(statement.verb_hash == digest(query.verb))
    if query.registration is not None:
        conditions.append(statement.registration == query.registration.lower())
    return conditions


def attachments_of(
    session: Session, statements: Sequence[Mapping[str, Any]]
) -> dict[str, tuple[str, bytes]]:
    """The stored content of the attachments these statements carry (not those given by URL)."""
    wanted = {
        a["sha2"]
        for s in statements
        for a in [*s.get("attachments", []), *s["object"].get("attachments", [])]
    }
    if not wanted:
        return {}
    rows = session.scalars(select(XapiAttachment).where(XapiAttachment.sha2.in_(sorted(wanted))))
    return {row.sha2: (row.content_type, row.body) for row in rows}


def activity_definition(session: Session, iri: str) -> dict[str, Any]:
    row = session.get(XapiActivity, digest(iri))
    out: dict[str, Any] = {"objectType": "Activity", "id": iri}
    if row is not None:
        out["definition"] = json.loads(row.definition)
    return out


def encode_cursor(state: Mapping[str, Any]) -> str:
    return (
        base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode())
        .decode()
        .rstrip("=")
    )


def decode_cursor(text: str) -> dict[str, Any]:
    try:
        padded = text + "=" * (-len(text) % 4)
        state = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except ValueError:
        raise XapiInvalid("more: not a cursor this store gave") from None
    if not isinstance(state, dict):
        raise XapiInvalid("more: not a cursor this store gave")
    return state


# --- documents: state, activity profile, agent profile ----------------------------------------


@dataclass(frozen=True)
class Address:
    """Where a document lives: its kind and the identifiers the resource takes."""

    kind: str
    activity: str | None = None
    agent: str | None = None
    registration: str | None = None

    def scope(self) -> str:
        return digest(json.dumps([self.kind, self.activity, self.agent, self.registration]))

    def key(self, doc_id: str) -> str:
        return digest(json.dumps([self.kind, self.activity, self.agent, self.registration, doc_id]))


def etag_of(body: bytes) -> str:
    return hashlib.sha1(body).hexdigest()


def get_document(session: Session, address: Address, doc_id: str) -> XapiDocument | None:
    return session.scalar(select(XapiDocument).where(XapiDocument.key == address.key(doc_id)))


def list_documents(session: Session, address: Address, since: dt.datetime | None) -> list[str]:
    query = select(XapiDocument.doc_id).where(XapiDocument.scope == address.scope())
    if since is not None:
        query = query.where(XapiDocument.updated > since)
    return list(session.scalars(query.order_by(XapiDocument.id)))


def write_document(
    session: Session,
    address: Address,
    doc_id: str,
    body: bytes,
    content_type: str,
    *,
    merge: bool,
    now: dt.datetime | None = None,
) -> None:
    """Store a document (PUT) or merge a JSON object into a stored JSON object (POST)."""
    now = now or dt.datetime.now(dt.UTC)
    row = get_document(session, address, doc_id)
    if merge and row is not None:
        if not (_is_json(row.content_type) and _is_json(content_type)):
            raise XapiInvalid(
                "only JSON objects can be merged (POST); send both as application/json"
            )
        try:
            old, new = json.loads(row.body), json.loads(body)
        except ValueError:
            raise XapiInvalid("the document is not valid JSON") from None
        if not isinstance(old, dict) or not isinstance(new, dict):
            raise XapiInvalid("only JSON objects can be merged (POST)")
        body = json.dumps({**old, **new}, ensure_ascii=False).encode()
    if row is None:
        row = XapiDocument(
            key=address.key(doc_id), scope=address.scope(), kind=address.kind, doc_id=doc_id
        )
        session.add(row)
    row.body, row.content_type = body, content_type
    row.etag, row.updated = etag_of(body), now
    session.flush()


def delete_documents(
    session: Session, address: Address, doc_id: str | None, since: dt.datetime | None = None
) -> None:
    """Delete one document, or (``doc_id`` None) every document of the address, only those
    stored after ``since`` when it is given."""
    if doc_id is not None:
        session.execute(delete(XapiDocument).where(XapiDocument.key == address.key(doc_id)))
        return
    query = delete(XapiDocument).where(XapiDocument.scope == address.scope())
    if since is not None:
        query = query.where(XapiDocument.updated > since)
    session.execute(query)


def _is_json(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == "application/json"


def person_of(agent: Mapping[str, Any]) -> dict[str, Any]:
    """The Person object of an agent: its name and identifier as arrays."""
    person: dict[str, Any] = {"objectType": "Person"}
    if "name" in agent:
        person["name"] = [agent["name"]]
    for name in ("mbox", "mbox_sha1sum", "openid", "account"):
        if name in agent:
            person[name] = [agent[name]]
    return person


def key_of(agent: Mapping[str, Any]) -> str:
    key = agent_key(agent)
    if key is None:
        raise XapiInvalid("agent: must be identified")
    return key
