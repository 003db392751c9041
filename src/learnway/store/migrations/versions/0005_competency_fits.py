"""knowledge-tracing parameters fitted on the school's attempts, kept apart from the content's

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARAMETERS = ("p_init", "p_learn", "p_guess", "p_slip", "p_forget")


def upgrade() -> None:
    op.create_table(
        "competency_fits",
        sa.Column("competency_id", sa.Integer(), nullable=False),
        *[sa.Column(name, sa.Float(), nullable=False) for name in PARAMETERS],
        sa.Column("model", sa.String(length=40), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("students", sa.Integer(), nullable=False),
        sa.Column("fitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["competencies.id"],
            name=op.f("fk_competency_fits_competency_id_competencies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("competency_id", name=op.f("pk_competency_fits")),
    )


def downgrade() -> None:
    op.drop_table("competency_fits")
