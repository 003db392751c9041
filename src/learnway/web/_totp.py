"""Optional one-time passwords (TOTP, RFC 6238) for staff accounts, with ``pyotp``.

A teacher or administrator starts by asking for a secret (shown once, as text and as an
``otpauth://`` link for an authenticator app), and confirms it with a current code; from then
on signing in needs a current code too. A code is accepted once (its time step is kept).
"""

from __future__ import annotations

import datetime as dt

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from learnway.store._schema import User
from learnway.web._models import TotpSecret

STAFF_ROLES = ("teacher", "school_admin", "district_admin")
ISSUER = "Learnway"


def totp_required(session: Session, *, user_id: int) -> bool:
    """Whether this account has a confirmed one-time password."""
    confirmed = session.scalar(select(TotpSecret.confirmed_at).where(TotpSecret.user_id == user_id))
    return confirmed is not None


def begin_totp(session: Session, *, user: User) -> tuple[str, str]:
    """A new (unconfirmed) secret for a staff account: ``(secret, otpauth URI)``."""
    if user.role not in STAFF_ROLES:
        raise PermissionError("One-time passwords are for staff accounts.")
    secret = pyotp.random_base32()
    row = session.get(TotpSecret, user.id)
    if row is None:
        session.add(TotpSecret(user_id=user.id, secret=secret))
    else:
        row.secret, row.confirmed_at, row.last_step = secret, None, None
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    return secret, str(uri)


def _matching_step(secret: str, code: str | None, last_step: int | None) -> int | None:
    """The time step (now, or one either side for clock drift) whose code is ``code``."""
    if not code or not code.strip().isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = dt.datetime.now(dt.UTC)
    for drift in (0, -1, 1):
        at = now + dt.timedelta(seconds=drift * totp.interval)
        step = int(totp.timecode(at))
        if (last_step is None or step > last_step) and totp.verify(code.strip(), for_time=at):
            return step
    return None


def confirm_totp(session: Session, *, user: User, code: str) -> bool:
    """Turn the account's new secret on, given a current code from it."""
    row = session.get(TotpSecret, user.id)
    if row is None:
        return False
    step = _matching_step(row.secret, code, row.last_step)
    if step is None:
        return False
    row.confirmed_at, row.last_step = dt.datetime.now(dt.UTC), step
    return True


def verify_totp(session: Session, *, user_id: int, code: str | None) -> bool:
    """Whether ``code`` is a current, unused code of the account's confirmed secret."""
    row = session.get(TotpSecret, user_id)
    if row is None or row.confirmed_at is None:
        return True
    step = _matching_step(row.secret, code, row.last_step)
    if step is None:
        return False
    row.last_step = step
    return True


def remove_totp(session: Session, *, user: User) -> None:
    row = session.get(TotpSecret, user.id)
    if row is not None:
        session.delete(row)
