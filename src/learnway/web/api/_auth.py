"""Bearer tokens for API clients, and who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from learnway.web._deps import AnyUser, ContextDep, Public, SessionDep, SignIn
from learnway.web._learning import person
from learnway.web._schemas import MeOut, Problem, SignInIn, TokenOut
from learnway.web._security import issue_token, revoke
from learnway.web._signin import check_password, home_of, links_of

router = APIRouter(tags=["sign-in"])


@router.post(
    "/tokens",
    response_model=TokenOut,
    status_code=201,
    dependencies=[Public],
    responses={401: {"model": Problem}, 429: {"model": Problem}},
)
def create_token(
    credentials: SignInIn, request: Request, session: SessionDep, context: ContextDep
) -> TokenOut:
    """Exchange a username and password for a bearer token (30 days)."""
    user = check_password(request, session, context, credentials.username, credentials.password)
    issued = issue_token(session, user=user, kind="api")
    return TokenOut(token=issued.token, expires_at=issued.expires_at)


@router.delete("/tokens/current", status_code=204, response_class=Response)
def revoke_token(sign_in: SignIn, user: AnyUser, session: SessionDep) -> Response:
    """Revoke the token (or browser session) this request was made with."""
    revoke(session, row=sign_in[1])
    return Response(status_code=204)


@router.get("/me", response_model=MeOut)
def me(user: AnyUser) -> MeOut:
    """The signed-in user, their home page and the pages open to them."""
    return MeOut(user=person(user), home=home_of(user), links=links_of(user))


__all__ = ["router"]
