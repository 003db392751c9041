"""LTI 1.3 endpoints (see :mod:`learnway.web._lti`): public, since the LMS and its people call
them before anyone is signed in; the signed id_token, the one-time state bound to the browser,
the nonce, and Learnway's signed tickets are the proof.

The pages an LMS shows inside its own page (the deep linking picker and its answer, a framed
launch, a dynamic registration) may be framed by the platform's origins only: each of their
responses carries its own ``frame-ancestors``; every other page keeps refusing to be framed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from learnway.store._schema import User
from learnway.web._app import SECURITY_HEADERS
from learnway.web._context import WebContext
from learnway.web._deps import ContextDep, FormDep, Public, SessionDep
from learnway.web._lti import (
    STATE_TTL,
    Launch,
    LaunchError,
    LoginRequest,
    begin_launch,
    complete_launch,
    frame_origins,
    state_cookie,
)
from learnway.web._lti_deep import PickError, choices, frameworks_of, make_ticket, place
from learnway.web._lti_keys import tool_jwks
from learnway.web._lti_register import RegistrationError, register
from learnway.web.pages._auth import signed_in
from learnway.web.pages._render import error_page, render

router = APIRouter()
FIELD_LIMIT = 4096  # longer login parameters are refused
TOKEN_LIMIT = 65536  # and longer id_tokens
CONTINUE_AGE_S = 120
# Learnway's policy less the two directives an LTI page sets itself.
BASE_CSP = "; ".join(
    d.strip()
    for d in SECURITY_HEADERS["content-security-policy"].split(";")
    if d.strip() and not d.strip().startswith(("frame-ancestors", "form-action"))
)
_ORIGIN = re.compile(
    r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$"
)


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of ``url``, or None when it has no safe origin (so that nothing
    from a registration can add a directive to the policy)."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return origin if _ORIGIN.match(origin) else None


def framing_policy(ancestors: Iterable[str], form_targets: Iterable[str] = ()) -> dict[str, str]:
    """The headers of a page the platform may frame: Learnway's policy with these origins as
    ``frame-ancestors`` (none when there are none) and ``form-action``."""
    frames = [o for o in map(origin_of, ancestors) if o] or ["'none'"]
    forms = ["'self'", *(o for o in map(origin_of, form_targets) if o)]
    policy = f"{BASE_CSP}; frame-ancestors {' '.join(frames)}; form-action {' '.join(forms)}"
    return {"content-security-policy": policy}


def _continue_signer(context: WebContext) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(context.settings.secret_key, salt="learnway-lti-continue")


def _forget_state(response: Response, state: str) -> Response:
    response.delete_cookie(state_cookie(state), path="/lti/")
    return response


@router.api_route("/lti/login", methods=["GET", "POST"], dependencies=[Public])
def lti_login(
    request: Request, session: SessionDep, context: ContextDep, form: FormDep
) -> Response:
    """The platform's third-party login initiation: redirect to its authorization endpoint,
    leaving the browser a cookie that binds the launch to it."""
    fields = dict(request.query_params)
    if request.method == "POST":
        fields.update({k: str(v) for k, v in form.items()})
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
        target, state = begin_launch(session, login, str(request.url_for("lti_launch")))
    except LaunchError as error:
        return error_page(request, 403, str(error))
    response = RedirectResponse(target, 302)
    # The launch comes back as a cross-site POST: only a SameSite=None cookie (which browsers
    # keep only when Secure) goes with it. Without HTTPS (development) it is Lax, which a
    # browser sends back only when the LMS is on the same site.
    secure = context.secure_cookies
    response.set_cookie(
        state_cookie(state), state, max_age=int(STATE_TTL.total_seconds()), path="/lti/",
        httponly=True, secure=secure, samesite="none" if secure else "lax",
    )  # fmt: skip
    return response


@router.post("/lti/launch", dependencies=[Public], name="lti_launch")
def lti_launch(
    request: Request, session: SessionDep, context: ContextDep, form: FormDep
) -> Response:
    """The platform posts the signed launch: sign the person in and open their page; for a
    deep linking request, open the picker."""
    id_token, state = str(form.get("id_token", "")), str(form.get("state", ""))
    if not id_token or not state or len(id_token) > TOKEN_LIMIT or len(state) > 64:
        return error_page(request, 422, "This is not an LTI launch: id_token and state needed.")
    try:
        launch = complete_launch(
            session, id_token=id_token, state=state,
            browser_state=request.cookies.get(state_cookie(state)),
        )  # fmt: skip
    except LaunchError as error:  # answered, not raised: the used state stays deleted
        return _forget_state(error_page(request, 403, str(error)), state)
    if launch.deep_linking is not None:
        return _forget_state(_picker(request, session, context, launch), state)
    if launch.framed:
        return _forget_state(_framed(request, context, launch), state)
    return _forget_state(signed_in(session, context, launch.user, launch.target), state)


def _picker(
    request: Request, session: SessionDep, context: WebContext, launch: Launch
) -> HTMLResponse:
    assert launch.context is not None and launch.deep_linking is not None
    offered = choices(session, frameworks_of(session, launch.user, launch.context.section_id))
    return render(
        request, "lti_pick.html", title="Place Learnway content",
        course=launch.context.title, offered=offered,
        multiple=launch.deep_linking.accept_multiple,
        ticket=make_ticket(context.settings.secret_key, launch, launch.deployment_id),
        headers=framing_policy(launch.frame_ancestors),
    )  # fmt: skip


def _framed(request: Request, context: WebContext, launch: Launch) -> HTMLResponse:
    """A launch inside the LMS's page: browsers keep Learnway's session cookie away from a
    frame, so the person opens Learnway in its own window, with a two-minute ticket."""
    ticket = _continue_signer(context).dumps({"user": launch.user.id, "target": launch.target})
    return render(
        request, "lti_framed.html", title="Learnway",
        name=f"{launch.user.given_name} {launch.user.family_name}", ticket=ticket,
        headers=framing_policy(launch.frame_ancestors),
    )  # fmt: skip


@router.post("/lti/continue", dependencies=[Public])
def lti_continue(
    request: Request, session: SessionDep, context: ContextDep, form: FormDep
) -> Response:
    """A framed launch continued in a window of its own: sign the person in there."""
    ticket = str(form.get("ticket", ""))[:TOKEN_LIMIT]
    try:
        asked = _continue_signer(context).loads(ticket, max_age=CONTINUE_AGE_S)
        user = session.get(User, int(asked["user"]))
        target = str(asked["target"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return error_page(request, 403, "This link has expired: launch again from the LMS.")
    if user is None or not user.enabled:
        return error_page(request, 403, "This person is not in Learnway's roster, or is disabled.")
    return signed_in(session, context, user, target)


@router.post("/lti/deep-link", dependencies=[Public])
def lti_deep_link(
    request: Request, session: SessionDep, context: ContextDep, form: FormDep
) -> Response:
    """The teacher's choice in the picker: the deep linking response, posted back to the LMS."""
    try:
        competencies = [int(str(v)) for v in form.getlist("competency")][:500]
        activities = [int(str(v)) for v in form.getlist("activity")][:500]
    except ValueError:
        return error_page(request, 422, "The choice names something that is not an id.")
    try:
        token, return_url, platform = place(
            session,
            secret=context.settings.secret_key,
            ticket=str(form.get("ticket", ""))[:TOKEN_LIMIT],
            competency_ids=competencies,
            activity_ids=activities,
            title=str(form.get("title", ""))[:200],
            launch_url=str(request.url_for("lti_launch")),
        )
    except PickError as error:
        return error_page(request, 422, str(error))
    ancestors = frame_origins(platform)
    return render(
        request, "lti_return.html", title="Returning to the course",
        message="Your choice is placed in the course.", return_url=return_url, jwt=token,
        headers=framing_policy(ancestors, [return_url]),
    )  # fmt: skip


@router.get("/lti/jwks", dependencies=[Public])
def lti_jwks(session: SessionDep) -> JSONResponse:
    """Learnway's public keys, which platforms use to check what Learnway signs."""
    return JSONResponse(tool_jwks(session))


@router.get("/lti/register", dependencies=[Public])
def lti_register(request: Request, session: SessionDep) -> Response:
    """LTI Dynamic Registration, opened by the LMS with the one-time code's URL."""
    params = request.query_params
    code, config = params.get("code", ""), params.get("openid_configuration", "")
    if not code or not config or max(len(v) for v in params.values()) > FIELD_LIMIT:
        return error_page(request, 422, "This is not a registration: code and "
                          "openid_configuration needed.")  # fmt: skip
    base = str(request.base_url).rstrip("/")
    try:
        platform = register(
            session, code=code, openid_configuration=config,
            registration_token=params.get("registration_token"), base_url=base,
        )  # fmt: skip
    except RegistrationError as error:
        return error_page(request, 403, str(error))
    known = session.scalar(select(User.id).limit(1)) is not None
    message = f"Learnway is registered with {platform.issuer} (client {platform.client_id})."
    if not known:
        message += " Import the roster before the first launch."
    return render(
        request, "lti_registered.html", title="Registered",
        message=message, headers=framing_policy(frame_origins(platform)),
    )  # fmt: skip
