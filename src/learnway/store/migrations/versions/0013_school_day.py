"""school day: a teacher's messages to students, needs marked as seen

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _stamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", _stamp(), nullable=False),
        sa.Column("read_at", _stamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["student_id"], ["users.id"], name=op.f("fk_messages_student_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"], ["users.id"], name=op.f("fk_messages_sender_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    op.create_index(
        "ix_messages_student_created", "messages", ["student_id", "created_at"], unique=False
    )
    op.create_table(
        "needs_seen",
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("seen_by_id", sa.Integer(), nullable=False),
        sa.Column("seen_at", _stamp(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('stuck', 'off_pace', 'inactive', 'support')",
            name=op.f("ck_needs_seen_kind_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["section_id"], ["sections.id"], name=op.f("fk_needs_seen_section_id_sections")
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["users.id"], name=op.f("fk_needs_seen_student_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["seen_by_id"], ["users.id"], name=op.f("fk_needs_seen_seen_by_id_users")
        ),
        sa.PrimaryKeyConstraint(
            "section_id", "student_id", "kind", "day", name=op.f("pk_needs_seen")
        ),
    )


def downgrade() -> None:
    op.drop_table("needs_seen")
    op.drop_index("ix_messages_student_created", table_name="messages")
    op.drop_table("messages")
