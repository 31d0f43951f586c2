"""deadline definitions: what a breach does beyond its notification (on_breach)

Revision ID: 0011_definition_on_breach
Revises: 0010_web_sessions
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_definition_on_breach"
down_revision: str | None = "0010_web_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    with op.batch_alter_table("deadline_definitions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("on_breach", sa.String(length=32), nullable=True))
    # On by default: every version of the take-in-charge definition re-offers the dossier.
    op.execute("UPDATE deadline_definitions SET on_breach = 'reoffer' WHERE code = 'take_charge'")


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("deadline_definitions", schema=None) as batch_op:
        batch_op.drop_column("on_breach")
