"""The live learner state: stored state, mastery events, model versions, background jobs

The ``mastery`` table becomes the full learner state of each student and competency under a
model version. It is derived from the attempt log, so it is rebuilt rather than converted: the
upgrade queues a ``rebuild`` job, which the worker (``learnway worker``, or the one that
``learnway serve`` starts) runs.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = (
    "status IN ('not_started', 'practicing', 'mastered', 'due_for_review', 'stuck', 'likely_known')"
)


def _mastery(statuses: str, *, full: bool) -> None:
    state: list[sa.Column[Any]] = (
        [
            sa.Column("model_version", sa.Integer(), nullable=False),
            sa.Column("p_mastery", sa.Float(), nullable=False),
            sa.Column("evidence", sa.Float(), nullable=False),
            sa.Column("evidence_count", sa.Integer(), nullable=False),
            sa.Column("no_progress", sa.Integer(), nullable=False),
            sa.Column("peak", sa.Float(), nullable=False),
            sa.Column("hint_rate", sa.Float(), nullable=False),
            sa.Column("reviews", sa.Integer(), nullable=False),
            sa.Column("mastered_once", sa.Boolean(), nullable=False),
        ]
        if full
        else [
            sa.Column("p_mastery", sa.Float(), nullable=False),
            sa.Column("evidence_count", sa.Integer(), nullable=False),
        ]
    )
    key = (
        ["student_id", "competency_id", "model_version"]
        if full
        else ["student_id", "competency_id"]
    )
    op.create_table(
        "mastery",
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("competency_id", sa.Integer(), nullable=False),
        *state,
        sa.Column("last_evidence_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(statuses, name=op.f("ck_mastery_status_allowed")),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["competencies.id"],
            name=op.f("fk_mastery_competency_id_competencies"),
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["users.id"], name=op.f("fk_mastery_student_id_users")
        ),
        sa.PrimaryKeyConstraint(*key, name=op.f("pk_mastery")),
    )
    op.create_index(op.f("ix_mastery_competency_id"), "mastery", ["competency_id"], unique=False)


def upgrade() -> None:
    op.drop_index(op.f("ix_mastery_competency_id"), table_name="mastery")
    op.drop_table("mastery")
    _mastery(STATUSES, full=True)
    op.create_table(
        "mastery_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("competency_id", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=False),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("p_before", sa.Float(), nullable=False),
        sa.Column("p_after", sa.Float(), nullable=False),
        sa.Column("mastered_change", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=20), nullable=False),
        sa.Column("attempt_id", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "cause IN ('attempt', 'replay', 'recalibration', 'placement')",
            name=op.f("ck_mastery_events_cause_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["competency_id"], ["competencies.id"],
            name=op.f("fk_mastery_events_competency_id_competencies"),
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["users.id"], name=op.f("fk_mastery_events_student_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mastery_events")),
    )  # fmt: skip
    op.create_index(
        "ix_mastery_events_student_at", "mastery_events", ["student_id", "model_version", "at"]
    )
    op.create_index("ix_mastery_events_at", "mastery_events", ["at"])
    op.create_table(
        "learner_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("framework_id", sa.Integer(), nullable=False),
        sa.Column("family", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('building', 'active', 'retired')",
            name=op.f("ck_learner_models_status_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["framework_id"], ["frameworks.id"],
            name=op.f("fk_learner_models_framework_id_frameworks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learner_models")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_learner_models_framework_id"), "learner_models", ["framework_id"], unique=False
    )
    jobs = op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("run_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')",
            name=op.f("ck_jobs_status_allowed"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index("ix_jobs_status_run_after", "jobs", ["status", "run_after"])
    op.create_index("ix_jobs_key", "jobs", ["key"])
    if op.get_bind().execute(sa.text("SELECT count(*) FROM attempts")).scalar():
        now = sa.func.now()
        op.execute(
            jobs.insert().values(
                kind="rebuild", key="rebuild", payload={}, status="queued", tries=0,
                run_after=now, created_at=now,
            )
        )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_jobs_key", table_name="jobs")
    op.drop_index("ix_jobs_status_run_after", table_name="jobs")
    op.drop_table("jobs")
    op.drop_index(op.f("ix_learner_models_framework_id"), table_name="learner_models")
    op.drop_table("learner_models")
    op.drop_index("ix_mastery_events_at", table_name="mastery_events")
    op.drop_index("ix_mastery_events_student_at", table_name="mastery_events")
    op.drop_table("mastery_events")
    op.drop_index(op.f("ix_mastery_competency_id"), table_name="mastery")
    op.drop_table("mastery")
    # The old cache is derived from the attempts; `learnway calibrate` or a replay refills it.
    _mastery(STATUSES.replace(", 'likely_known'", ""), full=False)
