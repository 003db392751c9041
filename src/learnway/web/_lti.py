"""LTI 1.3 resource-link launches: an LMS opens Learnway for one of its people, signed in.

The flow is OpenID Connect's third-party-initiated login, as LTI 1.3 (IMS Security Framework)
defines it:

1. The platform calls ``/lti/login`` with its issuer, a login hint and the launch URL.
   :func:`begin_launch` finds the registered platform, stores a one-time ``state`` and ``nonce``
   and returns the platform's authorization URL to redirect to.
2. The platform posts an ``id_token`` (a JWT it signed) and the ``state`` to ``/lti/launch``.
   :func:`complete_launch` consumes the state (once, within ten minutes), checks the token's
   signature against the platform's registered keys (RS256), its issuer, audience, expiry and
   nonce, the deployment, the message type and the LTI version, and finds the person.

People are matched on the launch's ``lis.person_sourcedid`` claim, the student information
system's id, which is the sourcedId Learnway's roster holds (OneRoster). A launch never creates
anyone: who may see what still comes from the roster.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jwt
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from learnway.store._schema import User
from learnway.web._models import LtiLaunchState, LtiPlatform

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
STATE_TTL = dt.timedelta(minutes=10)
LEEWAY_S = 60  # clock skew allowed between the platform and Learnway


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


def begin_launch(session: Session, login: LoginRequest, launch_url: str) -> str:
    """Store a fresh state and nonce; return the platform's authorization URL with them."""
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
    now = dt.datetime.now(dt.UTC)
    session.execute(delete(LtiLaunchState).where(LtiLaunchState.created_at < now - STATE_TTL))
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(LtiLaunchState(state=state, nonce=nonce, platform_id=platform.id, created_at=now))
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
    return f"{platform.auth_login_url}{separator}{urlencode(params)}"


def complete_launch(session: Session, *, id_token: str, state: str) -> User:
    """The enabled person a valid launch is for; :class:`LaunchError` says why not."""
    stored = session.get(LtiLaunchState, state)
    if stored is None:
        raise LaunchError("This launch is unknown or was already used: launch again from the LMS.")
    session.delete(stored)  # one use only, valid or not
    session.flush()
    if stored.created_at < dt.datetime.now(dt.UTC) - STATE_TTL:
        raise LaunchError("This launch took too long: launch again from the LMS.")
    platform = session.get(LtiPlatform, stored.platform_id)
    assert platform is not None  # the state row cascades with its platform
    claims = _verified_claims(platform, id_token)
    if claims.get("nonce") != stored.nonce:
        raise LaunchError("The launch does not answer this login (nonce).")
    if claims.get(CLAIM + "deployment_id") not in platform.deployment_ids:
        raise LaunchError("The launch comes from a deployment that is not registered.")
    if claims.get(CLAIM + "message_type") != "LtiResourceLinkRequest":
        raise LaunchError("Only resource link launches are supported.")
    if claims.get(CLAIM + "version") != "1.3.0":
        raise LaunchError("Only LTI 1.3.0 launches are supported.")
    lis = claims.get(CLAIM + "lis") or {}
    sourced_id = lis.get("person_sourcedid") if isinstance(lis, dict) else None
    if not sourced_id:
        raise LaunchError("The launch names no person_sourcedid: the LMS must send it.")
    user = session.scalar(select(User).where(User.sourced_id == str(sourced_id)))
    if user is None or not user.enabled:
        raise LaunchError("This person is not in Learnway's roster, or is disabled.")
    return user


def _verified_claims(platform: LtiPlatform, id_token: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(id_token)
        keys = jwt.PyJWKSet.from_dict(json.loads(platform.jwks)).keys
        kid = header.get("kid")
        key = next((k for k in keys if kid is None or k.key_id == kid), None)
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
