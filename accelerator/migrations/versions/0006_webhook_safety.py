"""webhook safety: deliveries skipped while paused; no answer text left in the log

Revision ID: 0006_webhook_safety
Revises: 0005
Create Date: 2026-11-27 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from accelerator.shared.db import UTCDateTime

revision: str = "0006_webhook_safety"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("skipped_at", UTCDateTime(timezone=True), nullable=True))
    # Before this revision the log kept up to 300 characters of the receiver's answer and
    # exception texts: keep only an error class, as the sender now writes.
    op.execute(
        "UPDATE webhook_deliveries SET last_error = CASE "
        "WHEN last_status IS NOT NULL AND last_status BETWEEN 300 AND 399 THEN 'redirect' "
        "WHEN last_status IS NOT NULL THEN 'http_status' "
        "ELSE 'connection_error' END "
        "WHERE last_error IS NOT NULL"
    )


def downgrade() -> None:
    """Revert (the error texts removed are not restored)."""
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_column("skipped_at")
