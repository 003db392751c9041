"""xAPI learning record store: statements, documents, client credentials

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "xapi_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xapi_clients")),
        sa.UniqueConstraint("name", name=op.f("uq_xapi_clients_name")),
        sa.UniqueConstraint("key", name=op.f("uq_xapi_clients_key")),
    )
    op.create_table(
        "xapi_statements",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("verb_hash", sa.String(length=64), nullable=False),
        sa.Column("registration", sa.String(length=36), nullable=True),
        sa.Column("voids", sa.String(length=36), nullable=True),
        sa.Column("ref", sa.String(length=36), nullable=True),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("stored", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("attempt_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["xapi_clients.id"],
            name=op.f("fk_xapi_statements_client_id_xapi_clients"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_xapi_statements")),
        sa.UniqueConstraint("id", name=op.f("uq_xapi_statements_id")),
        sa.UniqueConstraint("attempt_id", name=op.f("uq_xapi_statements_attempt_id")),
    )
    for column in ("verb_hash", "registration", "voids", "ref", "stored", "client_id"):
        op.create_index(
            op.f(f"ix_xapi_statements_{column}"), "xapi_statements", [column], unique=False
        )
    op.create_table(
        "xapi_statement_terms",
        sa.Column("statement_seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("direct", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('agent', 'activity')", name=op.f("ck_xapi_statement_terms_kind_allowed")
        ),
        sa.ForeignKeyConstraint(
            ["statement_seq"],
            ["xapi_statements.seq"],
            name=op.f("fk_xapi_statement_terms_statement_seq_xapi_statements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "statement_seq", "kind", "term", name=op.f("pk_xapi_statement_terms")
        ),
    )
    op.create_index(
        "ix_xapi_statement_terms_term", "xapi_statement_terms", ["kind", "term"], unique=False
    )
    op.create_table(
        "xapi_attachments",
        sa.Column("sha2", sa.String(length=128), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha2", name=op.f("pk_xapi_attachments")),
    )
    op.create_table(
        "xapi_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("doc_id", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("etag", sa.String(length=64), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('state', 'activity_profile', 'agent_profile')",
            name=op.f("ck_xapi_documents_kind_allowed"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xapi_documents")),
        sa.UniqueConstraint("key", name=op.f("uq_xapi_documents_key")),
    )
    op.create_index(op.f("ix_xapi_documents_scope"), "xapi_documents", ["scope"], unique=False)
    op.create_table(
        "xapi_activities",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("iri", sa.Text(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_xapi_activities")),
    )
    op.create_table(
        "xapi_activity_map",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("iri", sa.Text(), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["step_id"], ["steps.id"], name=op.f("fk_xapi_activity_map_step_id_steps")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_xapi_activity_map")),
    )
    op.create_index(
        op.f("ix_xapi_activity_map_step_id"), "xapi_activity_map", ["step_id"], unique=False
    )
    op.create_table(
        "xapi_outbox",
        sa.Column("statement_seq", sa.Integer(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("next_try", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["statement_seq"],
            ["xapi_statements.seq"],
            name=op.f("fk_xapi_outbox_statement_seq_xapi_statements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("statement_seq", name=op.f("pk_xapi_outbox")),
    )
    op.create_index(op.f("ix_xapi_outbox_next_try"), "xapi_outbox", ["next_try"], unique=False)


def downgrade() -> None:
    op.drop_table("xapi_outbox")
    op.drop_table("xapi_activity_map")
    op.drop_table("xapi_activities")
    op.drop_table("xapi_documents")
    op.drop_table("xapi_attachments")
    op.drop_table("xapi_statement_terms")
    op.drop_table("xapi_statements")
    op.drop_table("xapi_clients")
