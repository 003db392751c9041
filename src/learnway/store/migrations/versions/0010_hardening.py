"""Hardening: session revocation, audit trail, scoped attempt ids

The failed-sign-in log becomes one row of reserved password checks per key; the audit trail
records exports, deletions and refused requests (anonymous ones too); hints shown are kept as
evidence; staff accounts may add a one-time password.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIONS_BEFORE = "action IN ('view', 'change')"
_ACTIONS = "action IN ('view', 'change', 'export', 'delete', 'denied')"


def upgrade() -> None:
    op.drop_index("ix_sign_in_failures_key_at", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
    op.create_table(
        "sign_in_limits",
        sa.Column("key", sa.String(length=320), nullable=False),
        sa.Column("until", sa.Float(), nullable=False),
        sa.Column("window_s", sa.Float(), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_limits")),
    )
    op.create_index(op.f("ix_sign_in_limits_until"), "sign_in_limits", ["until"])

    with op.batch_alter_table("audit_events") as batch:
        batch.drop_constraint(op.f("ck_audit_events_action_allowed"), type_="check")
        batch.alter_column("actor_id", existing_type=sa.Integer(), nullable=True)
        batch.alter_column("student_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("status", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("subject", sa.String(length=64), nullable=True))
        batch.create_check_constraint(op.f("ck_audit_events_action_allowed"), _ACTIONS)
    op.create_index(op.f("ix_audit_events_at"), "audit_events", ["at"])

    op.create_table(
        "hint_views",
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=False),
        sa.Column("shown", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["student_id"], ["users.id"], name=op.f("fk_hint_views_student_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["step_id"], ["steps.id"], name=op.f("fk_hint_views_step_id_steps")
        ),
        sa.PrimaryKeyConstraint("student_id", "step_id", name=op.f("pk_hint_views")),
    )
    op.create_table(
        "totp_secrets",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_totp_secrets_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_totp_secrets")),
    )


def downgrade() -> None:
    op.drop_table("totp_secrets")
    op.drop_table("hint_views")
    op.drop_index(op.f("ix_audit_events_at"), table_name="audit_events")
    op.execute(
        sa.text(
            "DELETE FROM audit_events WHERE actor_id IS NULL OR student_id IS NULL "
            "OR action NOT IN ('view', 'change')"
        )
    )
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_constraint(op.f("ck_audit_events_action_allowed"), type_="check")
        batch.drop_column("subject")
        batch.drop_column("status")
        batch.alter_column("student_id", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("actor_id", existing_type=sa.Integer(), nullable=False)
        batch.create_check_constraint(op.f("ck_audit_events_action_allowed"), _ACTIONS_BEFORE)
    op.drop_index(op.f("ix_sign_in_limits_until"), table_name="sign_in_limits")
    op.drop_table("sign_in_limits")
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=320), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failures")),
    )
    op.create_index("ix_sign_in_failures_key_at", "sign_in_failures", ["key", "at"])
