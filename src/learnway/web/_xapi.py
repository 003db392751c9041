"""The xAPI 1.0.3 learning record store at ``/xapi/``: a thin HTTP layer.

Its own small application, mounted on the main one, so that its rules hold everywhere under
``/xapi``: HTTP Basic or bearer credentials of a registered client (never a person's sign-in),
``X-Experience-API-Version`` required on requests and sent on every response, 400 (never 422)
for bad input, the alternate request syntax (``POST ?method=``). Validation and the statement
model live in :mod:`learnway.interop`, storage and the evidence bridge in :mod:`learnway.store`.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.message
import email.parser
import email.policy
import hashlib
import json
import logging
import re
import secrets
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from learnway.interop import xapi as model
from learnway.store import transaction
from learnway.store import xapi as lrs
from learnway.web._context import WebContext

VERSION_HEADER = "X-Experience-API-Version"
MAX_REQUEST_BYTES = 16 * 2**20  # statements with their attachments, or a document: 413 above
CONSISTENT = "X-Experience-API-Consistent-Through"
HEADER_FIELDS = {
    "authorization", "x-experience-api-version", "content-type", "content-length",
    "if-match", "if-none-match",
}  # fmt: skip
STATEMENT_PARAMS = {
    "statementId", "voidedStatementId", "agent", "verb", "activity", "registration",
    "related_activities", "related_agents", "since", "until", "limit", "format", "attachments",
    "ascending", "more",
}  # fmt: skip
logger = logging.getLogger(__name__)
READ_ALL = {"statements/read", "all/read", "all"}


class XapiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


@dataclass
class XRequest:
    """One request to the store, the same whether it came plainly or in the alternate syntax."""

    method: str
    resource: str
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes
    root: str
    client: Any = None
    scopes: set[str] = field(default_factory=set)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "application/octet-stream")


def mount_xapi(app: FastAPI, context: WebContext) -> None:
    """Mount the store on ``app`` at ``/xapi``; start the forwarding worker with the server
    when ``LEARNWAY_XAPI_FORWARD_URL`` is set."""
    store = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    store.state.web = context

    @store.middleware("http")
    async def version(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers[VERSION_HEADER] = model.VERSION
        return response

    @store.api_route("/{resource:path}", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
    async def entry(request: Request, resource: str) -> Response:
        resource = resource.strip("/")
        try:
            xreq = await _read(request, resource)
            response = await run_in_threadpool(_dispatch, context, xreq)
        except XapiError as error:
            response = _error(error)
        if resource == "statements" and CONSISTENT not in response.headers:
            # on every statement response, whatever its status (XAPI-00153)
            response.headers[CONSISTENT] = model.format_timestamp(dt.datetime.now(dt.UTC))
        return response

    app.mount("/xapi", store)
    worker = ForwardWorker(context)
    app.router.add_event_handler("startup", worker.start)
    app.router.add_event_handler("shutdown", worker.stop)


def _error(error: XapiError) -> Response:
    return JSONResponse({"error": error.message}, status_code=error.status, headers=error.headers)


async def _read(request: Request, resource: str) -> XRequest:
    params = dict(request.query_params)
    if len(params) != len(request.query_params.multi_items()):
        raise XapiError(400, "a query parameter is given twice")
    headers = {k.lower(): v for k, v in request.headers.items()}
    body = await request.body()
    if len(body) > MAX_REQUEST_BYTES:
        raise XapiError(413, f"the request is over {MAX_REQUEST_BYTES // 2**20} MiB")
    method = request.method
    if "method" in params:
        if method != "POST":
            raise XapiError(400, "the alternate request syntax is a POST with ?method=")
        method = params.pop("method").upper()
        if params:
            raise XapiError(400, "with ?method=, every other parameter goes in the form body")
        if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            raise XapiError(400, "the alternate request syntax needs a form body")
        if method not in ("GET", "PUT", "POST", "DELETE", "HEAD"):
            raise XapiError(400, f"method {method} is not supported")
        form = parse_qsl(body.decode("utf-8", errors="strict"), keep_blank_values=True)
        body, headers = b"", {k: v for k, v in headers.items() if k != "content-type"}
        for name, value in form:
            lowered = name.lower()
            if lowered in HEADER_FIELDS:
                headers.setdefault(lowered, value)  # a real header wins over a form field
            elif name == "content":
                body = value.encode()
            else:
                params[name] = value
        if body:
            headers.setdefault("content-type", "application/json")
    return XRequest(
        method, resource, params, headers, body, request.scope.get("root_path", "/xapi")
    )


def _dispatch(context: WebContext, xreq: XRequest) -> Response:
    if xreq.resource == "about":
        if xreq.method not in ("GET", "HEAD"):
            raise XapiError(405, "about is read-only")
        return _json(
            {"version": list(model.VERSIONS), "extensions": {}}, head=xreq.method == "HEAD"
        )
    handler = HANDLERS.get(xreq.resource)
    if handler is None:
        raise XapiError(404, f"no resource {xreq.resource!r}")
    if xreq.method not in METHODS[xreq.resource]:
        raise XapiError(405, f"{xreq.resource} does not take {xreq.method}")
    _check_version(xreq)
    with transaction(context.engine) as session:
        _authenticate(session, xreq)
    response = handler(context, xreq)
    if xreq.method == "HEAD":
        response.body = b""
        response.headers["content-length"] = "0"
    return response


def _check_version(xreq: XRequest) -> None:
    given = xreq.headers.get("x-experience-api-version")
    if given is None:
        raise XapiError(400, f"send the {VERSION_HEADER} header (1.0.3)")
    if not re.match(r"^1\.0(\.\d+)?$", given.strip()):
        raise XapiError(
            400, f"{VERSION_HEADER} {given!r} is not supported; this store speaks 1.0.3"
        )


def _authenticate(session: Session, xreq: XRequest) -> None:
    header = xreq.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    key = secret = ""
    if scheme.lower() == "basic":
        try:
            key, _, secret = base64.b64decode(credential.strip()).decode().partition(":")
        except ValueError:
            key = ""
    elif scheme.lower() == "bearer":
        key, _, secret = credential.strip().partition(".")
    client = lrs.authenticate(session, key, secret) if key and secret else None
    if client is None:
        raise XapiError(401, "send the credentials of a registered client (HTTP Basic or Bearer)",
                        {"WWW-Authenticate": 'Basic realm="xAPI"'})  # fmt: skip
    session.expunge(client)
    xreq.client, xreq.scopes = client, set(client.scopes)


def _need(xreq: XRequest, *scopes: str) -> None:
    if not xreq.scopes & {*scopes, "all"}:
        raise XapiError(403, f"this client may not do this (needs one of: {', '.join(scopes)})")


def _json(
    value: Any, status: int = 200, headers: dict[str, str] | None = None, *, head: bool = False
) -> Response:
    body = json.dumps(value, ensure_ascii=False).encode()
    return Response(b"" if head else body, status, headers=headers, media_type="application/json")


def _parse(text: str, where: str) -> Any:
    """JSON of statements: a key used twice in one object is refused, as xAPI requires."""
    try:
        return json.loads(text, object_pairs_hook=_no_repeated_keys)
    except ValueError as error:
        message = str(error) if isinstance(error, _RepeatedKey) else "not valid JSON"
        raise XapiError(400, f"{where}: {message}") from None


class _RepeatedKey(ValueError):
    pass


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    made = dict(pairs)
    if len(made) != len(pairs):
        twice = [key for key, count in Counter(k for k, _ in pairs).items() if count > 1]
        raise _RepeatedKey(f"the key {twice[0]!r} appears twice in one object")
    return made


def _guard(work: Callable[[], Response]) -> Response:
    try:
        return work()
    except model.XapiInvalid as error:
        raise XapiError(400, str(error)) from None
    except lrs.XapiConflict as error:
        raise XapiError(409, str(error)) from None
    except lrs.XapiNotFound as error:
        raise XapiError(404, f"no statement {error}") from None


# --- statements ------------------------------------------------------------------------------


def statements(context: WebContext, xreq: XRequest) -> Response:
    if xreq.method in ("GET", "HEAD"):
        return _guard(lambda: _get_statements(context, xreq))
    if xreq.method in ("PUT", "POST"):
        _need(xreq, "statements/write")
        return _guard(lambda: _write_statements(context, xreq))
    raise XapiError(405, "statements are never deleted; void them")


def _write_statements(context: WebContext, xreq: XRequest) -> Response:
    unknown = set(xreq.params) - {"statementId"}
    if unknown or (xreq.method == "POST" and xreq.params):
        raise XapiError(400, f"unexpected parameters {sorted(set(xreq.params))}")
    kind = xreq.content_type.split(";")[0].strip().lower()
    parts: dict[str, tuple[str, bytes]] = {}
    if kind == "multipart/mixed":
        text, parts = _multipart(xreq)
        value = _parse(text, "statements")
    elif kind == "application/json":
        value = _parse(xreq.body.decode("utf-8", errors="replace"), "statements")
    else:
        raise XapiError(400, "send statements as application/json or multipart/mixed")
    if xreq.method == "PUT":
        ident = xreq.params.get("statementId")
        if ident is None or not model.is_uuid(ident):
            raise XapiError(400, "PUT needs a statementId parameter holding a UUID")
        if not isinstance(value, dict):
            raise XapiError(400, "PUT takes one statement")
        if "id" in value and str(value["id"]).lower() != ident.lower():
            raise XapiError(400, "the statement's id differs from statementId")
        value = {**value, "id": ident.lower()}
    batch = value if isinstance(value, list) else [value]
    for statement in batch:
        model.validate_statement(statement)
    _check_attachments(batch, parts)
    settings = context.settings
    for tries_left in (2, 1, 0):
        try:
            with transaction(context.engine) as session:
                saved = lrs.save_statements(
                    session, batch, client_id=xreq.client.id,
                    authority=lrs.authority(xreq.client.name, settings.xapi_home_page),
                    attachments=parts,
                )  # fmt: skip
                lrs.ingest(
                    session, saved.new, home_page=settings.xapi_home_page,
                    course_of=lambda framework_id: context.course(session, framework_id)[0],
                )  # fmt: skip
            break
        except IntegrityError:
            # another request stored the same statement (or attachment) at the same moment:
            # try again, now as a statement the store holds
            if not tries_left:
                raise
    if xreq.method == "PUT":
        return Response(status_code=204)
    return _json(saved.ids)


def _multipart(xreq: XRequest) -> tuple[str, dict[str, tuple[str, bytes]]]:
    """The statements part and the attachments (by SHA-2) of a multipart/mixed request."""
    raw = f"Content-Type: {xreq.headers['content-type']}\r\n\r\n".encode() + xreq.body
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    if not message.is_multipart():
        raise XapiError(400, "multipart/mixed needs a boundary and parts")
    found = [part for part in message.walk() if part is not message]
    if not found or found[0].get_content_type() != "application/json":
        raise XapiError(400, "the first part must be the statements, as application/json")
    text = _payload(found[0]).decode("utf-8", errors="replace")
    parts: dict[str, tuple[str, bytes]] = {}
    for part in found[1:]:
        sha2 = part.get("X-Experience-API-Hash")
        if not sha2:
            raise XapiError(400, "every attachment part needs an X-Experience-API-Hash header")
        if (part.get("Content-Transfer-Encoding") or "").strip().lower() != "binary":
            raise XapiError(400, "every attachment part needs Content-Transfer-Encoding: binary")
        body = _payload(part)
        parts[sha2.strip()] = (part.get_content_type(), body)
    return text, parts


def _payload(part: email.message.Message) -> bytes:
    body = part.get_payload(decode=True)
    return body if isinstance(body, bytes) else b""


def _check_attachments(batch: list[dict[str, Any]], parts: dict[str, tuple[str, bytes]]) -> None:
    declared: dict[str, dict[str, Any]] = {}
    for statement in batch:
        for attachment in statement.get("attachments", []):
            declared.setdefault(attachment["sha2"], attachment)
            if attachment["usageType"] == model.SIGNATURE:
                _check_signature(statement, attachment, parts)
            elif "fileUrl" not in attachment and attachment["sha2"] not in parts:
                raise XapiError(
                    400, f"attachment {attachment['sha2']} is neither sent nor given by fileUrl"
                )
    for sha2, (_, body) in parts.items():
        if sha2 not in declared:
            raise XapiError(400, f"the part with hash {sha2} belongs to no statement's attachment")
        algorithm = {64: "sha256", 96: "sha384", 128: "sha512"}.get(len(sha2))
        if algorithm and hashlib.new(algorithm, body).hexdigest() != sha2.lower():
            raise XapiError(400, f"the part with hash {sha2} does not have that hash")


def _check_signature(
    statement: dict[str, Any], attachment: dict[str, Any], parts: dict[str, tuple[str, bytes]]
) -> None:
    """A signature attachment must be a JWS (RS256, RS384 or RS512) whose payload is the
    statement itself."""
    if attachment["contentType"] != "application/octet-stream":
        raise XapiError(
            400, "a signature attachment's contentType must be application/octet-stream"
        )
    if attachment["sha2"] not in parts:
        raise XapiError(400, "a signature attachment must be sent with the statement")
    token = parts[attachment["sha2"]][1].decode(errors="replace").strip()
    pieces = token.split(".")
    try:
        if len(pieces) != 3:
            raise ValueError("not a JWS compact serialization")
        header = json.loads(base64.urlsafe_b64decode(pieces[0] + "=" * (-len(pieces[0]) % 4)))
        payload = json.loads(base64.urlsafe_b64decode(pieces[1] + "=" * (-len(pieces[1]) % 4)))
    except ValueError as error:
        raise XapiError(400, f"the signature is not a JWS: {error}") from None
    if not isinstance(header, dict) or header.get("alg") not in ("RS256", "RS384", "RS512"):
        raise XapiError(400, "the signature's algorithm must be RS256, RS384 or RS512")
    unsigned = {k: v for k, v in statement.items() if k != "attachments"}
    if not isinstance(payload, dict) or not model.equivalent(
        {k: v for k, v in payload.items() if k != "attachments"}, unsigned
    ):
        raise XapiError(400, "the signature's payload is not this statement")


def _flag(xreq: XRequest, name: str) -> bool:
    value = xreq.params.get(name, "false")
    if value not in ("true", "false"):
        raise XapiError(400, f"{name} must be true or false")
    return value == "true"


def _get_statements(context: WebContext, xreq: XRequest) -> Response:
    _need(xreq, "statements/read", "statements/read/mine", "all/read")
    mine = None if xreq.scopes & READ_ALL else xreq.client.id
    unknown = set(xreq.params) - STATEMENT_PARAMS
    if unknown:
        raise XapiError(400, f"unknown parameters {sorted(unknown)}")
    form = xreq.params.get("format", "exact")
    if form not in ("exact", "ids", "canonical"):
        raise XapiError(400, "format must be exact, ids or canonical")
    with_attachments = _flag(xreq, "attachments")
    languages = [
        tag.split(";")[0].strip()
        for tag in xreq.headers.get("accept-language", "").split(",")
        if tag.strip()
    ]
    settings = context.settings
    lrs.sync_all(
        context.engine, home_page=settings.xapi_home_page, forward=bool(settings.xapi_forward_url)
    )
    moment = dt.datetime.now(dt.UTC)
    headers = {CONSISTENT: model.format_timestamp(moment)}
    single = {"statementId", "voidedStatementId"} & set(xreq.params)
    with transaction(context.engine) as session:
        if single:
            if len(single) > 1 or set(xreq.params) - {*single, "format", "attachments"}:
                raise XapiError(
                    400, "statementId and voidedStatementId take only format and attachments"
                )
            name = single.pop()
            ident = xreq.params[name]
            if not model.is_uuid(ident):
                raise XapiError(400, f"{name} must be a UUID")
            found = [
                lrs.get_statement(
                    session, ident, voided=name == "voidedStatementId", client_id=mine
                )
            ]
            headers["Last-Modified"] = format_datetime(
                model.parse_timestamp(found[0]["stored"]).astimezone(dt.UTC), usegmt=True
            )
            result: Any = model.formatted(found[0], form, languages)
        else:
            if "more" in xreq.params:
                if set(xreq.params) != {"more"}:
                    raise XapiError(400, "more takes no other parameters")
                cursor = lrs.decode_cursor(xreq.params["more"])
                params = cursor.get("params", {})
                after, bound = cursor.get("after"), cursor.get("bound")
            else:
                params, after, bound = dict(xreq.params), None, None
            query = _query(params, mine)
            found, more, bound = lrs.query_statements(session, query, after=after, bound=bound)
            link = ""
            if more is not None:
                state = {"params": params, "after": more, "bound": bound}
                link = f"{xreq.root}/statements?more={lrs.encode_cursor(state)}"
            form = params.get("format", form)
            with_attachments = params.get("attachments", "false") == "true"
            result = {
                "statements": [model.formatted(s, form, languages) for s in found],
                "more": link,
            }
        stored = lrs.attachments_of(session, found) if with_attachments else {}
    if with_attachments:
        return _multipart_response(result, stored, headers)
    return _json(result, headers=headers)


def _query(params: dict[str, str], mine: int | None) -> lrs.StatementQuery:
    agent = None
    if "agent" in params:
        agent = model.agent_key(model.parse_agent_parameter(params["agent"]))
    for name in ("verb", "activity"):
        if name in params and not model.is_iri(params[name]):
            raise model.XapiInvalid(f"{name}: must be an IRI")
    if "registration" in params and not model.is_uuid(params["registration"]):
        raise model.XapiInvalid("registration: must be a UUID")
    limit = params.get("limit", "0")
    if not limit.isdigit():
        raise model.XapiInvalid("limit: must be a whole number, 0 or more")
    flags = {}
    for name in ("related_activities", "related_agents", "ascending", "attachments"):
        value = params.get(name, "false")
        if value not in ("true", "false"):
            raise model.XapiInvalid(f"{name}: must be true or false")
        flags[name] = value == "true"
    if params.get("format", "exact") not in ("exact", "ids", "canonical"):
        raise model.XapiInvalid("format: must be exact, ids or canonical")
    return lrs.StatementQuery(
        agent=agent,
        verb=params.get("verb"),
        activity=params.get("activity"),
        registration=params.get("registration"),
        related_activities=flags["related_activities"],
        related_agents=flags["related_agents"],
        since=model.parse_timestamp(params["since"], "since") if "since" in params else None,
        until=model.parse_timestamp(params["until"], "until") if "until" in params else None,
        limit=int(limit),
        ascending=flags["ascending"],
        client_id=mine,
    )


def _multipart_response(
    result: Any, stored: dict[str, tuple[str, bytes]], headers: dict[str, str]
) -> Response:
    boundary = secrets.token_hex(16)
    chunks = [
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(),
        json.dumps(result, ensure_ascii=False).encode(),
    ]
    for sha2, (content_type, body) in stored.items():
        chunks.append(
            f"\r\n--{boundary}\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: binary"
            f"\r\nX-Experience-API-Hash: {sha2}\r\n\r\n".encode()
        )
        chunks.append(body)
    chunks.append(f"\r\n--{boundary}--\r\n".encode())
    return Response(
        b"".join(chunks), 200, headers=headers, media_type=f"multipart/mixed; boundary={boundary}"
    )


# --- documents: state, activity profile, agent profile ----------------------------------------


@dataclass(frozen=True)
class DocumentResource:
    kind: str
    id_param: str
    needs_activity: bool
    needs_agent: bool
    scope: str
    allowed: frozenset[str]


STATE = DocumentResource(
    "state", "stateId", True, True, "state",
    frozenset({"activityId", "agent", "registration", "stateId", "since"}),
)  # fmt: skip
ACTIVITY_PROFILE = DocumentResource(
    "activity_profile", "profileId", True, False, "profile",
    frozenset({"activityId", "profileId", "since"}),
)  # fmt: skip
AGENT_PROFILE = DocumentResource(
    "agent_profile", "profileId", False, True, "profile", frozenset({"agent", "profileId", "since"})
)


def _address(resource: DocumentResource, params: dict[str, str]) -> lrs.Address:
    unknown = set(params) - resource.allowed
    if unknown:
        raise model.XapiInvalid(f"unknown parameters {sorted(unknown)}")
    activity = agent = registration = None
    if resource.needs_activity:
        if "activityId" not in params or not model.is_iri(params["activityId"]):
            raise model.XapiInvalid("activityId: required, an IRI")
        activity = params["activityId"]
    if resource.needs_agent:
        if "agent" not in params:
            raise model.XapiInvalid("agent: required")
        agent = model.agent_key(model.parse_agent_parameter(params["agent"]))
    if "registration" in params:
        if not model.is_uuid(params["registration"]):
            raise model.XapiInvalid("registration: must be a UUID")
        registration = params["registration"].lower()
    return lrs.Address(resource.kind, activity, agent, registration)


def _documents(resource: DocumentResource) -> Callable[[WebContext, XRequest], Response]:
    def handle(context: WebContext, xreq: XRequest) -> Response:
        reading = xreq.method in ("GET", "HEAD")
        if reading:
            _need(xreq, resource.scope, "all/read")
        else:
            _need(xreq, resource.scope)
        return _guard(lambda: _document(context, xreq, resource))

    return handle


def _document(context: WebContext, xreq: XRequest, resource: DocumentResource) -> Response:
    address = _address(resource, xreq.params)
    doc_id = xreq.params.get(resource.id_param)
    with transaction(context.engine) as session:
        if xreq.method in ("GET", "HEAD"):
            if doc_id is None:
                since = xreq.params.get("since")
                moment = model.parse_timestamp(since, "since") if since else None
                return _json(lrs.list_documents(session, address, moment))
            if "since" in xreq.params:
                raise model.XapiInvalid("since: only when listing ids")
            row = lrs.get_document(session, address, doc_id)
            if row is None:
                raise XapiError(404, f"no document {doc_id!r}")
            headers = {
                "ETag": f'"{row.etag}"',
                "Last-Modified": format_datetime(row.updated, usegmt=True),
            }
            return Response(row.body, 200, headers=headers, media_type=row.content_type)
        since = xreq.params.get("since")
        moment = model.parse_timestamp(since, "since") if since else None
        if since is not None and (doc_id is not None or xreq.method != "DELETE"):
            raise model.XapiInvalid("since: only when listing or deleting every document")
        if doc_id is None and not (xreq.method == "DELETE" and resource.kind == "state"):
            raise model.XapiInvalid(f"{resource.id_param}: required")
        row = lrs.get_document(session, address, doc_id) if doc_id is not None else None
        _preconditions(xreq, resource, row)
        if xreq.method == "DELETE":
            lrs.delete_documents(session, address, doc_id, moment)
        else:
            assert doc_id is not None
            lrs.write_document(
                session, address, doc_id, xreq.body, xreq.content_type, merge=xreq.method == "POST"
            )
    return Response(status_code=204)


def _preconditions(xreq: XRequest, resource: DocumentResource, row: Any) -> None:
    """If-Match and If-None-Match (412 when they fail); a profile replaced without either
    header is a conflict (409), so that two writers cannot overwrite each other unseen."""
    match, none_match = xreq.headers.get("if-match"), xreq.headers.get("if-none-match")
    etag = None if row is None else row.etag
    if match is not None:
        tags = {t.strip().strip('"') for t in match.split(",")}
        if etag is None or not ("*" in tags or etag in tags):
            raise XapiError(412, "the document changed (If-Match)")
    if none_match is not None:
        tags = {t.strip().strip('"') for t in none_match.split(",")}
        if etag is not None and ("*" in tags or etag in tags):
            raise XapiError(412, "the document exists (If-None-Match)")
    if (
        xreq.method == "PUT" and resource.kind != "state" and row is not None
        and match is None and none_match is None
    ):  # fmt: skip
        raise XapiError(409, "the document exists: send If-Match with its ETag to replace it")


# --- activities, agents ----------------------------------------------------------------------


def activities(context: WebContext, xreq: XRequest) -> Response:
    if xreq.method not in ("GET", "HEAD"):
        raise XapiError(405, "activities are read-only")
    if set(xreq.params) != {"activityId"} or not model.is_iri(xreq.params["activityId"]):
        raise XapiError(400, "activityId: required, an IRI (and nothing else)")
    with transaction(context.engine) as session:
        return _json(lrs.activity_definition(session, xreq.params["activityId"]))


def agents(context: WebContext, xreq: XRequest) -> Response:
    if xreq.method not in ("GET", "HEAD"):
        raise XapiError(405, "agents are read-only")
    if set(xreq.params) != {"agent"}:
        raise XapiError(400, "agent: required (and nothing else)")
    try:
        agent = model.parse_agent_parameter(xreq.params["agent"])
    except model.XapiInvalid as error:
        raise XapiError(400, str(error)) from None
    return _json(lrs.person_of(agent))


DOCUMENT_METHODS = {"GET", "HEAD", "PUT", "POST", "DELETE"}
METHODS = {
    "statements": {"GET", "HEAD", "PUT", "POST"},
    "activities/state": DOCUMENT_METHODS,
    "activities/profile": DOCUMENT_METHODS,
    "agents/profile": DOCUMENT_METHODS,
    "activities": {"GET", "HEAD"},
    "agents": {"GET", "HEAD"},
}
HANDLERS: dict[str, Callable[[WebContext, XRequest], Response]] = {
    "statements": statements,
    "activities/state": _documents(STATE),
    "activities/profile": _documents(ACTIVITY_PROFILE),
    "agents/profile": _documents(AGENT_PROFILE),
    "activities": activities,
    "agents": agents,
}


# --- forwarding to the district's store ------------------------------------------------------


class ForwardWorker:
    """Writes the statements of attempts made in Learnway in the background while the server
    runs: once at start (a school's history), and, when ``LEARNWAY_XAPI_FORWARD_URL`` is set,
    every ``xapi_forward_interval_s`` seconds, forwarding them too; a failed batch waits longer
    each time (up to ``xapi_forward_max_delay_s``)."""

    def __init__(self, context: WebContext) -> None:
        self.context = context
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="xapi-forward", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        settings, engine = self.context.settings, self.context.engine
        while not self._stop.is_set():
            try:
                if settings.xapi_forward_url:
                    lrs.forward_pending(engine, settings)
                else:
                    lrs.sync_all(engine, home_page=settings.xapi_home_page, forward=False)
                    return
            except Exception:  # the worker must outlive a bad moment; the rows stay queued
                logger.exception("xAPI forwarding round failed")
            self._stop.wait(settings.xapi_forward_interval_s)
