"""Registering a platform: by hand (``learnway add-lti-platform``) or by LTI Dynamic
Registration 1.0, where the platform's administrator gives the LMS Learnway's registration URL.

Dynamic registration is allowed only with a one-time code made by a Learnway administrator
(``learnway lti-registration-url``): the URL the LMS is given carries it. Otherwise anyone
could register a platform and launch as any person of the roster. The flow:

1. The LMS opens ``/lti/register?code=..`` adding ``openid_configuration`` (a URL) and usually
   ``registration_token``.
2. :func:`register` checks the code (spent once the platform is stored), fetches the
   platform's OpenID configuration (its issuer must be on the same host as that URL), and posts
   Learnway's client metadata with its LTI tool configuration to the platform's
   ``registration_endpoint``.
3. The platform answers with the ``client_id`` (and the deployment id) it gave Learnway; the
   platform is stored with its key set URL, token endpoint and authorization endpoint.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from learnway.store._schema import Org
from learnway.web._lti_keys import ServiceError, check_url, http_json, parse_jwks
from learnway.web._lti_models import LtiRegistrationCode
from learnway.web._models import LtiPlatform

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
)
CODE_DAYS = 7


class RegistrationError(Exception):
    """A registration refused or failed, with the reason shown to the administrator."""


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def registration_code(session: Session, *, school_id: int | None = None) -> str:
    """A new one-time code for a dynamic registration, valid for :data:`CODE_DAYS` days."""
    code = secrets.token_urlsafe(24)
    now = dt.datetime.now(dt.UTC)
    session.add(
        LtiRegistrationCode(
            code_hash=_digest(code), school_id=school_id, created_at=now,
            expires_at=now + dt.timedelta(days=CODE_DAYS),
        )
    )  # fmt: skip
    session.flush()
    return code


def tool_metadata(base_url: str, scopes: list[str]) -> dict[str, Any]:
    """Learnway's client metadata for a platform's registration endpoint."""
    base = base_url.rstrip("/")
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": f"{base}/lti/login",
        "redirect_uris": [f"{base}/lti/launch"],
        "client_name": "Learnway",
        "jwks_uri": f"{base}/lti/jwks",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        TOOL_CONFIGURATION: {
            "domain": urlsplit(base).netloc,
            "target_link_uri": f"{base}/lti/launch",
            "description": "Personal learning paths: mastery of competencies, as grades.",
            "claims": ["iss", "sub", "name", "given_name", "family_name", "email"],
            "messages": [
                {"type": "LtiResourceLinkRequest", "target_link_uri": f"{base}/lti/launch"},
                {
                    "type": "LtiDeepLinkingRequest",
                    "target_link_uri": f"{base}/lti/launch",
                    "label": "Learnway competencies",
                },
            ],
        },
    }


def _live_code(session: Session, code: str) -> LtiRegistrationCode:
    """The code's row, when it is known, unused and unexpired (spent once the platform is
    registered, so that a registration that failed half-way can be tried again)."""
    row = session.get(LtiRegistrationCode, _digest(code))
    if row is None or row.used_at is not None or row.expires_at < dt.datetime.now(dt.UTC):
        raise RegistrationError(
            "This registration URL is unknown, used or expired: ask for a new one "
            "(learnway lti-registration-url)."
        )
    return row


def _text(config: dict[str, Any], name: str) -> str:
    value = config.get(name)
    if not isinstance(value, str) or not value:
        raise RegistrationError(f"The platform's configuration has no {name}.")
    return value


def register(
    session: Session,
    *,
    code: str,
    openid_configuration: str,
    registration_token: str | None,
    base_url: str,
) -> LtiPlatform:
    """Register the platform that sent this dynamic registration; the stored row."""
    granted = _live_code(session, code)
    try:
        config = http_json(openid_configuration, headers={"Accept": "application/json"}).body
    except ServiceError as error:
        raise RegistrationError(
            f"The platform's configuration could not be read: {error}"
        ) from None
    if not isinstance(config, dict):
        raise RegistrationError("The platform's configuration is not a JSON object.")
    issuer = _text(config, "issuer")
    if urlsplit(issuer).hostname != urlsplit(openid_configuration).hostname:
        raise RegistrationError(
            f"The platform's issuer {issuer} is not on the host of its configuration URL."
        )
    endpoint = _text(config, "registration_endpoint")
    offered = config.get("scopes_supported")
    scopes = [s for s in SCOPES if not isinstance(offered, list) or s in offered]
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    try:
        answer = http_json(
            endpoint,
            method="POST",
            body=json.dumps(tool_metadata(base_url, scopes)).encode(),
            headers=headers,
        ).body
    except ServiceError as error:
        raise RegistrationError(f"The platform refused the registration: {error}") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("client_id"), str):
        raise RegistrationError("The platform's answer gave no client_id.")
    tool = answer.get(TOOL_CONFIGURATION)
    deployment = tool.get("deployment_id") if isinstance(tool, dict) else None
    client_id = answer["client_id"]
    platform = session.scalar(
        select(LtiPlatform).where(LtiPlatform.issuer == issuer, LtiPlatform.client_id == client_id)
    ) or LtiPlatform(issuer=issuer, client_id=client_id, jwks='{"keys": []}', deployment_ids=[])
    platform.auth_login_url = _text(config, "authorization_endpoint")
    platform.jwks_url = _text(config, "jwks_uri")
    platform.jwks_fetched_at = None
    platform.token_url = config.get("token_endpoint") or None
    platform.school_id = granted.school_id
    if isinstance(deployment, str) and deployment:
        platform.deployment_ids = sorted({*platform.deployment_ids, deployment})
    session.add(platform)
    granted.used_at = dt.datetime.now(dt.UTC)
    session.flush()
    return platform


def _school_id(session: Session, school: str | None) -> int | None:
    if school is None:
        return None
    found = session.scalar(select(Org.id).where(Org.sourced_id == school))
    if found is None:
        raise RegistrationError(f"No school {school} in this database.")
    return found


def registration_url(session: Session, *, server: str, school: str | None = None) -> str:
    """The URL an LMS administrator gives their LMS to register Learnway dynamically."""
    parts = urlsplit(server)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise RegistrationError(f"{server!r} is not Learnway's address (https://...).")
    code = registration_code(session, school_id=_school_id(session, school))
    return f"{server.rstrip('/')}/lti/register?{urlencode({'code': code})}"


def register_by_hand(
    session: Session,
    *,
    issuer: str,
    client_id: str,
    auth_url: str,
    jwks: dict[str, Any] | None,
    jwks_url: str | None,
    token_url: str | None,
    deployments: list[str],
    frame_ancestors: list[str],
    school: str | None,
) -> LtiPlatform:
    """Register (or update) a platform from what its administrator gave: its keys as a JWKS
    (from a file) or the URL to fetch them from."""
    if (jwks is None) == (jwks_url is None):
        raise RegistrationError("Give the platform's keys: a JWKS file or its URL (one of them).")
    if jwks is not None:
        try:
            parse_jwks(jwks)
        except ValueError as error:
            raise RegistrationError(f"Not a JWKS: {error}") from None
    for url in (jwks_url, token_url):
        if url is not None:
            try:
                check_url(url)
            except ServiceError as error:
                raise RegistrationError(str(error)) from None
    bad = [a for a in frame_ancestors if not _is_origin(a)]
    if bad:
        raise RegistrationError(f"Not origins (https://host[:port]): {', '.join(bad)}.")
    platform = session.scalar(
        select(LtiPlatform).where(LtiPlatform.issuer == issuer, LtiPlatform.client_id == client_id)
    ) or LtiPlatform(issuer=issuer, client_id=client_id)
    platform.auth_login_url = auth_url
    platform.jwks = json.dumps(jwks if jwks is not None else {"keys": []})
    platform.jwks_url = jwks_url
    platform.jwks_fetched_at = None
    platform.token_url = token_url
    platform.deployment_ids = sorted(set(deployments))
    platform.frame_ancestors = [a.rstrip("/") for a in frame_ancestors] or None
    platform.school_id = _school_id(session, school)
    session.add(platform)
    session.flush()
    return platform


def _is_origin(value: str) -> bool:
    parts = urlsplit(value.rstrip("/"))
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.path
