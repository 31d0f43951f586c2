"""consultations: no copy of the deadline (due_at); the deadline clock holds it

The copy was written when the consultation was sent and went stale at the first pause,
resumption, interruption or calendar change; every reader now joins the clock.

Revision ID: 0016_consultation_due_from_clock
Revises: 0015_config_journal
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from accelerator.shared.db import UTCDateTime

revision: str = "0016_consultation_due_from_clock"
down_revision: str | None = "0015_config_journal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.drop_column("due_at")


def downgrade() -> None:
    """Revert: the copy comes back from each consultation's deadline clock."""
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_at", UTCDateTime(), nullable=True))
    op.execute(
        "UPDATE consultations SET due_at = (SELECT clocks.due_at FROM clocks WHERE "
        "clocks.consultation_id = consultations.id AND clocks.kind = 'consultation_deadline')"
    )
