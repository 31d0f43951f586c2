"""metrics: the cells' index covers the counts the weekly flow and the cohorts read (an
index-only scan on PostgreSQL instead of a heap page per administration and week)

Revision ID: 0024_weekly_cells_index
Revises: 0023_open_facts_index
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024_weekly_cells_index"
down_revision: str | None = "0023_open_facts_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["family", "procedure", "arrondissement_code", "cycle", "week"]
WEEK_COUNTS = ["items", "answered", "tacit", "cancelled", "on_time_legal"]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has no INCLUDE: its index stays as it was
    op.drop_index("ix_metrics_rollups_cells", table_name="metrics_rollups")
    op.create_index(
        "ix_metrics_rollups_cells", "metrics_rollups", COLUMNS, postgresql_include=WEEK_COUNTS
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_metrics_rollups_cells", table_name="metrics_rollups")
    op.create_index("ix_metrics_rollups_cells", "metrics_rollups", COLUMNS)
