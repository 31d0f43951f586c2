"""messages: the threads of dossiers and consultations, their documents, read markers

Revision ID: 0009_messages
Revises: 0008_documents
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from accelerator.shared.db import UTCDateTime

revision: str = "0009_messages"
down_revision: str | None = "0008_documents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("dossier_id", sa.Uuid(), nullable=False),
        sa.Column("consultation_id", sa.Uuid(), nullable=True),
        sa.Column("thread", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossiers.id"], name=op.f("fk_messages_dossier_id_dossiers")
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_messages_consultation_id_consultations"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_messages_author_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("thread", "seq", name=op.f("uq_messages_thread_seq")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_messages_dossier_id"), ["dossier_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_messages_consultation_id"), ["consultation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_messages_thread"), ["thread"], unique=False)
    op.create_table(
        "message_documents",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_message_documents_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_message_documents_document_id_documents"),
        ),
        sa.PrimaryKeyConstraint("message_id", "document_id", name=op.f("pk_message_documents")),
    )
    op.create_table(
        "message_reads",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("thread", sa.String(length=64), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("read_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_message_reads_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "thread", name=op.f("pk_message_reads")),
    )


def downgrade() -> None:
    """Revert."""
    op.drop_table("message_reads")
    op.drop_table("message_documents")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_thread"))
        batch_op.drop_index(batch_op.f("ix_messages_consultation_id"))
        batch_op.drop_index(batch_op.f("ix_messages_dossier_id"))
    op.drop_table("messages")
