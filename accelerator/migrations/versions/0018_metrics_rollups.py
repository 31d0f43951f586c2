"""metrics rollups: the consultation facts added up by ISO week and filter dimensions

Revision ID: 0018_metrics_rollups
Revises: 0017_web_session_id_token

Created empty: the first refresh after the upgrade finds facts without cells and builds
them from the facts (``metrics.rollups.missing`` / ``rebuild``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_metrics_rollups"
down_revision: str | None = "0017_web_session_id_token"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "metrics_rollups",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("family", sa.String(length=16), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("administration_code", sa.String(length=32), nullable=False),
        sa.Column("procedure", sa.String(length=64), nullable=False),
        sa.Column("arrondissement_code", sa.String(length=8), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        *[
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "items",
                "judged",
                "answered",
                "tacit",
                "cancelled",
                "on_time_legal",
                "on_time_target",
                "breaches",
            )
        ],
        sa.Column("gate_consulted", sa.Integer(), nullable=False),
        sa.Column("gated", sa.Integer(), nullable=False),
        *[
            sa.Column(name, sa.BigInteger(), nullable=False)
            for name in ("gate_delay", "gain_sum", "gain_longest")
        ],
        sa.Column("held", sa.LargeBinary(), nullable=True),
        sa.Column("business", sa.LargeBinary(), nullable=True),
        sa.Column("lateness", sa.LargeBinary(), nullable=True),
        sa.Column("ratio", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(
        "ix_metrics_rollups_cells",
        "metrics_rollups",
        ["family", "procedure", "arrondissement_code", "cycle", "week"],
    )

    op.create_index("ix_consultation_facts_finished_at", "consultation_facts", ["finished_at"])


def downgrade() -> None:
    """Revert."""
    op.drop_index("ix_consultation_facts_finished_at", table_name="consultation_facts")
    op.drop_index("ix_metrics_rollups_cells", table_name="metrics_rollups")
    op.drop_table("metrics_rollups")
