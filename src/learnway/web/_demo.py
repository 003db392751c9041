"""Demo sign-in: one known password for the demo school's accounts, and the links to print."""

from __future__ import annotations

from sqlalchemy import Engine, select, update

from learnway.store import transaction
from learnway.store._schema import User
from learnway.web._security import hash_password

DEMO_PASSWORD = "learnway-demo"
DEMO_ACCOUNTS = {"student": "student01", "teacher": "teacher", "leader": "principal"}


def set_demo_passwords(engine: Engine, *, password: str = DEMO_PASSWORD) -> int:
    """Give every demo account (``sourced_id`` starting with ``demo-``) without a password the
    demo password; return how many were set. Real accounts are never touched."""
    hashed = hash_password(password)  # one hash for all: argon2 is slow by design
    with transaction(engine) as session:
        ids = session.scalars(
            select(User.id).where(User.sourced_id.like("demo-%"), User.password_hash.is_(None))
        ).all()
        if ids:
            session.execute(update(User).where(User.id.in_(ids)).values(password_hash=hashed))
    return len(ids)


def sign_in_links(base_url: str) -> dict[str, str]:
    """Sign-in links for a student, a teacher and a leader of the demo school."""
    base = base_url.rstrip("/")
    return {role: f"{base}/login?username={name}" for role, name in DEMO_ACCOUNTS.items()}
