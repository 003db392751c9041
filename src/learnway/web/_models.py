"""The web application's own tables: sign-in tokens, failed sign-ins, the audit log,
assignments and LTI platforms.

They live on the store's ``Base`` so that one migration history covers the whole database
(``store/migrations/versions/0002_web.py`` and later revisions create them; 0002 imports this
module, so the models are registered whenever the schema is migrated or compared).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from learnway.store._schema import Base, Timestamp

TOKEN_KINDS = ("session", "api")
AUDIT_ACTIONS = ("view", "change", "export", "delete", "denied")
ASSIGNMENT_STATUSES = ("open", "done", "cancelled")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class AuthToken(Base):
    """A sign-in: a browser session or an API bearer token. Only the token's hash is stored."""

    __tablename__ = "auth_tokens"
    __table_args__ = (CheckConstraint("kind IN ('session', 'api')", name="kind_allowed"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(Timestamp())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(Timestamp())


class SignInLimit(Base):
    """The password checks allowed to one key (``user:NAME``, ``address:IP``) in its window.

    ``until`` (Unix time, seconds) ends the current window of ``window_s`` seconds, in which at
    most the limit's number of checks are made; a window used up makes the next one twice as
    long (progressive delay, up to a maximum), and a successful sign-in deletes the row. Every
    server process reserves its checks here with one atomic ``UPDATE``."""

    __tablename__ = "sign_in_limits"

    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    until: Mapped[float] = mapped_column(Float, index=True)
    window_s: Mapped[float] = mapped_column(Float)
    checks: Mapped[int] = mapped_column(Integer)


class AuditEvent(Base):
    """Who looked at, changed, exported or deleted which student's data, when and through which
    route; and every refused or probing request. Never the data itself.

    ``student_id`` is empty for a refused request that names no visible student, and for the
    record of a deletion, which keeps only ``subject``: a keyed hash of the deleted student's
    roster id, so that the deletion can be confirmed later without keeping who it was."""

    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint(
            "action IN ('view', 'change', 'export', 'delete', 'denied')", name="action_allowed"
        ),
        Index("ix_audit_events_student_at", "student_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    student_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(10))
    resource: Mapped[str] = mapped_column(String(255))
    status: Mapped[int | None] = mapped_column(Integer)
    subject: Mapped[str | None] = mapped_column(String(64))


class HintView(Base):
    """How many hints (and scaffolds, with their answers) of a step a student has been shown:
    the server's own evidence, used as the attempt's ``hints_used``."""

    __tablename__ = "hint_views"

    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id"), primary_key=True)
    shown: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow)


class TotpSecret(Base):
    """A staff account's time-based one-time password (RFC 6238), required at sign-in once
    confirmed. ``last_step`` is the time step of the last code accepted (no replay)."""

    __tablename__ = "totp_secrets"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(Timestamp())
    last_step: Mapped[int | None] = mapped_column(Integer)


class Assignment(Base):
    """Work a teacher gives a student: a competency to practise or an activity to do."""

    __tablename__ = "assignments"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'done', 'cancelled')", name="status_allowed"),
        CheckConstraint("competency_id IS NOT NULL OR activity_id IS NOT NULL", name="has_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    competency_id: Mapped[int | None] = mapped_column(ForeignKey("competencies.id"))
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[dt.date | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(12), default="open")
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow)


class LtiPlatform(Base):
    """An LMS that launches Learnway with LTI 1.3: its issuer, the client id it gave Learnway,
    where its OpenID Connect authorization endpoint is, its public keys (a JWKS, as JSON) and
    the deployment ids it may launch from."""

    __tablename__ = "lti_platforms"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(Text)
    jwks: Mapped[str] = mapped_column(Text)
    deployment_ids: Mapped[list[str]] = mapped_column(JSON)
    # LTI Advantage (migration 0011, see web/_lti_keys.py and web/_lti_services.py): the key
    # set's URL when the keys are fetched (``jwks`` then caches them), the OAuth 2 token
    # endpoint of the platform's services, the origins allowed to frame Learnway's LTI pages,
    # and the school that people created by a roster sync belong to.
    jwks_url: Mapped[str | None] = mapped_column(Text)
    jwks_fetched_at: Mapped[dt.datetime | None] = mapped_column(Timestamp())
    token_url: Mapped[str | None] = mapped_column(Text)
    frame_ancestors: Mapped[list[str] | None] = mapped_column(JSON)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("orgs.id"))


class LtiLaunchState(Base):
    """A launch begun by the platform's login initiation: the ``state`` and ``nonce`` sent to
    its authorization endpoint, kept until the launch comes back (once) or expires."""

    __tablename__ = "lti_launch_states"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64))
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow)
    target_link_uri: Mapped[str | None] = mapped_column(Text)
