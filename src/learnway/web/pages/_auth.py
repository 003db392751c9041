"""Sign-in and sign-out pages, and the home page that sends each role where it belongs."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from learnway.store import transaction
from learnway.store._schema import User
from learnway.web._context import WebContext
from learnway.web._deps import (
    COOKIE,
    AnyUser,
    ContextDep,
    Public,
    SessionDep,
    SignIn,
    get_context,
)
from learnway.web._schemas import MAX_NAME, MAX_PASSWORD, SignInIn
from learnway.web._security import (
    SESSION_HOURS,
    csrf_matches,
    issue_token,
    lookup_token,
    revoke,
    revoke_all,
)
from learnway.web._signin import home_of, remember_device, sign_in
from learnway.web.pages._render import parse, render

router = APIRouter()


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@router.get("/", dependencies=[Public])
def home(request: Request, session: SessionDep, context: ContextDep) -> Response:
    cookie = request.cookies.get(COOKIE)
    token = context.signer.loads(cookie) if cookie else None
    found = lookup_token(session, token=token, kind="session") if token else None
    return RedirectResponse(home_of(found[0]) if found else "/login", 303)


LOGIN_CSRF = "learnway_login_csrf"


def _login_page(
    request: Request,
    *,
    next: str | None,
    error: str | None,
    status_code: int = 200,
    username: str = "",
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """The sign-in form, with a fresh double-submit CSRF token in a cookie and the form."""
    token = secrets.token_urlsafe(24)
    request.state.csrf = token
    response = render(
        request,
        "login.html",
        title="Sign in",
        next=_safe_next(next),
        error=error,
        username=username,
        status_code=status_code,
        headers=headers,
    )
    response.set_cookie(
        LOGIN_CSRF, token, max_age=3600, httponly=True, samesite="strict", path="/login"
    )
    return response  # fmt: skip


@router.get("/login", response_class=HTMLResponse, dependencies=[Public])
def login_form(
    request: Request,
    next: Annotated[str | None, Query(max_length=500)] = None,
    username: Annotated[str, Query(max_length=MAX_NAME)] = "",
) -> HTMLResponse:
    return _login_page(request, next=next, error=None, username=username)


@router.post("/login", dependencies=[Public])
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=MAX_NAME)],
    password: Annotated[str, Form(max_length=MAX_PASSWORD)],
    code: Annotated[str, Form(max_length=10)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    context = get_context(request)
    if not csrf_matches(request.cookies.get(LOGIN_CSRF, ""), csrf_token or None):
        return _login_page(
            request, next=next, error="The form had expired; please sign in again.",
            status_code=403, username=username,
        )  # fmt: skip
    try:
        given = parse(
            SignInIn, {"username": username.strip(), "password": password, "code": code or None}
        )
        user = await sign_in(request, context, given.username, given.password, given.code)
    except HTTPException as exc:
        return _login_page(
            request, next=next, error=str(exc.detail), username=username,
            status_code=exc.status_code, headers=exc.headers,
        )  # fmt: skip
    response = await run_in_threadpool(_signed_in_now, context, user, _safe_next(next))
    response.delete_cookie(LOGIN_CSRF, path="/login")
    remember_device(request, response, context, user)
    return response


def _signed_in_now(context: WebContext, user: User, target: str | None) -> Response:
    with transaction(context.engine) as session:
        return signed_in(session, context, user, target or home_of(user))


def signed_in(session: Session, context: WebContext, user: User, target: str) -> Response:
    """A redirect to ``target`` that carries a new browser session for ``user``."""
    issued = issue_token(session, user=user, kind="session")
    response = RedirectResponse(target, 303)
    response.set_cookie(
        COOKIE,
        context.signer.dumps(issued.token),
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=context.secure_cookies,
        path="/",
    )
    return response


@router.post("/logout")
def logout(sign_in: SignIn, user: AnyUser, session: SessionDep) -> Response:
    revoke(session, row=sign_in[1])
    response = RedirectResponse("/login", 303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.post("/logout/everywhere")
def logout_everywhere(user: AnyUser, session: SessionDep) -> Response:
    """End every sign-in of this person: every browser and every API token."""
    revoke_all(session, user_id=user.id)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(COOKIE, path="/")
    return response
