"""Passwords, sign-in tokens, signed cookies, CSRF tokens and the sign-in rate limit.

Passwords are argon2 hashes. A sign-in creates a random token whose SHA-256 is stored in
``auth_tokens``: browsers hold it in a signed, HttpOnly, SameSite cookie, API clients send it as
a bearer token. Revoking the row (sign-out) ends the sign-in everywhere at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.orm import Session

from learnway.store._schema import User
from learnway.web._models import AuthToken, SignInFailure

_hasher = PasswordHasher()
# A hash of a random password, verified when the user is unknown so that timing does not
# reveal which usernames exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

SESSION_HOURS = 12
API_TOKEN_DAYS = 30


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(session: Session, *, username: str, password: str) -> User | None:
    """The enabled user with this username and password, or None (same cost either way)."""
    user = session.scalar(select(User).where(User.username == username))
    hashed = user.password_hash if user is not None and user.enabled else None
    return user if verify_password(hashed, password) and user is not None else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: str
    csrf: str
    expires_at: dt.datetime


def issue_token(session: Session, *, user: User, kind: str) -> IssuedToken:
    """Create a sign-in for ``user``: a ``session`` (browser) or an ``api`` bearer token."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    now = dt.datetime.now(dt.UTC)
    life = dt.timedelta(hours=SESSION_HOURS) if kind == "session" else dt.timedelta(days=30)
    session.add(
        AuthToken(
            token_hash=_digest(token),
            user_id=user.id,
            kind=kind,
            csrf=csrf,
            created_at=now,
            expires_at=now + life,
        )
    )
    session.flush()
    return IssuedToken(token, csrf, now + life)


def lookup_token(session: Session, *, token: str, kind: str) -> tuple[User, AuthToken] | None:
    """The user behind a live (unexpired, unrevoked) token of this kind, with the token row."""
    row = session.scalar(
        select(AuthToken).where(AuthToken.token_hash == _digest(token), AuthToken.kind == kind)
    )
    now = dt.datetime.now(dt.UTC)
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.enabled:
        return None
    return user, row


def revoke(session: Session, *, row: AuthToken) -> None:
    row.revoked_at = dt.datetime.now(dt.UTC)


class CookieSigner:
    """Signs the session token held in the browser's cookie."""

    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt="learnway-session")

    def dumps(self, token: str) -> str:
        return self._serializer.dumps(token)

    def loads(self, value: str) -> str | None:
        try:
            token = self._serializer.loads(value)
        except BadSignature:
            return None
        return token if isinstance(token, str) else None


def csrf_matches(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


class RateLimiter:
    """At most ``limit`` failed sign-ins per key in a sliding window of ``window_s`` seconds.

    The failures are rows of ``sign_in_failures``, written in their own transaction (a refused
    sign-in rolls its request back, not its failure), so every server process on the database
    counts the same failures. ``clock`` gives Unix time in seconds."""

    def __init__(
        self,
        engine: Engine,
        limit: int = 5,
        window_s: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.limit = limit
        self.window_s = window_s
        self.clock = clock

    def retry_after(self, *keys: str) -> int:
        """Seconds to wait before trying again, 0 when allowed."""
        now = self.clock()
        with self.engine.connect() as connection:
            counts = connection.execute(
                select(SignInFailure.key, func.count(), func.min(SignInFailure.at))
                .where(SignInFailure.key.in_(keys), SignInFailure.at > now - self.window_s)
                .group_by(SignInFailure.key)
            ).all()
        waits = [self.window_s - (now - oldest) for _, n, oldest in counts if n >= self.limit]
        return int(max(waits)) + 1 if waits else 0

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self.engine.begin() as connection:
            connection.execute(
                delete(SignInFailure).where(
                    SignInFailure.key.in_(keys), SignInFailure.at <= now - self.window_s
                )
            )
            connection.execute(insert(SignInFailure), [{"key": k, "at": now} for k in keys])

    def succeeded(self, *keys: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(SignInFailure).where(SignInFailure.key.in_(keys)))
