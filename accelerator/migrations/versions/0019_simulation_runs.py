"""simulation runs: the what-ifs managers queue from /pilotage/simulation

Revision ID: 0019_simulation_runs
Revises: 0018_metrics_rollups
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from accelerator.shared.db import UTCDateTime

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision: str = "0019_simulation_runs"
down_revision: str | None = "0018_metrics_rollups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "simulation_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("requested_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=True),
        sa.Column("dossiers", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("scenario", JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("result", JSON, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_simulation_runs_requested_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_simulation_runs")),
    )
    with op.batch_alter_table("simulation_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_simulation_runs_requested_at"), ["requested_at"], unique=False
        )
        batch_op.create_index(
            "ix_simulation_runs_status_requested", ["status", "requested_at"], unique=False
        )


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("simulation_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_simulation_runs_status_requested")
        batch_op.drop_index(batch_op.f("ix_simulation_runs_requested_at"))
    op.drop_table("simulation_runs")
