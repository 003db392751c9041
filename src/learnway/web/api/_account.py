"""My account through the API: change the password, and (staff) a one-time password."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response

from learnway.web._deps import AnyUser, SessionDep, Staff
from learnway.web._schemas import PasswordChangeIn, Problem, TotpCodeIn, TotpOut
from learnway.web._security import PasswordRefused, set_password, verify_password
from learnway.web._totp import begin_totp, confirm_totp

router = APIRouter(tags=["sign-in"], responses={422: {"model": Problem}})


@router.put("/me/password", status_code=204, response_class=Response)
def change_password(change: PasswordChangeIn, user: AnyUser, session: SessionDep) -> Response:
    """Set a new password; every token and browser session of the account ends, this one too."""
    if not verify_password(user.password_hash, change.current_password):
        raise HTTPException(422, "The current password is not right.")
    try:
        set_password(session, user=user, password=change.new_password)
    except PasswordRefused as exc:
        raise HTTPException(422, str(exc)) from exc
    return Response(status_code=204)


@router.post("/me/totp", response_model=TotpOut, status_code=201)
def totp_begin(user: Staff, session: SessionDep) -> TotpOut:
    """A new one-time-password secret for a staff account; confirm it with a code."""
    secret, uri = begin_totp(session, user=user)
    return TotpOut(secret=secret, uri=uri)


@router.post("/me/totp/confirm", status_code=204, response_class=Response)
def totp_confirm(given: TotpCodeIn, user: Staff, session: SessionDep) -> Response:
    """Turn the new secret on: from then on, signing in needs a current code."""
    if not confirm_totp(session, user=user, code=given.code):
        raise HTTPException(422, "That code is not right; try the next one.")
    return Response(status_code=204)
