"""the web application: sign-in tokens, audit log, assignments

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# The models of these tables live in the web package; importing it registers them on the
# store's Base, so that comparing the models with a migrated database sees them.
from learnway.web import _models  # noqa: F401

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(
    table: str, column: str, target: str, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    name = op.f(f"fk_{table}_{column}_{target}")
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=name, ondelete=ondelete)


def upgrade() -> None:
    now = sa.DateTime(timezone=True)
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", now, nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("resource", sa.String(length=255), nullable=False),
        sa.CheckConstraint(
            "action IN ('view', 'change')", name=op.f("ck_audit_events_action_allowed")
        ),
        _fk("audit_events", "actor_id", "users"),
        _fk("audit_events", "student_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(op.f("ix_audit_events_actor_id"), "audit_events", ["actor_id"])
    op.create_index("ix_audit_events_student_at", "audit_events", ["student_id", "at"])
    op.create_table(
        "auth_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", now, nullable=False),
        sa.Column("expires_at", now, nullable=False),
        sa.Column("revoked_at", now, nullable=True),
        sa.CheckConstraint("kind IN ('session', 'api')", name=op.f("ck_auth_tokens_kind_allowed")),
        _fk("auth_tokens", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_tokens_token_hash")),
    )
    op.create_index(op.f("ix_auth_tokens_user_id"), "auth_tokens", ["user_id"])
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("competency_id", sa.Integer(), nullable=True),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("assigned_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", now, nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'done', 'cancelled')", name=op.f("ck_assignments_status_allowed")
        ),
        sa.CheckConstraint(
            "competency_id IS NOT NULL OR activity_id IS NOT NULL",
            name=op.f("ck_assignments_has_target"),
        ),
        _fk("assignments", "activity_id", "activities"),
        _fk("assignments", "assigned_by_id", "users"),
        _fk("assignments", "competency_id", "competencies"),
        _fk("assignments", "group_id", "groups", ondelete="SET NULL"),
        _fk("assignments", "student_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    op.create_index(op.f("ix_assignments_student_id"), "assignments", ["student_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_assignments_student_id"), table_name="assignments")
    op.drop_table("assignments")
    op.drop_index(op.f("ix_auth_tokens_user_id"), table_name="auth_tokens")
    op.drop_table("auth_tokens")
    op.drop_index("ix_audit_events_student_at", table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_actor_id"), table_name="audit_events")
    op.drop_table("audit_events")
