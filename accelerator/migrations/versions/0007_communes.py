"""communes: department column, arrondissement without foreign key (official COG list)

Revision ID: 0007_communes
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_communes"
down_revision: str | None = "0006_webhook_safety"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    with op.batch_alter_table("communes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("department", sa.String(length=3), nullable=True))
        batch_op.drop_constraint(
            "fk_communes_arrondissement_code_arrondissements", type_="foreignkey"
        )
        batch_op.alter_column(
            "arrondissement_code", existing_type=sa.String(length=8), nullable=True
        )
    # Overseas departments have 3-digit codes (971...), the others 2 characters (65, 2A).
    op.execute(
        "UPDATE communes SET department = CASE WHEN insee LIKE '97%' "
        "THEN substr(insee, 1, 3) ELSE substr(insee, 1, 2) END"
    )
    with op.batch_alter_table("communes", schema=None) as batch_op:
        batch_op.alter_column("department", existing_type=sa.String(length=3), nullable=False)


def downgrade() -> None:
    """Revert (communes whose arrondissement the catalogue lacks are deleted)."""
    op.execute(
        "DELETE FROM communes WHERE arrondissement_code IS NULL OR arrondissement_code "
        "NOT IN (SELECT code FROM arrondissements)"
    )
    with op.batch_alter_table("communes", schema=None) as batch_op:
        batch_op.alter_column(
            "arrondissement_code", existing_type=sa.String(length=8), nullable=False
        )
        batch_op.create_foreign_key(
            "fk_communes_arrondissement_code_arrondissements",
            "arrondissements",
            ["arrondissement_code"],
            ["code"],
        )
        batch_op.drop_column("department")
