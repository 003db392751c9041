"""Logging: one module for the access log and security events, structured, with no student data.

Learnway logs through the standard :mod:`logging` package under two names:

* ``learnway.access``: one line per request: method, the route's template (``/students/{id}``,
  never the filled-in path or its query, which may hold a username or an answer), status,
  duration, and the signed-in user's id and role;
* ``learnway.security``: refused sign-ins, refused LTI launches, and other denied requests
  (401, 403, 429), with the same fields.

No log line holds a name, a username, a password or an answer: the fields are ids, roles, route
templates and numbers, and an exception is logged with its type and stack but not its message
(a database error's message repeats the values it was given). :func:`configure_logging` writes
JSON lines in production and readable lines in development; ``learnway serve`` calls it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import traceback
from collections.abc import Mapping
from typing import IO, Any

__all__ = [
    "ACCESS",
    "SECURITY",
    "JsonFormatter",
    "TextFormatter",
    "configure_logging",
    "log_request",
    "security_event",
]

ACCESS = logging.getLogger("learnway.access")
SECURITY = logging.getLogger("learnway.security")

# (method, route template) of the sign-in and LTI launch routes: a refusal there is named so.
SIGN_IN_ROUTES = frozenset({("POST", "/login"), ("POST", "/api/v1/tokens")})
LTI_ROUTES = frozenset({("POST", "/lti/launch"), ("GET", "/lti/login"), ("POST", "/lti/login")})
DENIED = frozenset({401, 403, 429})
Field = str | int | float | bool | None


def _fields(record: logging.LogRecord) -> Mapping[str, Field]:
    fields = getattr(record, "fields", None)
    return fields if isinstance(fields, Mapping) else {}


def _exception(record: logging.LogRecord) -> str | None:
    """The exception's types and stack, without messages (they may repeat stored values)."""
    if not record.exc_info or record.exc_info[1] is None:
        return None
    error: BaseException | None = record.exc_info[1]
    lines: list[str] = []
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        stack = traceback.extract_tb(error.__traceback__)
        lines.extend(f'File "{f.filename}", line {f.lineno}, in {f.name}' for f in stack)
        lines.append(f"{type(error).__module__}.{type(error).__qualname__}")
        error = error.__cause__ or error.__context__
    return "\n".join(lines)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        stack = _exception(record)
        if stack:
            entry["exception"] = stack
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """A readable line: time, level, logger, message and ``key=value`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        when = dt.datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        fields = " ".join(f"{k}={v}" for k, v in _fields(record).items() if v is not None)
        line = f"{when} {record.levelname:<7} {record.name}: {record.getMessage()}"
        line = f"{line} {fields}" if fields else line
        stack = _exception(record)
        return f"{line}\n{stack}" if stack else line


def configure_logging(*, production: bool, stream: IO[str] | None = None) -> logging.Handler:
    """Send Learnway's and uvicorn's log lines to ``stream`` (standard error): JSON lines in
    production, readable lines otherwise. Returns the handler (to remove it again)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if production else TextFormatter())
    for name, level in (("learnway", logging.INFO), ("uvicorn", logging.WARNING)):
        logger = logging.getLogger(name)
        logger.handlers = [h for h in logger.handlers if not getattr(h, "_learnway", False)]
        handler._learnway = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False
    return handler


def security_event(event: str, message: str, **fields: Field) -> None:
    """Record a security event (``sign_in_refused``, ``lti_launch_refused``, ``denied``...).

    ``fields`` must hold no personal data: ids, roles, routes, statuses and reasons only."""
    SECURITY.warning(message, extra={"fields": {"event": event, **fields}})


def log_request(
    *,
    method: str,
    route: str,
    status: int,
    duration_ms: float,
    user_id: int | None = None,
    role: str | None = None,
) -> None:
    """The access log line of one request, and a security event when it was refused."""
    fields: dict[str, Field] = {
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(duration_ms, 1),
        "user_id": user_id,
        "role": role,
    }
    ACCESS.info("%s %s %d", method, route, status, extra={"fields": fields})
    if (method, route) in SIGN_IN_ROUTES and status >= 400:
        security_event("sign_in_refused", "sign-in refused", **fields)
    elif (method, route) in LTI_ROUTES and status >= 400:
        security_event("lti_launch_refused", "LTI launch refused", **fields)
    elif status in DENIED:
        security_event("denied", "request denied", **fields)
