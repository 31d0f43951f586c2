"""metrics: an index of the facts by review cycle and end, for the exact figures of a later
cycle (few opinions, read from the facts) without a scan of every fact

Revision ID: 0025_cycle_facts_index
Revises: 0024_weekly_cells_index
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025_cycle_facts_index"
down_revision: str | None = "0024_weekly_cells_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_consultation_facts_cycle_finished", "consultation_facts", ["cycle", "finished_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_consultation_facts_cycle_finished", table_name="consultation_facts")
