"""metrics: each filed dossier's procedures, their legal delay against the actual one; the
administrations consulted on a dossier, for the take-in-charge cells by administration

Revision ID: 0021_procedure_facts
Revises: 0020_take_charge_rollups

The dossiers' facts and the cells are emptied: the first refresh after the upgrade derives
every dossier's facts again, its procedures' with them, and rebuilds the cells
(``metrics.rollups.missing`` / ``rebuild``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from accelerator.shared.db import UTCDateTime

revision: str = "0021_procedure_facts"
down_revision: str | None = "0020_take_charge_rollups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "procedure_facts",
        sa.Column("dossier_id", sa.Uuid(), nullable=False),
        sa.Column("procedure", sa.String(length=64), nullable=False),
        sa.Column("arrondissement_code", sa.String(length=8), nullable=True),
        sa.Column("filed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("legal_due_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("legal_days", sa.Float(), nullable=True),
        sa.Column("answered_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("actual_days", sa.Float(), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"]),
        sa.PrimaryKeyConstraint("dossier_id", "procedure"),
    )
    op.create_index("ix_procedure_facts_answered_at", "procedure_facts", ["answered_at"])
    op.execute("DELETE FROM dossier_facts")
    op.execute("DELETE FROM metrics_rollups")
    with op.batch_alter_table("dossier_facts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("administrations", sa.String(length=1000), nullable=False, server_default=",")
        )


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("dossier_facts", schema=None) as batch_op:
        batch_op.drop_column("administrations")
    op.drop_index("ix_procedure_facts_answered_at", table_name="procedure_facts")
    op.drop_table("procedure_facts")
