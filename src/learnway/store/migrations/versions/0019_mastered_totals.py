"""Competencies mastered per student, kept by the database beside the live state

The leader's reports count each student's mastered competencies (review due included) over a
whole district. Counting them from ``mastery`` reads every state row of every student;
``mastered_totals`` holds the count per student and model version, kept up to date by
triggers on ``mastery`` in the same statement as each state row written (one small upsert when
a row enters or leaves the mastered statuses, nothing otherwise), and filled here from the
state already stored.

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MASTERED = "('mastered', 'due_for_review')"

ADD = """INSERT INTO mastered_totals (student_id, model_version, mastered)
VALUES (NEW.student_id, NEW.model_version, 1)
ON CONFLICT (student_id, model_version) DO UPDATE SET mastered = mastered_totals.mastered + 1"""
TAKE = """UPDATE mastered_totals SET mastered = mastered - 1
WHERE student_id = OLD.student_id AND model_version = OLD.model_version"""

POSTGRES = f"""
CREATE FUNCTION mastered_totals_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status IN {MASTERED} THEN
        {TAKE};
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.status IN {MASTERED} THEN
        {ADD};
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER mastered_totals_insert AFTER INSERT ON mastery FOR EACH ROW
    WHEN (NEW.status IN {MASTERED}) EXECUTE FUNCTION mastered_totals_follow();
CREATE TRIGGER mastered_totals_delete AFTER DELETE ON mastery FOR EACH ROW
    WHEN (OLD.status IN {MASTERED}) EXECUTE FUNCTION mastered_totals_follow();
CREATE TRIGGER mastered_totals_update AFTER UPDATE ON mastery FOR EACH ROW
    WHEN ((OLD.status IN {MASTERED}) IS DISTINCT FROM (NEW.status IN {MASTERED})
          OR OLD.student_id <> NEW.student_id OR OLD.model_version <> NEW.model_version)
    EXECUTE FUNCTION mastered_totals_follow();
"""

SQLITE = [
    f"""CREATE TRIGGER mastered_totals_insert AFTER INSERT ON mastery
    WHEN NEW.status IN {MASTERED} BEGIN {ADD}; END""",
    f"""CREATE TRIGGER mastered_totals_delete AFTER DELETE ON mastery
    WHEN OLD.status IN {MASTERED} BEGIN {TAKE}; END""",
    f"""CREATE TRIGGER mastered_totals_update_from AFTER UPDATE ON mastery
    WHEN OLD.status IN {MASTERED} AND (NEW.status NOT IN {MASTERED}
        OR OLD.student_id <> NEW.student_id OR OLD.model_version <> NEW.model_version)
    BEGIN {TAKE}; END""",
    f"""CREATE TRIGGER mastered_totals_update_to AFTER UPDATE ON mastery
    WHEN NEW.status IN {MASTERED} AND (OLD.status NOT IN {MASTERED}
        OR OLD.student_id <> NEW.student_id OR OLD.model_version <> NEW.model_version)
    BEGIN {ADD}; END""",
]


def upgrade() -> None:
    op.create_table(
        "mastered_totals",
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("mastered", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["student_id"], ["users.id"], ondelete="CASCADE",
            name=op.f("fk_mastered_totals_student_id_users"),
        ),
        sa.PrimaryKeyConstraint("student_id", "model_version", name=op.f("pk_mastered_totals")),
    )  # fmt: skip
    op.execute(
        "INSERT INTO mastered_totals (student_id, model_version, mastered) "
        "SELECT student_id, model_version, count(*) FROM mastery "
        f"WHERE status IN {MASTERED} GROUP BY student_id, model_version"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES)
    else:
        for statement in SQLITE:
            op.execute(statement)


def downgrade() -> None:
    for name in ("insert", "delete", "update", "update_from", "update_to"):
        op.execute(f"DROP TRIGGER IF EXISTS mastered_totals_{name} ON mastery"
                   if op.get_bind().dialect.name == "postgresql"
                   else f"DROP TRIGGER IF EXISTS mastered_totals_{name}")  # fmt: skip
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS mastered_totals_follow()")
    op.drop_table("mastered_totals")
