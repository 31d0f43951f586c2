"""metrics rollups: the take-in-charge of filed dossiers by week of filing

Revision ID: 0020_take_charge_rollups
Revises: 0019_simulation_runs

The cells are emptied: the first refresh after the upgrade rebuilds them all from the facts
(``metrics.rollups.missing`` / ``rebuild``), the dossiers' included.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_take_charge_rollups"
down_revision: str | None = "0019_simulation_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    with op.batch_alter_table("metrics_rollups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("taken", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("taken_in_time", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("hours", sa.LargeBinary(), nullable=True))
    op.execute("DELETE FROM metrics_rollups")
    op.create_index("ix_dossier_facts_taken_in_charge_at", "dossier_facts", ["taken_in_charge_at"])


def downgrade() -> None:
    """Revert."""
    op.drop_index("ix_dossier_facts_taken_in_charge_at", table_name="dossier_facts")
    with op.batch_alter_table("metrics_rollups", schema=None) as batch_op:
        batch_op.drop_column("hours")
        batch_op.drop_column("taken_in_time")
        batch_op.drop_column("taken")
