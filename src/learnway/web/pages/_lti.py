"""LTI 1.3 launch endpoints (see :mod:`learnway.web._lti`): public, since the LMS calls them
before anyone is signed in; the signed id_token, the one-time state and the nonce are the
proof."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from learnway.web._deps import ContextDep, Public, SessionDep
from learnway.web._lti import LaunchError, LoginRequest, begin_launch, complete_launch
from learnway.web._signin import home_of
from learnway.web.pages._auth import signed_in
from learnway.web.pages._render import error_page

router = APIRouter()
FIELD_LIMIT = 4096  # longer login parameters are refused
TOKEN_LIMIT = 65536  # and longer id_tokens


@router.api_route("/lti/login", methods=["GET", "POST"], dependencies=[Public])
async def lti_login(request: Request, session: SessionDep) -> Response:
    """The platform's third-party login initiation: redirect to its authorization endpoint."""
    fields = dict(request.query_params)
    if request.method == "POST":
        fields.update({k: str(v) for k, v in (await request.form()).items()})
    names = ("iss", "login_hint", "target_link_uri")
    missing = [n for n in names if not fields.get(n)]
    if missing or any(len(v) > FIELD_LIMIT for v in fields.values()):
        what = f"missing {', '.join(missing)}" if missing else "a parameter is too long"
        return error_page(request, 422, f"This is not an LTI login initiation: {what}.")
    login = LoginRequest(
        iss=fields["iss"],
        login_hint=fields["login_hint"],
        target_link_uri=fields["target_link_uri"],
        lti_message_hint=fields.get("lti_message_hint"),
        client_id=fields.get("client_id"),
        lti_deployment_id=fields.get("lti_deployment_id"),
    )
    try:
        target = begin_launch(session, login, str(request.url_for("lti_launch")))
    except LaunchError as error:
        return error_page(request, 403, str(error))
    return RedirectResponse(target, 302)


@router.post("/lti/launch", dependencies=[Public], name="lti_launch")
async def lti_launch(request: Request, session: SessionDep, context: ContextDep) -> Response:
    """The platform posts the signed launch: sign the person in and open their home page."""
    form = await request.form()
    id_token, state = str(form.get("id_token", "")), str(form.get("state", ""))
    if not id_token or not state or len(id_token) > TOKEN_LIMIT or len(state) > 64:
        return error_page(request, 422, "This is not an LTI launch: id_token and state needed.")
    try:
        user = complete_launch(session, id_token=id_token, state=state)
    except LaunchError as error:  # answered, not raised: the used state stays deleted
        return error_page(request, 403, str(error))
    return signed_in(session, context, user, home_of(user))
