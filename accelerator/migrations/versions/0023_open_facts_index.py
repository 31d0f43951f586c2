"""metrics: a partial index of the open consultations' facts, covering what the summary's
open work reads (an index-only scan on PostgreSQL instead of a heap page per open item)

Revision ID: 0023_open_facts_index
Revises: 0022_day_cells
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_open_facts_index"
down_revision: str | None = "0022_day_cells"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_INCLUDE = [
    "target_due_at",
    "target_risk_at",
    "legal_due_at",
    "procedures",
    "arrondissement_code",
    "cycle",
]


def upgrade() -> None:
    op.create_index(
        "ix_consultation_facts_open",
        "consultation_facts",
        ["administration_code", "sent_at"],
        postgresql_include=OPEN_INCLUDE,
        postgresql_where=sa.text("finished_at IS NULL"),
        sqlite_where=sa.text("finished_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_consultation_facts_open", table_name="consultation_facts")
