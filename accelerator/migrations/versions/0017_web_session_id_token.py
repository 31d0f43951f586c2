"""web sessions: the ID token of a sign-in through ProConnect (its logout's hint)

Revision ID: 0017_web_session_id_token
Revises: 0016_consultation_due_from_clock
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_web_session_id_token"
down_revision: str | None = "0016_consultation_due_from_clock"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("id_token", sa.Text(), nullable=True))


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_column("id_token")
