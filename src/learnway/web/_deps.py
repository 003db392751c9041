"""Request dependencies: the database session, the signed-in user, role gates, CSRF.

Every route names who may call it with a role gate (``Roles``) or declares itself public
(``Public``); the authorization test walks the route table and fails on a route with neither.
Role gates only say *which kind* of user may call a route; *which data* they reach is decided in
the data access (:mod:`learnway.web._access`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from typing import Annotated

from anyio import CapacityLimiter, to_thread
from anyio.lowlevel import RunVar
from fastapi import Depends, HTTPException, Path, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from learnway.store import make_session
from learnway.store._schema import ROLES, User
from learnway.web._context import WebContext
from learnway.web._models import AuthToken
from learnway.web._security import csrf_matches, lookup_token

COOKIE = "learnway_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Viewer:
    """Who is looking, as the page templates need it (detached from any database session)."""

    id: int
    given_name: str
    family_name: str
    role: str


class NotSignedIn(Exception):
    """No valid sign-in: the API answers 401, pages send the browser to the sign-in form."""


def get_context(request: Request) -> WebContext:
    context: WebContext = request.app.state.web
    return context


async def _context(request: Request) -> WebContext:  # no worker thread for it
    return get_context(request)


ContextDep = Annotated[WebContext, Depends(_context)]


_ENDS: RunVar[CapacityLimiter] = RunVar("learnway_session_ends")
SESSION_ENDS = 40
"""Worker threads for ending requests' transactions, apart from the routes' own: a commit
that would release SQLite's write lock never waits for a thread behind routes that wait for
that lock."""


def _ends() -> CapacityLimiter:
    try:
        return _ENDS.get()
    except LookupError:
        limiter = CapacityLimiter(SESSION_ENDS)
        _ENDS.set(limiter)
        return limiter


async def _session(context: ContextDep) -> AsyncIterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error.
    The session is opened on the event loop (it touches the database only when used) and
    ended in a worker thread of its own (:data:`SESSION_ENDS`)."""
    session = make_session(context.engine)
    try:
        yield session
    except BaseException:
        await to_thread.run_sync(partial(_end, session, commit=False), limiter=_ends())
        raise
    await to_thread.run_sync(partial(_end, session, commit=True), limiter=_ends())


def _end(session: Session, *, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(_session, scope="function")]


async def submitted_form(request: Request) -> FormData:
    """The request's form fields (none for a GET), read before the route runs.

    Routes that touch the database or check answers are plain ``def`` functions, run in the
    thread pool; only this small read of the body happens on the event loop."""
    return await request.form()


FormDep = Annotated[FormData, Depends(submitted_form)]


async def submitted_csrf(request: Request) -> str | None:
    """The CSRF token sent with an unsafe request: the header (htmx) or the form field."""
    if request.method in SAFE_METHODS:
        return None
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def _signed_in(
    request: Request,
    context: ContextDep,
    session: SessionDep,
    csrf: Annotated[str | None, Depends(submitted_csrf)],
) -> tuple[User, AuthToken]:
    return signed_in(request, context, session, csrf)


def signed_in(
    request: Request, context: WebContext, session: Session, csrf: str | None
) -> tuple[User, AuthToken]:
    """The user a request signs in as (bearer token or session cookie, with its CSRF token
    for an unsafe request), and their token; else :class:`NotSignedIn` (or 401, 403)."""
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        found = lookup_token(session, token=authorization[7:].strip(), kind="api")
        if found is None:
            raise HTTPException(
                401, "The bearer token is unknown, expired or revoked.",
                headers={"WWW-Authenticate": "Bearer"},
            )  # fmt: skip
        user = found[0]
        request.state.viewer = Viewer(user.id, user.given_name, user.family_name, user.role)
        return found
    cookie = request.cookies.get(COOKIE)
    token = context.signer.loads(cookie) if cookie else None
    found = lookup_token(session, token=token, kind="session") if token else None
    if found is None:
        raise NotSignedIn()
    user, row = found
    if request.method not in SAFE_METHODS and not csrf_matches(row.csrf, csrf):
        raise HTTPException(403, "The form is missing its security token or it has expired; "
                            "reload the page and try again.")  # fmt: skip
    request.state.csrf = row.csrf
    request.state.viewer = Viewer(user.id, user.given_name, user.family_name, user.role)
    return found


SignIn = Annotated[tuple[User, AuthToken], Depends(_signed_in)]


async def _current_user(sign_in: SignIn) -> User:
    return sign_in[0]


CurrentUser = Annotated[User, Depends(_current_user)]

ROLE_LABELS = {
    "student": "students",
    "teacher": "teachers",
    "school_admin": "school administrators",
    "district_admin": "district administrators",
    "guardian": "guardians",
}


class Roles:
    """A role gate: only users with one of ``roles`` may call the route (else 403)."""

    def __init__(self, *roles: str) -> None:
        unknown = set(roles) - set(ROLES)
        if unknown or not roles:
            raise ValueError(f"unknown roles {sorted(unknown)}")
        self.roles = frozenset(roles)

    async def __call__(self, user: CurrentUser) -> User:  # no worker thread for it
        return self.check(user)

    def check(self, user: User) -> User:
        if user.role not in self.roles:
            allowed = ", ".join(ROLE_LABELS[r] for r in ROLES if r in self.roles)
            raise HTTPException(403, f"This is open to {allowed} only.")
        return user

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(sorted(self.roles))})"


@dataclass(frozen=True)
class Credentials:
    """What a request signs in with, taken on the event loop; :meth:`user` checks it."""

    request: Request
    csrf: str | None
    gate: Roles

    def user(self, session: Session, context: WebContext) -> User:
        """The signed-in user, if their role passes the gate (as :class:`Roles` would)."""
        return self.gate.check(signed_in(self.request, context, session, self.csrf)[0])


class RolesInRoute(Roles):
    """A role gate whose sign-in is checked by the route itself, in the worker thread that does
    the rest of its work (:class:`Credentials`): one thread for the whole request instead of
    one for the sign-in and another for the route, each a handover between the event loop and
    a worker that costs more than the sign-in's own read (for the busiest route, an answer)."""

    async def __call__(  # type: ignore[override]  # no worker thread for it
        self, request: Request, csrf: Annotated[str | None, Depends(submitted_csrf)]
    ) -> Credentials:
        return Credentials(request, csrf, self)


class _Public:
    """Marks a route anyone may call, signed in or not (sign-in form, static files, schema)."""

    async def __call__(self) -> None:  # nothing to do: no worker thread for it
        return None


public = _Public()
Public = Depends(public)

EVERYONE = Roles(*ROLES)
WRITERS = Roles("student", "teacher", "school_admin", "district_admin")
STAFF = Roles("teacher", "school_admin", "district_admin")
LEADERS = Roles("school_admin", "district_admin")
TEACHERS = Roles("teacher")
STUDENTS = Roles("student")
STUDENT_OR_TEACHER = Roles("student", "teacher")

AnyUser = Annotated[User, Depends(EVERYONE)]
Staff = Annotated[User, Depends(STAFF)]
Leader = Annotated[User, Depends(LEADERS)]
Teacher = Annotated[User, Depends(TEACHERS)]
Student = Annotated[User, Depends(STUDENTS)]
StudentInRoute = Annotated[Credentials, Depends(RolesInRoute("student"))]
StudentOrTeacher = Annotated[User, Depends(STUDENT_OR_TEACHER)]

MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID, description="a database id")]
"""A path id: refused with 422 when out of range (the database's integers are 32-bit)."""
