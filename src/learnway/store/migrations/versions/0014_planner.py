"""planner: kinds of evidence and the school calendar

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KINDS = "kind IN ('answer', 'placement', 'worked_example')"


def upgrade() -> None:
    with op.batch_alter_table("attempts") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=20), server_default="answer", nullable=False)
        )
        batch.create_check_constraint(op.f("ck_attempts_kind_allowed"), _KINDS)
    with op.batch_alter_table("sections") as batch:
        batch.add_column(sa.Column("practice_weekdays", sa.String(length=7), nullable=True))
    op.create_table(
        "section_days_off",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_section_days_off_ordered")),
        sa.ForeignKeyConstraint(
            ["section_id"], ["sections.id"], name=op.f("fk_section_days_off_section_id_sections")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_section_days_off")),
    )
    op.create_index(op.f("ix_section_days_off_section_id"), "section_days_off", ["section_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_section_days_off_section_id"), table_name="section_days_off")
    op.drop_table("section_days_off")
    with op.batch_alter_table("sections") as batch:
        batch.drop_column("practice_weekdays")
    with op.batch_alter_table("attempts") as batch:
        batch.drop_constraint(op.f("ck_attempts_kind_allowed"), type_="check")
        batch.drop_column("kind")
