"""a competency's probability of forgetting between attempts (fitted by calibration)

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("competencies", sa.Column("p_forget", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("competencies") as batch:
        batch.drop_column("p_forget")
