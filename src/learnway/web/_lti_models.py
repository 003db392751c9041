"""Tables of LTI Advantage (migration ``0011_lti_advantage``, which imports this module so the
models are registered whenever the schema is migrated or compared).

- ``lti_tool_keys``: Learnway's own RSA keys, published at ``/lti/jwks``; the newest signs.
- ``lti_registration_codes``: one-time codes that let a platform register itself (LTI Dynamic
  Registration); only their SHA-256 is stored.
- ``lti_accounts``: the platform's id (``sub``) of a Learnway user, learned from launches and
  roster syncs; grades are posted under it.
- ``lti_contexts``: a course of the platform (the LTI *context*), the section it stands for,
  and the service URLs its launches announced.
- ``lti_links``: what a teacher placed in the course by deep linking (competencies or an
  activity), with the gradebook line item it reports to.
- ``lti_scores``: the outbox of grade passback: one row per link and student holding the latest
  score to send, pending until the platform has accepted it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from learnway.store._schema import Base, Timestamp

SCORE_STATUSES = ("pending", "sent", "failed")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class LtiToolKey(Base):
    __tablename__ = "lti_tool_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow)


class LtiRegistrationCode(Base):
    __tablename__ = "lti_registration_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("orgs.id"))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(Timestamp())
    used_at: Mapped[dt.datetime | None] = mapped_column(Timestamp())


class LtiAccount(Base):
    __tablename__ = "lti_accounts"
    __table_args__ = (UniqueConstraint("platform_id", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)


class LtiContext(Base):
    __tablename__ = "lti_contexts"
    __table_args__ = (UniqueConstraint("platform_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(255), default="")
    section_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id"))
    memberships_url: Mapped[str | None] = mapped_column(Text)
    lineitems_url: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[dt.datetime | None] = mapped_column(Timestamp())


class LtiLink(Base):
    __tablename__ = "lti_links"
    __table_args__ = (
        CheckConstraint("competency_ids IS NOT NULL OR activity_id IS NOT NULL", name="has_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("lti_contexts.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(Text)
    competency_ids: Mapped[list[int] | None] = mapped_column(JSON)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id"))
    resource_link_id: Mapped[str | None] = mapped_column(String(255))
    lineitem_url: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow)


class LtiScore(Base):
    __tablename__ = "lti_scores"
    __table_args__ = (
        UniqueConstraint("link_id", "user_id"),
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status_allowed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("lti_links.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    score: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(Timestamp())
