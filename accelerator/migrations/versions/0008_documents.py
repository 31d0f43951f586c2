"""documents: the pieces each procedure expects, and the documents attached to dossiers

Revision ID: 0008_documents
Revises: 0007_communes
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from accelerator.shared.db import UTCDateTime

revision: str = "0008_documents"
down_revision: str | None = "0007_communes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "procedure_pieces",
        sa.Column("procedure_code", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("mandatory", sa.Boolean(), nullable=False),
        sa.Column("condition", sa.String(length=64), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["procedure_code"],
            ["procedures.code"],
            name=op.f("fk_procedure_pieces_procedure_code_procedures"),
        ),
        sa.PrimaryKeyConstraint("procedure_code", "code", name=op.f("pk_procedure_pieces")),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("dossier_id", sa.Uuid(), nullable=False),
        sa.Column("consultation_id", sa.Uuid(), nullable=True),
        sa.Column("information_request_id", sa.Uuid(), nullable=True),
        sa.Column("piece", sa.String(length=32), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=False),
        sa.Column("charset", sa.String(length=32), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("uploaded_by_id", sa.Uuid(), nullable=False),
        sa.Column("uploaded_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossiers.id"], name=op.f("fk_documents_dossier_id_dossiers")
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_documents_consultation_id_consultations"),
        ),
        sa.ForeignKeyConstraint(
            ["information_request_id"],
            ["information_requests.id"],
            name=op.f("fk_documents_information_request_id_information_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_documents_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_documents_storage_key")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_documents_dossier_id"), ["dossier_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_documents_consultation_id"), ["consultation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_documents_information_request_id"),
            ["information_request_id"],
            unique=False,
        )


def downgrade() -> None:
    """Revert (the stored files are left in the store)."""
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_information_request_id"))
        batch_op.drop_index(batch_op.f("ix_documents_consultation_id"))
        batch_op.drop_index(batch_op.f("ix_documents_dossier_id"))
    op.drop_table("documents")
    op.drop_table("procedure_pieces")
