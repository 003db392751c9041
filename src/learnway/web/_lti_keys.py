"""Keys of LTI 1.3: the platform's, to check what it signs, and Learnway's own, to sign.

- A platform's public keys come from a file given at registration, or from its JWKS URL. Keys
  fetched from a URL are kept in ``lti_platforms.jwks`` for :data:`JWKS_TTL`; a token signed
  with a ``kid`` the cached set does not hold fetches the set again at once (the platform
  rotated its keys), at most once per :data:`REFETCH_GAP` so that forged ``kid``s cannot make
  Learnway hammer the platform.
- Learnway's own RSA keys (``lti_tool_keys``) are made on first use. Their public halves are
  published at ``/lti/jwks``; the newest signs deep-linking responses and the client
  assertions that obtain access tokens for the platform's services (IMS Security Framework,
  OAuth 2 client credentials with a JWT, RFC 7523).

Every outgoing request goes through :func:`http_json`: HTTPS only, except to a loopback address
(a platform on the same machine, as in development and tests), with a timeout and a size limit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from learnway.store import transaction
from learnway.web._lti_models import LtiToolKey
from learnway.web._models import LtiPlatform

JWKS_TTL = dt.timedelta(hours=1)
REFETCH_GAP = dt.timedelta(seconds=30)
TIMEOUT_S = 10.0
MAX_BYTES = 4 * 1024 * 1024
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class ServiceError(Exception):
    """A platform's endpoint could not be reached or answered with an error."""


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: Any


def check_url(url: str) -> str:
    """``url`` when Learnway may call it: HTTPS, or HTTP to this machine's loopback."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname in LOOPBACK:
        return url
    raise ServiceError(f"{url!r} is not an HTTPS address.")


def http_json(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> HttpAnswer:
    """Call ``url``; the answer's JSON (None when empty). :class:`ServiceError` on failure."""
    request = urllib.request.Request(
        check_url(url), data=body, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:
            raw = answer.read(MAX_BYTES + 1)
            status, got = answer.status, {k.lower(): v for k, v in answer.headers.items()}
    except urllib.error.HTTPError as error:
        detail = error.read(500).decode("utf-8", "replace")
        raise ServiceError(f"{method} {url} answered {error.code}: {detail}") from None
    except (OSError, ValueError) as error:
        raise ServiceError(f"{method} {url} failed: {error}") from None
    if len(raw) > MAX_BYTES:
        raise ServiceError(f"{method} {url} answered more than {MAX_BYTES} bytes.")
    try:
        return HttpAnswer(status, got, json.loads(raw) if raw.strip() else None)
    except ValueError:
        raise ServiceError(f"{method} {url} did not answer JSON.") from None


def parse_jwks(value: Any) -> jwt.PyJWKSet:
    """A key set from its JSON; :class:`ValueError` when it is not one."""
    try:
        return jwt.PyJWKSet.from_dict(value)
    except (jwt.PyJWTError, AttributeError, TypeError, KeyError) as error:
        raise ValueError(f"not a JWKS: {error}") from None


def fetch_platform_keys(platform: LtiPlatform, *, now: dt.datetime | None = None) -> jwt.PyJWKSet:
    """Fetch the platform's key set from its URL and keep it on the row."""
    assert platform.jwks_url is not None
    answer = http_json(platform.jwks_url, headers={"Accept": "application/json"})
    try:
        keys = parse_jwks(answer.body)
    except ValueError as error:
        raise ServiceError(f"{platform.jwks_url}: {error}") from None
    platform.jwks = json.dumps(answer.body)
    platform.jwks_fetched_at = now or dt.datetime.now(dt.UTC)
    return keys


def platform_key(platform: LtiPlatform, kid: str | None) -> jwt.PyJWK | None:
    """The platform's key with this ``kid`` (any key when the token names none), fetching the
    set from its URL when the cached one is stale or does not hold the ``kid``."""
    now = dt.datetime.now(dt.UTC)
    stored = json.loads(platform.jwks) if platform.jwks else {}
    cached = parse_jwks(stored).keys if isinstance(stored, dict) and stored.get("keys") else []
    found = next((k for k in cached if kid is None or k.key_id == kid), None)
    if platform.jwks_url is None:
        return found
    fetched = platform.jwks_fetched_at
    stale = fetched is None or now - fetched > JWKS_TTL
    may_refetch = fetched is None or now - fetched > REFETCH_GAP
    if stale or (found is None and may_refetch):
        keys = fetch_platform_keys(platform, now=now).keys
        found = next((k for k in keys if kid is None or k.key_id == kid), None)
    return found


# --- Learnway's own keys --------------------------------------------------------------------


def _new_tool_key(session: Session) -> LtiToolKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    kid = hashlib.sha256(pem.encode()).hexdigest()[:32]
    row = LtiToolKey(kid=kid, private_pem=pem, created_at=dt.datetime.now(dt.UTC))
    session.add(row)
    session.flush()
    return row


def signing_key(session: Session) -> LtiToolKey:
    """Learnway's newest key, made on first use."""
    row = session.scalar(select(LtiToolKey).order_by(LtiToolKey.created_at.desc()).limit(1))
    return row or _new_tool_key(session)


def ensure_signing_key(engine: Engine) -> None:
    """Make Learnway's key in a transaction of its own, before anything signed with it reaches a
    platform: the platform checks it against ``/lti/jwks``, read in another transaction."""
    with transaction(engine) as session:
        signing_key(session)


def rotate_tool_key(session: Session) -> LtiToolKey:
    """A new signing key; the older ones stay published so that tokens in flight still verify."""
    return _new_tool_key(session)


def tool_jwks(session: Session) -> dict[str, list[dict[str, Any]]]:
    """Learnway's public keys, as the JWKS a platform fetches."""
    signing_key(session)
    keys = []
    for row in session.scalars(select(LtiToolKey).order_by(LtiToolKey.created_at.desc())):
        private = serialization.load_pem_private_key(row.private_pem.encode(), password=None)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))  # type: ignore[arg-type]
        keys.append({**public, "kid": row.kid, "alg": "RS256", "use": "sig"})
    return {"keys": keys}


def sign(session: Session, claims: dict[str, Any]) -> str:
    """``claims`` as a JWT signed with Learnway's newest key (RS256, with its ``kid``)."""
    row = signing_key(session)
    return jwt.encode(claims, row.private_pem, algorithm="RS256", headers={"kid": row.kid})


def access_token(session: Session, platform: LtiPlatform, scopes: list[str]) -> str:
    """An access token for the platform's services (OAuth 2 client credentials, with a client
    assertion signed by Learnway's key); :class:`ServiceError` when refused."""
    if not platform.token_url:
        raise ServiceError(f"The platform {platform.issuer} has no token endpoint registered.")
    now = dt.datetime.now(dt.UTC)
    assertion = sign(
        session,
        {
            "iss": platform.client_id,
            "sub": platform.client_id,
            "aud": platform.token_url,
            "iat": now,
            "exp": now + dt.timedelta(minutes=5),
            "jti": secrets.token_urlsafe(16),
        },
    )
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
        "scope": " ".join(scopes),
    }
    answer = http_json(
        platform.token_url,
        method="POST",
        body=urlencode(form).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
    )
    token = answer.body.get("access_token") if isinstance(answer.body, dict) else None
    if not isinstance(token, str) or not token:
        raise ServiceError(f"{platform.token_url} gave no access token.")
    return token
