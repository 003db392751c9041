"""Any learner model serves: the fitted estimator with its version, each student's online state

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("learner_models") as batch:
        batch.add_column(sa.Column("model", sa.LargeBinary(), nullable=True))
    op.create_table(
        "learner_model_states",
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["student_id"], ["users.id"], name=op.f("fk_learner_model_states_student_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["model_version"], ["learner_models.id"], ondelete="CASCADE",
            name=op.f("fk_learner_model_states_model_version_learner_models"),
        ),
        sa.PrimaryKeyConstraint(
            "student_id", "model_version", name=op.f("pk_learner_model_states")
        ),
    )  # fmt: skip
    op.create_index(
        op.f("ix_learner_model_states_model_version"), "learner_model_states", ["model_version"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_learner_model_states_model_version"), "learner_model_states")
    op.drop_table("learner_model_states")
    with op.batch_alter_table("learner_models") as batch:
        batch.drop_column("model")
