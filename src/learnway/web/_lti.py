"""LTI 1.3 launches: an LMS opens Learnway for one of its people, signed in.

The flow is OpenID Connect's third-party-initiated login, as LTI 1.3 (IMS Security Framework)
defines it:

1. The platform calls ``/lti/login`` with its issuer, a login hint and the launch URL.
   :func:`begin_launch` finds the registered platform, checks that ``target_link_uri`` is one of
   Learnway's own addresses, stores a one-time ``state`` and ``nonce`` and returns the
   platform's authorization URL to redirect to. The route also gives the browser a cookie
   holding the state (:func:`state_cookie`), so the launch can only be completed by the
   browser that began it.
2. The platform posts an ``id_token`` (a JWT it signed) and the ``state`` to ``/lti/launch``.
   :func:`complete_launch` consumes the state (once, within ten minutes), checks the browser's
   cookie, the token's signature against the platform's keys (RS256; from a file, or from its
   JWKS URL: :mod:`learnway.web._lti_keys`), its issuer, audience, expiry and nonce, the
   deployment, the message type (a resource link launch or a deep linking request) and the
   LTI version, and finds the person.

People are matched on the launch's ``lis.person_sourcedid`` claim, the student information
system's id, which is the sourcedId Learnway's roster holds (OneRoster), or else on the
platform's user id when a roster sync (:mod:`learnway.web._lti_services`) has linked it. A
launch never creates anyone: who may see what still comes from the roster. The launch's LTI
roles choose where the person lands (an instructor on the teacher's view of the course's
section), never what they may see.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from learnway.store._schema import Section, User
from learnway.web._lti_keys import ServiceError, platform_key
from learnway.web._lti_models import LtiAccount, LtiContext, LtiLink
from learnway.web._models import LtiLaunchState, LtiPlatform

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
RESOURCE_LINK = "LtiResourceLinkRequest"
DEEP_LINKING = "LtiDeepLinkingRequest"
STATE_TTL = dt.timedelta(minutes=10)
LEEWAY_S = 60  # clock skew allowed between the platform and Learnway
LINK_PARAMETER = "learnway_link"  # the custom parameter naming a deep-linked placement

# LTI context roles (LIS vocabulary, the part after '#') and what they make a person in the
# launch's course. The core roles and the sub-roles of Instructor and Administrator count as
# teaching; Learner as learning; the rest (Mentor, Member, Manager, Officer) as neither.
TEACHING = frozenset({"Instructor", "TeachingAssistant", "ContentDeveloper", "Administrator"})
LEARNING = frozenset({"Learner"})


class LaunchError(Exception):
    """A launch refused, with the reason shown to the person (never a server error)."""


@dataclass(frozen=True)
class LoginRequest:
    """The parameters of the platform's login initiation."""

    iss: str
    login_hint: str
    target_link_uri: str
    lti_message_hint: str | None = None
    client_id: str | None = None
    lti_deployment_id: str | None = None


@dataclass(frozen=True)
class DeepLinking:
    """What a deep linking request allows the answer to hold (LTI Deep Linking 2.0)."""

    return_url: str
    accept_multiple: bool
    accept_lineitem: bool
    data: str | None


@dataclass(frozen=True)
class Launch:
    """A valid launch: who, from which platform and course, and where they go."""

    user: User
    platform: LtiPlatform
    context: LtiContext | None
    role: str | None
    """``teacher`` or ``student`` in the launch's course, from its LTI roles (or None)."""
    target: str
    """The page to open: from ``target_link_uri`` or the role's view of the course."""
    deployment_id: str = ""
    deep_linking: DeepLinking | None = None
    framed: bool = False
    frame_ancestors: list[str] = field(default_factory=list)


def state_cookie(state: str) -> str:
    """The name of the cookie that binds a launch's ``state`` to the browser that began it
    (one per launch, so that several launches can be in flight in one browser)."""
    return "learnway_lti_" + hashlib.sha256(state.encode()).hexdigest()[:16]


def own_target(target_link_uri: str, origin: str) -> str:
    """The path and query of ``target_link_uri`` when it is on Learnway's own ``origin``."""
    target, own = urlsplit(target_link_uri), urlsplit(origin)
    if (target.scheme, target.netloc) != (own.scheme, own.netloc) or not target.path:
        raise LaunchError(
            f"The launch's target {target_link_uri!r} is not an address of this Learnway "
            f"({own.scheme}://{own.netloc})."
        )
    path = target.path if target.path.startswith("/") else "/" + target.path
    if path.startswith("//") or "\\" in path:  # a browser reads /\host as //host
        raise LaunchError(f"The launch's target {target_link_uri!r} is not a Learnway page.")
    return path + (f"?{target.query}" if target.query else "")


def frame_origins(platform: LtiPlatform) -> list[str]:
    """The origins allowed to frame Learnway's LTI pages for this platform: the registration's
    list, or else the origins of its issuer and authorization endpoint."""
    if platform.frame_ancestors:
        return list(platform.frame_ancestors)
    found: list[str] = []
    for url in (platform.issuer, platform.auth_login_url):
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if parts.scheme in ("http", "https") and parts.netloc and origin not in found:
            found.append(origin)
    return found


def begin_launch(session: Session, login: LoginRequest, launch_url: str) -> tuple[str, str]:
    """Store a fresh state and nonce; the platform's authorization URL with them, and the state
    (for the browser's cookie)."""
    query = select(LtiPlatform).where(LtiPlatform.issuer == login.iss)
    if login.client_id:
        query = query.where(LtiPlatform.client_id == login.client_id)
    platforms = session.scalars(query).all()
    if len(platforms) != 1:
        found = "is not registered" if not platforms else "has several clients: send client_id"
        raise LaunchError(f"The platform {login.iss} {found}.")
    platform = platforms[0]
    if login.lti_deployment_id and login.lti_deployment_id not in platform.deployment_ids:
        raise LaunchError(f"Deployment {login.lti_deployment_id} is not registered.")
    own_target(login.target_link_uri, launch_url)
    now = dt.datetime.now(dt.UTC)
    session.execute(delete(LtiLaunchState).where(LtiLaunchState.created_at < now - STATE_TTL))
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        LtiLaunchState(
            state=state, nonce=nonce, platform_id=platform.id, created_at=now,
            target_link_uri=login.target_link_uri,
        )
    )  # fmt: skip
    params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": launch_url,
        "login_hint": login.login_hint,
        "state": state,
        "nonce": nonce,
    }
    if login.lti_message_hint:
        params["lti_message_hint"] = login.lti_message_hint
    separator = "&" if "?" in platform.auth_login_url else "?"
    return f"{platform.auth_login_url}{separator}{urlencode(params)}", state


def complete_launch(
    session: Session, *, id_token: str, state: str, browser_state: str | None
) -> Launch:
    """The valid launch ``id_token`` makes; :class:`LaunchError` says why not.

    ``browser_state`` is the value of the browser's :func:`state_cookie`: a launch completed
    in another browser than the one that began the login is refused."""
    stored = session.get(LtiLaunchState, state)
    if stored is None:
        raise LaunchError("This launch is unknown or was already used: launch again from the LMS.")
    session.delete(stored)  # one use only, valid or not
    session.flush()
    if browser_state is None or not hmac.compare_digest(browser_state.encode(), state.encode()):
        raise LaunchError(
            "This launch was not begun in this browser (its login cookie is missing): "
            "launch again from the LMS."
        )
    if stored.created_at < dt.datetime.now(dt.UTC) - STATE_TTL:
        raise LaunchError("This launch took too long: launch again from the LMS.")
    platform = session.get(LtiPlatform, stored.platform_id)
    assert platform is not None  # the state row cascades with its platform
    claims = _verified_claims(platform, id_token)
    if claims.get("nonce") != stored.nonce:
        raise LaunchError("The launch does not answer this login (nonce).")
    if claims.get(CLAIM + "deployment_id") not in platform.deployment_ids:
        raise LaunchError("The launch comes from a deployment that is not registered.")
    kind = claims.get(CLAIM + "message_type")
    if kind not in (RESOURCE_LINK, DEEP_LINKING):
        raise LaunchError("Only resource link launches and deep linking requests are supported.")
    if claims.get(CLAIM + "version") != "1.3.0":
        raise LaunchError("Only LTI 1.3.0 launches are supported.")
    settings = _deep_linking(claims) if kind == DEEP_LINKING else None
    if kind == RESOURCE_LINK and not isinstance(claims.get(CLAIM + "resource_link"), dict):
        raise LaunchError("The resource link launch names no resource_link.")
    claimed = claims.get(CLAIM + "target_link_uri")
    if claimed is not None and claimed != stored.target_link_uri:
        raise LaunchError("The launch's target_link_uri is not the one of its login.")
    user = _person(session, platform, claims)
    role = context_role(claims.get(CLAIM + "roles"))
    context = _context(session, platform, claims)
    if settings is not None and not (role == "teacher" and user.role == "teacher"):
        raise LaunchError("Only a course's instructors may place Learnway content in it.")
    if settings is not None and context is None:
        raise LaunchError("The deep linking request names no course (context).")
    if kind == RESOURCE_LINK and context is not None:
        _remember_link(session, context, claims)
    asked = urlsplit(stored.target_link_uri or "")  # checked against Learnway's own origin
    target = asked.path + (f"?{asked.query}" if asked.query else "")
    if target.rstrip("/") in ("", "/lti/launch", "/lti/login"):
        target = _landing(session, user, role, context)
    presentation = claims.get(CLAIM + "launch_presentation")
    framed = isinstance(presentation, dict) and presentation.get("document_target") in (
        "iframe",
        "frame",
        "embed",
    )
    return Launch(
        user=user,
        platform=platform,
        context=context,
        role=role,
        target=target,
        deployment_id=str(claims[CLAIM + "deployment_id"]),
        deep_linking=settings,
        framed=framed,
        frame_ancestors=frame_origins(platform),
    )


def context_role(roles: Any) -> str | None:
    """``teacher``, ``student`` or None from an LTI roles claim (full URIs or short names)."""
    names = {str(r).rsplit("#", 1)[-1].rsplit("/", 1)[-1] for r in roles or () if r}
    if names & TEACHING:
        return "teacher"
    if names & LEARNING:
        return "student"
    return None


def _deep_linking(claims: dict[str, Any]) -> DeepLinking:
    settings = claims.get(DL_CLAIM + "deep_linking_settings")
    if not isinstance(settings, dict) or not isinstance(settings.get("deep_link_return_url"), str):
        raise LaunchError(
            "The deep linking request has no deep_linking_settings: only resource link "
            "launches and complete deep linking requests are supported."
        )
    if urlsplit(settings["deep_link_return_url"]).scheme not in ("https", "http"):
        raise LaunchError("The deep linking request's return URL is not a web address.")
    if "ltiResourceLink" not in (settings.get("accept_types") or []):
        raise LaunchError("The platform does not accept LTI resource links in this place.")
    data = settings.get("data")
    return DeepLinking(
        return_url=settings["deep_link_return_url"],
        accept_multiple=settings.get("accept_multiple", True) is not False,
        accept_lineitem=settings.get("accept_lineitem", True) is not False,
        data=data if isinstance(data, str) else None,
    )


def _person(session: Session, platform: LtiPlatform, claims: dict[str, Any]) -> User:
    lis = claims.get(CLAIM + "lis") or {}
    sourced_id = lis.get("person_sourcedid") if isinstance(lis, dict) else None
    sub = str(claims["sub"])
    user: User | None
    if sourced_id:
        user = session.scalar(select(User).where(User.sourced_id == str(sourced_id)))
    else:
        user = session.scalar(
            select(User)
            .join(LtiAccount, LtiAccount.user_id == User.id)
            .where(LtiAccount.platform_id == platform.id, LtiAccount.sub == sub)
        )
        if user is None:
            raise LaunchError(
                "The launch names no person_sourcedid, and no roster sync has linked this "
                "LMS user: the LMS must send it."
            )
    if user is None or not user.enabled:
        raise LaunchError("This person is not in Learnway's roster, or is disabled.")
    link_account(session, platform_id=platform.id, sub=sub, user_id=user.id)
    return user


def link_account(session: Session, *, platform_id: int, sub: str, user_id: int) -> None:
    """Remember that the platform calls ``user_id`` by ``sub`` (grades are posted under it)."""
    account = session.scalar(
        select(LtiAccount).where(LtiAccount.platform_id == platform_id, LtiAccount.sub == sub)
    )
    if account is None:
        session.add(LtiAccount(platform_id=platform_id, sub=sub, user_id=user_id))
    else:
        account.user_id = user_id
    session.flush()


def _context(session: Session, platform: LtiPlatform, claims: dict[str, Any]) -> LtiContext | None:
    """The launch's course, created or updated with the service URLs the launch announces."""
    claim = claims.get(CLAIM + "context")
    if not isinstance(claim, dict) or not claim.get("id"):
        return None
    context_id = str(claim["id"])[:255]
    row = session.scalar(
        select(LtiContext).where(
            LtiContext.platform_id == platform.id, LtiContext.context_id == context_id
        )
    )
    if row is None:
        row = LtiContext(platform_id=platform.id, context_id=context_id)
        session.add(row)
    row.title = str(claim.get("title") or claim.get("label") or row.title or context_id)[:255]
    lis = claims.get(CLAIM + "lis") or {}
    section = lis.get("course_section_sourcedid") if isinstance(lis, dict) else None
    if section:
        found = session.scalar(select(Section.id).where(Section.sourced_id == str(section)))
        row.section_id = found if found is not None else row.section_id
    nrps = claims.get(NRPS_CLAIM)
    if isinstance(nrps, dict) and isinstance(nrps.get("context_memberships_url"), str):
        row.memberships_url = nrps["context_memberships_url"]
    ags = claims.get(AGS_CLAIM)
    if isinstance(ags, dict) and isinstance(ags.get("lineitems"), str):
        row.lineitems_url = ags["lineitems"]
    session.flush()
    return row


def _remember_link(session: Session, context: LtiContext, claims: dict[str, Any]) -> None:
    """A launch of a deep-linked placement: note its resource link and line item."""
    custom = claims.get(CLAIM + "custom")
    key = custom.get(LINK_PARAMETER) if isinstance(custom, dict) else None
    if not key:
        return
    link = session.scalar(
        select(LtiLink).where(LtiLink.key == str(key), LtiLink.context_id == context.id)
    )
    if link is None:
        return
    link.resource_link_id = str(claims[CLAIM + "resource_link"].get("id", ""))[:255] or None
    ags = claims.get(AGS_CLAIM)
    if isinstance(ags, dict) and isinstance(ags.get("lineitem"), str):
        link.lineitem_url = ags["lineitem"]


def _landing(session: Session, user: User, role: str | None, context: LtiContext | None) -> str:
    """Where a launch to Learnway's launch URL itself lands: an instructor who teaches in
    Learnway on the course's section, everyone else on their home page."""
    from learnway.web._signin import home_of

    if role == "teacher" and user.role == "teacher" and context and context.section_id:
        return f"/sections/{context.section_id}/heatmap"
    return home_of(user)


def _verified_claims(platform: LtiPlatform, id_token: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(id_token)
        kid = header.get("kid")
        try:
            key = platform_key(platform, kid if isinstance(kid, str) else None)
        except (ServiceError, ValueError) as error:
            raise LaunchError(f"The platform's keys could not be read: {error}") from None
        if key is None:
            raise LaunchError("The launch is signed with a key the platform did not register.")
        claims: dict[str, Any] = jwt.decode(
            id_token,
            key=key.key,
            algorithms=["RS256"],
            audience=platform.client_id,
            issuer=platform.issuer,
            leeway=LEEWAY_S,
            options={"require": ["exp", "iat", "sub", "nonce"]},
        )
    except jwt.PyJWTError as error:
        raise LaunchError(f"The launch's token is not valid: {error}.") from None
    audience = claims.get("aud")
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != platform.client_id:
        raise LaunchError("The launch's token is for several audiences and not for Learnway.")
    return claims
