"""evidence: experiments, their assignments, exclusions and exposures

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _stamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("design", sa.JSON(), nullable=False),
        sa.Column("analysis_plan", sa.Text(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", _stamp(), nullable=False),
        sa.Column("launched_at", _stamp(), nullable=True),
        sa.Column("finished_at", _stamp(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('content_variant', 'hint_style', 'review_schedule', 'planner_policy', "
            "'intervention')",
            name=op.f("ck_experiments_kind_allowed"),
        ),
        sa.CheckConstraint(
            "unit IN ('student', 'section')", name=op.f("ck_experiments_unit_allowed")
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'running', 'finished')",
            name=op.f("ck_experiments_status_allowed"),
        ),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_experiments_dates_ordered")),
        _fk("experiments", "created_by_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiments")),
        sa.UniqueConstraint("key", name=op.f("uq_experiments_key")),
    )
    op.create_table(
        "experiment_assignments",
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=True),
        sa.Column("condition", sa.String(length=64), nullable=False),
        sa.Column("assigned_at", _stamp(), nullable=False),
        _fk("experiment_assignments", "experiment_id", "experiments"),
        _fk("experiment_assignments", "student_id", "users"),
        _fk("experiment_assignments", "section_id", "sections"),
        sa.PrimaryKeyConstraint(
            "experiment_id", "student_id", name=op.f("pk_experiment_assignments")
        ),
    )
    op.create_table(
        "experiment_exclusions",
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", _stamp(), nullable=False),
        sa.CheckConstraint(
            "reason IN ('consent', 'accommodation', 'other')",
            name=op.f("ck_experiment_exclusions_reason_allowed"),
        ),
        _fk("experiment_exclusions", "experiment_id", "experiments"),
        _fk("experiment_exclusions", "student_id", "users"),
        _fk("experiment_exclusions", "created_by_id", "users"),
        sa.PrimaryKeyConstraint(
            "experiment_id", "student_id", name=op.f("pk_experiment_exclusions")
        ),
    )
    op.create_table(
        "experiment_exposures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("condition", sa.String(length=64), nullable=False),
        sa.Column("context", sa.String(length=20), nullable=False),
        sa.Column("at", _stamp(), nullable=False),
        _fk("experiment_exposures", "experiment_id", "experiments"),
        _fk("experiment_exposures", "student_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_exposures")),
    )
    op.create_index(
        "ix_experiment_exposures_experiment_student",
        "experiment_exposures",
        ["experiment_id", "student_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_experiment_exposures_experiment_student", table_name="experiment_exposures")
    op.drop_table("experiment_exposures")
    op.drop_table("experiment_exclusions")
    op.drop_table("experiment_assignments")
    op.drop_table("experiments")
