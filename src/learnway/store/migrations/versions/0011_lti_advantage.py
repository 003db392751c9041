"""LTI Advantage: platform key sets by URL, deep links, line items, roster syncs

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# The models of these tables live in the web package; importing it registers them on the
# store's metadata, so that the schema test compares them too.
from learnway.web import _lti_models  # noqa: F401

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _stamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("lti_platforms") as batch:
        batch.add_column(sa.Column("jwks_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("jwks_fetched_at", _stamp(), nullable=True))
        batch.add_column(sa.Column("token_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("frame_ancestors", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("school_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_lti_platforms_school_id_orgs"), "orgs", ["school_id"], ["id"]
        )
    with op.batch_alter_table("lti_launch_states") as batch:
        batch.add_column(sa.Column("target_link_uri", sa.Text(), nullable=True))
    op.create_table(
        "lti_tool_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("created_at", _stamp(), nullable=False),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_lti_tool_keys")),
    )
    op.create_table(
        "lti_registration_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _stamp(), nullable=False),
        sa.Column("expires_at", _stamp(), nullable=False),
        sa.Column("used_at", _stamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["school_id"], ["orgs.id"], name=op.f("fk_lti_registration_codes_school_id_orgs")
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_lti_registration_codes")),
    )
    op.create_table(
        "lti_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("sub", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["lti_platforms.id"],
            name=op.f("fk_lti_accounts_platform_id_lti_platforms"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_lti_accounts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_accounts")),
        sa.UniqueConstraint("platform_id", "sub", name=op.f("uq_lti_accounts_platform_id")),
    )  # fmt: skip
    op.create_index(op.f("ix_lti_accounts_user_id"), "lti_accounts", ["user_id"])
    op.create_table(
        "lti_contexts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=True),
        sa.Column("memberships_url", sa.Text(), nullable=True),
        sa.Column("lineitems_url", sa.Text(), nullable=True),
        sa.Column("synced_at", _stamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["lti_platforms.id"],
            name=op.f("fk_lti_contexts_platform_id_lti_platforms"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["section_id"], ["sections.id"], name=op.f("fk_lti_contexts_section_id_sections")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_contexts")),
        sa.UniqueConstraint("platform_id", "context_id", name=op.f("uq_lti_contexts_platform_id")),
    )  # fmt: skip
    op.create_table(
        "lti_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("competency_ids", sa.JSON(), nullable=True),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("resource_link_id", sa.String(length=255), nullable=True),
        sa.Column("lineitem_url", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", _stamp(), nullable=False),
        sa.CheckConstraint(
            "competency_ids IS NOT NULL OR activity_id IS NOT NULL",
            name=op.f("ck_lti_links_has_target"),
        ),
        sa.ForeignKeyConstraint(
            ["context_id"], ["lti_contexts.id"],
            name=op.f("fk_lti_links_context_id_lti_contexts"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activities.id"], name=op.f("fk_lti_links_activity_id_activities")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_lti_links_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_links")),
        sa.UniqueConstraint("key", name=op.f("uq_lti_links_key")),
    )  # fmt: skip
    op.create_table(
        "lti_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", _stamp(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", _stamp(), nullable=False),
        sa.Column("sent_at", _stamp(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed')", name=op.f("ck_lti_scores_status_allowed")
        ),
        sa.ForeignKeyConstraint(
            ["link_id"], ["lti_links.id"],
            name=op.f("fk_lti_scores_link_id_lti_links"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_lti_scores_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_scores")),
        sa.UniqueConstraint("link_id", "user_id", name=op.f("uq_lti_scores_link_id")),
    )  # fmt: skip
    op.create_index(op.f("ix_lti_scores_user_id"), "lti_scores", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_lti_scores_user_id"), table_name="lti_scores")
    op.drop_table("lti_scores")
    op.drop_table("lti_links")
    op.drop_table("lti_contexts")
    op.drop_index(op.f("ix_lti_accounts_user_id"), table_name="lti_accounts")
    op.drop_table("lti_accounts")
    op.drop_table("lti_registration_codes")
    op.drop_table("lti_tool_keys")
    with op.batch_alter_table("lti_launch_states") as batch:
        batch.drop_column("target_link_uri")
    with op.batch_alter_table("lti_platforms") as batch:
        batch.drop_constraint(op.f("fk_lti_platforms_school_id_orgs"), type_="foreignkey")
        batch.drop_column("school_id")
        batch.drop_column("frame_ancestors")
        batch.drop_column("token_url")
        batch.drop_column("jwks_fetched_at")
        batch.drop_column("jwks_url")
