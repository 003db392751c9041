"""placement: a student's placement check in a course

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _stamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "placements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("framework_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _stamp(), nullable=False),
        sa.Column("finished_at", _stamp(), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("pending_step_id", sa.Integer(), nullable=True),
        sa.Column("pending_competency", sa.String(length=255), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("priors", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "status IN ('requested', 'active', 'done', 'skipped')",
            name=op.f("ck_placements_status_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["users.id"], name=op.f("fk_placements_student_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["framework_id"], ["frameworks.id"], name=op.f("fk_placements_framework_id_frameworks")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_placements_requested_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["pending_step_id"], ["steps.id"], name=op.f("fk_placements_pending_step_id_steps")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placements")),
    )
    op.create_index("ix_placements_student_framework", "placements", ["student_id", "framework_id"])


def downgrade() -> None:
    op.drop_index("ix_placements_student_framework", table_name="placements")
    op.drop_table("placements")
