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
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import bindparam, case, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from learnway.store._schema import User
from learnway.web._models import AuthToken, SignInLimit

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


_TOKEN_USER = (
    select(User, AuthToken)
    .join(AuthToken, AuthToken.user_id == User.id)
    .where(AuthToken.token_hash == bindparam("digest"), AuthToken.kind == bindparam("kind"))
)
"""Every request's sign-in: built once, its SQL and cache key reused."""


def lookup_token(session: Session, *, token: str, kind: str) -> tuple[User, AuthToken] | None:
    """The user behind a live (unexpired, unrevoked) token of this kind, with the token row."""
    found = session.execute(_TOKEN_USER, {"digest": _digest(token), "kind": kind}).first()
    if found is None:
        return None
    user, row = found
    if row.revoked_at is not None or row.expires_at <= dt.datetime.now(dt.UTC):
        return None
    if not user.enabled:
        return None
    return user, row


def revoke(session: Session, *, row: AuthToken) -> None:
    row.revoked_at = dt.datetime.now(dt.UTC)


def revoke_all(session: Session, *, user_id: int) -> int:
    """End every sign-in of a user (browser sessions and API tokens); return how many."""
    result = session.execute(
        update(AuthToken)
        .where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=dt.datetime.now(dt.UTC))
    )
    return int(getattr(result, "rowcount", 0) or 0)


class PasswordRefused(ValueError):
    """A new password that the policy refuses (the message says why, for its owner)."""


def set_password(session: Session, *, user: User, password: str) -> None:
    """Give ``user`` a new password (checked against the policy) and end every sign-in they
    had, so that a changed or reset password locks out whoever held the old one."""
    from learnway.web._passwords import password_problem

    problem = password_problem(password, username=user.username)
    if problem is not None:
        raise PasswordRefused(problem)
    user.password_hash = hash_password(password)
    revoke_all(session, user_id=user.id)


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
    """At most ``limit`` password checks per key in a window of ``window_s`` seconds; each window
    used up makes the next one twice as long, up to ``max_window_s`` (a progressive delay, not a
    lockout: once the window ends, the owner may sign in again).

    A check is reserved before the password is verified, with one atomic ``UPDATE`` of the key's
    row in ``sign_in_limits`` (row-locked on PostgreSQL, the write lock on SQLite) in a short
    transaction of its own, committed before the slow hash is computed; so no two requests can
    take the same check, whatever the concurrency, and no connection is held while hashing. A
    process-local note of blocked keys answers repeated refusals without the database.
    ``clock`` gives Unix time in seconds."""

    def __init__(
        self,
        limit: int = 5,
        window_s: float = 60.0,
        max_window_s: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_window_s = max_window_s
        self.clock = clock
        self._blocked: dict[str, float] = {}
        self._in_flight: dict[str, int] = {}
        self._lock = threading.Lock()
        self.gate = threading.Lock()
        """Held by a caller around its reservations, so that a process queues them itself."""

    def blocked_for(self, key: str) -> float:
        """Seconds this process already knows ``key`` must wait (0 when it knows of none).

        Also 1 while ``limit`` checks of the key are already in flight in this process: at most
        that many can be granted, so one more would be refused anyway."""
        with self._lock:
            busy = self._in_flight.get(key, 0) >= self.limit
        return max(self.known_wait(key), 1.0 if busy else 0.0)

    def known_wait(self, key: str) -> float:
        """Seconds until the end of the window that this process last saw ``key`` refused in."""
        with self._lock:
            until = self._blocked.get(key, 0.0)
        return max(0.0, until - self.clock())

    def enter(self, key: str) -> None:
        """A check of ``key`` is on its way (see :meth:`blocked_for`); :meth:`leave` after."""
        with self._lock:
            self._in_flight[key] = self._in_flight.get(key, 0) + 1

    def leave(self, key: str) -> None:
        with self._lock:
            left = self._in_flight.get(key, 1) - 1
            if left > 0:
                self._in_flight[key] = left
            else:
                self._in_flight.pop(key, None)

    def reserve(self, session: Session, key: str) -> float:
        """Take one check for ``key``: 0 when taken, else the seconds until the next one."""
        now = self.clock()
        row = SignInLimit
        fresh = {"key": key, "until": now, "window_s": self.window_s, "checks": 0}
        if session.get_bind().dialect.name == "postgresql":
            session.execute(pg_insert(row).values(fresh).on_conflict_do_nothing())
        else:
            session.execute(sqlite_insert(row).values(fresh).on_conflict_do_nothing())
        expired = row.until <= now
        longer = case(
            (row.checks < self.limit, self.window_s),
            (row.window_s * 2 > self.max_window_s, self.max_window_s),
            else_=row.window_s * 2,
        )
        taken = session.execute(
            update(row)
            .where(row.key == key, or_(expired, row.checks < self.limit))
            .values(
                checks=case((expired, 1), else_=row.checks + 1),
                window_s=case((expired, longer), else_=row.window_s),
                until=case((expired, now + longer), else_=row.until),
            )
            .returning(row.checks)
        ).first()
        if taken is not None:
            return 0.0
        until = session.scalar(select(row.until).where(row.key == key)) or now
        with self._lock:
            if len(self._blocked) > 100_000:
                self._blocked.clear()
            self._blocked[key] = until
        return max(until - now, 0.001)

    def release(self, session: Session, key: str) -> None:
        """Give back a check that turned out not to be a failure."""
        session.execute(
            update(SignInLimit)
            .where(SignInLimit.key == key, SignInLimit.checks > 0)
            .values(checks=SignInLimit.checks - 1)
        )

    def succeeded(self, session: Session, key: str) -> None:
        """The owner signed in: the key's delays start again from the beginning."""
        session.execute(delete(SignInLimit).where(SignInLimit.key == key))
        with self._lock:
            self._blocked.pop(key, None)

    def forget_old(self, session: Session) -> None:
        """Delete rows whose window ended longer ago than the longest window."""
        session.execute(
            delete(SignInLimit).where(SignInLimit.until < self.clock() - self.max_window_s)
        )
