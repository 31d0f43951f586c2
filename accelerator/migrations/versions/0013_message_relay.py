"""messages: the relayed request for information and the holder's answer in a consultation's thread

Revision ID: 0013_message_relay
Revises: 0012_metrics_facts
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_message_relay"
down_revision: str | None = "0012_metrics_facts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=32), nullable=False, server_default="message")
        )
        batch_op.add_column(sa.Column("information_request_id", sa.Uuid(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_messages_information_request_id"), ["information_request_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_messages_information_request_id_information_requests"),
            "information_requests",
            ["information_request_id"],
            ["id"],
        )


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_messages_information_request_id_information_requests"),
            type_="foreignkey",
        )
        batch_op.drop_index(batch_op.f("ix_messages_information_request_id"))
        batch_op.drop_column("information_request_id")
        batch_op.drop_column("kind")
