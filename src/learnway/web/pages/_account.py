"""My account: change the password, sign out everywhere, and (staff) a one-time password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from learnway.web._deps import COOKIE, AnyUser, SessionDep, Staff
from learnway.web._schemas import MAX_PASSWORD
from learnway.web._security import PasswordRefused, set_password, verify_password
from learnway.web._totp import STAFF_ROLES, begin_totp, confirm_totp, totp_required
from learnway.web.pages._render import render

router = APIRouter()


def _page(
    request: Request,
    user: AnyUser,
    session: SessionDep,
    *,
    message: str | None = None,
    error: str | None = None,
    secret: str | None = None,
    uri: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request, "account.html", title="My account", message=message, error=error,
        staff=user.role in STAFF_ROLES, totp_on=totp_required(session, user_id=user.id),
        secret=secret, uri=uri, max_password=MAX_PASSWORD, status_code=status_code,
    )  # fmt: skip


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, user: AnyUser, session: SessionDep) -> HTMLResponse:
    return _page(request, user, session)


@router.post("/account/password")
def change_password(
    request: Request,
    user: AnyUser,
    session: SessionDep,
    current_password: Annotated[str, Form(max_length=MAX_PASSWORD)],
    new_password: Annotated[str, Form(max_length=MAX_PASSWORD)],
) -> Response:
    """A new password ends every sign-in, this one too: sign in again with it."""
    if not verify_password(user.password_hash, current_password):
        return _page(request, user, session, error="The current password is not right.",
                     status_code=422)  # fmt: skip
    try:
        set_password(session, user=user, password=new_password)
    except PasswordRefused as exc:
        return _page(request, user, session, error=str(exc), status_code=422)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.post("/account/totp", response_class=HTMLResponse)
def totp_begin(request: Request, user: Staff, session: SessionDep) -> HTMLResponse:
    secret, uri = begin_totp(session, user=user)
    added = "Add this secret to your authenticator app, then enter its code."
    return _page(request, user, session, secret=secret, uri=uri, message=added)


@router.post("/account/totp/confirm", response_class=HTMLResponse)
def totp_confirm(
    request: Request,
    user: Staff,
    session: SessionDep,
    code: Annotated[str, Form(max_length=10)],
) -> HTMLResponse:
    if not confirm_totp(session, user=user, code=code):
        return _page(request, user, session, error="That code is not right; try the next one.",
                     status_code=422)  # fmt: skip
    return _page(request, user, session, message="Signing in now asks for a one-time code.")
