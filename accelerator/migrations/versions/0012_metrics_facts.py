"""metrics: the figures' derived facts, one row per consultation and per filed dossier

Revision ID: 0012_metrics_facts
Revises: 0011_definition_on_breach
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from accelerator.shared.db import UTCDateTime

revision: str = "0012_metrics_facts"
down_revision: str | None = "0011_definition_on_breach"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "consultation_facts",
        sa.Column("consultation_id", sa.Uuid(), nullable=False),
        sa.Column("source_version", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Uuid(), nullable=False),
        sa.Column("administration_code", sa.String(length=32), nullable=False),
        sa.Column("consultation_type_code", sa.String(length=64), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("arrondissement_code", sa.String(length=8), nullable=True),
        sa.Column("procedures", sa.String(length=400), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_week", sa.String(length=8), nullable=False),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_week", sa.String(length=8), nullable=True),
        sa.Column("held_days", sa.Float(), nullable=True),
        sa.Column("held_business_days", sa.Float(), nullable=True),
        sa.Column("elapsed_days", sa.Float(), nullable=True),
        sa.Column("waiting_days", sa.Float(), nullable=False),
        sa.Column("waiting_since", UTCDateTime(timezone=True), nullable=True),
        sa.Column("legal_due_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("target_due_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("target_risk_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("on_time_legal", sa.Boolean(), nullable=True),
        sa.Column("on_time_target", sa.Boolean(), nullable=True),
        sa.Column("lateness_days", sa.Float(), nullable=True),
        sa.Column("lateness_business_days", sa.Float(), nullable=True),
        sa.Column("refreshed_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_consultation_facts_consultation_id_consultations"),
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossiers.id"], name=op.f("fk_consultation_facts_dossier_id_dossiers")
        ),
        sa.PrimaryKeyConstraint("consultation_id", name=op.f("pk_consultation_facts")),
    )
    with op.batch_alter_table("consultation_facts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consultation_facts_dossier_id"), ["dossier_id"], unique=False
        )
        batch_op.create_index(
            "ix_consultation_facts_admin_finished",
            ["administration_code", "finished_at"],
            unique=False,
        )
        batch_op.create_index("ix_consultation_facts_sent_at", ["sent_at"], unique=False)
    op.create_table(
        "dossier_facts",
        sa.Column("dossier_id", sa.Uuid(), nullable=False),
        sa.Column("source_version", sa.Integer(), nullable=False),
        sa.Column("arrondissement_code", sa.String(length=8), nullable=True),
        sa.Column("procedures", sa.String(length=400), nullable=False),
        sa.Column("filed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("filed_week", sa.String(length=8), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("taken_in_charge_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("take_charge_due_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("take_charge_hours", sa.Float(), nullable=True),
        sa.Column("refreshed_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossiers.id"], name=op.f("fk_dossier_facts_dossier_id_dossiers")
        ),
        sa.PrimaryKeyConstraint("dossier_id", name=op.f("pk_dossier_facts")),
    )
    with op.batch_alter_table("dossier_facts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dossier_facts_filed_at"), ["filed_at"], unique=False)


def downgrade() -> None:
    """Revert."""
    op.drop_table("dossier_facts")
    op.drop_table("consultation_facts")
