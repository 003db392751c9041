"""Bearer tokens for API clients, and who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from learnway.store import transaction
from learnway.store._schema import User
from learnway.web._context import WebContext
from learnway.web._deps import AnyUser, Public, SessionDep, SignIn, get_context
from learnway.web._learning import person
from learnway.web._schemas import MeOut, Problem, SignInIn, TokenOut
from learnway.web._security import IssuedToken, issue_token, revoke, revoke_all
from learnway.web._signin import home_of, links_of, sign_in

router = APIRouter(tags=["sign-in"])


@router.post(
    "/tokens",
    response_model=TokenOut,
    status_code=201,
    dependencies=[Public],
    responses={401: {"model": Problem}, 429: {"model": Problem}},
)
async def create_token(credentials: SignInIn, request: Request) -> TokenOut:
    """Exchange a username and password for a bearer token (30 days)."""
    context = get_context(request)
    user = await sign_in(
        request, context, credentials.username, credentials.password, credentials.code
    )
    issued = await run_in_threadpool(_issue_api_token, context, user)
    return TokenOut(token=issued.token, expires_at=issued.expires_at)


def _issue_api_token(context: WebContext, user: User) -> IssuedToken:
    with transaction(context.engine) as session:
        return issue_token(session, user=user, kind="api")


@router.delete("/tokens/current", status_code=204, response_class=Response)
def revoke_token(sign_in: SignIn, user: AnyUser, session: SessionDep) -> Response:
    """Revoke the token (or browser session) this request was made with."""
    revoke(session, row=sign_in[1])
    return Response(status_code=204)


@router.delete("/tokens", status_code=204, response_class=Response)
def revoke_every_token(user: AnyUser, session: SessionDep) -> Response:
    """Sign out everywhere: revoke every token and browser session of the signed-in person."""
    revoke_all(session, user_id=user.id)
    return Response(status_code=204)


@router.get("/me", response_model=MeOut)
def me(user: AnyUser) -> MeOut:
    """The signed-in user, their home page and the pages open to them."""
    return MeOut(user=person(user), home=home_of(user), links=links_of(user))


__all__ = ["router"]
