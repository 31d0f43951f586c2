"""configuration journal (config_changes); administrations: contact e-mail and active flag

Revision ID: 0015_config_journal
Revises: 0014_clock_left_on_resume
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from accelerator.shared.db import UTCDateTime

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision: str = "0015_config_journal"
down_revision: str | None = "0014_clock_left_on_resume"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "config_changes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_label", sa.String(length=320), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("before", JSON, nullable=True),
        sa.Column("after", JSON, nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_config_changes_actor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_changes")),
    )
    with op.batch_alter_table("config_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_config_changes_at"), ["at"], unique=False)
        batch_op.create_index("ix_config_changes_kind_at", ["kind", "at"], unique=False)
        batch_op.create_index("ix_config_changes_kind_key", ["kind", "key"], unique=False)
    with op.batch_alter_table("administrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_email", sa.String(length=320), nullable=True))
        batch_op.add_column(
            sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("administrations", schema=None) as batch_op:
        batch_op.drop_column("active")
        batch_op.drop_column("contact_email")
    with op.batch_alter_table("config_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_config_changes_kind_key")
        batch_op.drop_index("ix_config_changes_kind_at")
        batch_op.drop_index(batch_op.f("ix_config_changes_at"))
    op.drop_table("config_changes")
