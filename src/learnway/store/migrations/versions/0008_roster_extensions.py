"""OneRoster extension data (ext_ and metadata columns), identifiers

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the roster tables that keep each record's extension data
EXTENDED = (
    "orgs", "users", "demographics", "academic_sessions", "courses", "sections", "enrollments",
)  # fmt: skip


def upgrade() -> None:
    for table in EXTENDED:
        op.add_column(table, sa.Column("extensions", sa.JSON(), nullable=True))
    op.add_column("users", sa.Column("identifier", sa.String(length=255), nullable=True))
    op.create_index(op.f("ix_users_identifier"), "users", ["identifier"])
    op.create_table(
        "user_identifiers",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column("identifier", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_identifiers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "type", "identifier", name=op.f("pk_user_identifiers")),
    )
    op.create_index(op.f("ix_user_identifiers_identifier"), "user_identifiers", ["identifier"])


def downgrade() -> None:
    op.drop_index(op.f("ix_user_identifiers_identifier"), table_name="user_identifiers")
    op.drop_table("user_identifiers")
    op.drop_index(op.f("ix_users_identifier"), table_name="users")
    for table in EXTENDED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("extensions")
            if table == "users":
                batch.drop_column("identifier")
