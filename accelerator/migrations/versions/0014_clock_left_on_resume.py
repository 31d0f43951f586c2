"""clocks: the budget a paused clock will count from its resumption (left_amount, left_unit)

Revision ID: 0014_clock_left_on_resume
Revises: 0013_message_relay
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_clock_left_on_resume"
down_revision: str | None = "0013_message_relay"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply. A clock paused before this revision gets its figure at its next projection
    (``accelerator clocks reproject`` or its resumption); until then the pages say « en pause »."""
    with op.batch_alter_table("clocks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("left_amount", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("left_unit", sa.String(length=32), nullable=True))


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("clocks", schema=None) as batch_op:
        batch_op.drop_column("left_unit")
        batch_op.drop_column("left_amount")
