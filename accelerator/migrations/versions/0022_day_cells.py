"""metrics: the day of each fact's sending, end and filing, and the rollups' day cells (a
period's partial weeks read from cells, not from the facts)

Revision ID: 0022_day_cells
Revises: 0021_procedure_facts

The days are filled in from the instants in the reporting zone (Europe/Paris): in SQL on
PostgreSQL, row by row on SQLite (no time zone there). The cells are emptied: the first
refresh after the upgrade rebuilds them, day cells included (``metrics.rollups.missing``).
"""

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = "0022_day_cells"
down_revision: str | None = "0021_procedure_facts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ZONE = "Europe/Paris"
#: (table, key column, (instant column, day column) pairs)
DAYS = (
    (
        "consultation_facts",
        "consultation_id",
        (("sent_at", "sent_day"), ("finished_at", "finished_day")),
    ),
    ("dossier_facts", "dossier_id", (("filed_at", "filed_day"),)),
)


def _sqlite_days(table: str, key: str, pairs: Sequence[tuple[str, str]]) -> None:
    connection = op.get_bind()
    zone = ZoneInfo(ZONE)

    def day(text: str | None) -> str | None:
        if text is None:
            return None
        instant = dt.datetime.fromisoformat(str(text)).replace(tzinfo=dt.UTC)
        return instant.astimezone(zone).date().isoformat()

    columns = ", ".join(instant for instant, _ in pairs)
    rows = connection.execute(sa.text(f"SELECT {key}, {columns} FROM {table}")).all()
    assignments = ", ".join(f"{target} = :{target}" for _, target in pairs)
    statement = sa.text(f"UPDATE {table} SET {assignments} WHERE {key} = :key")
    for first in range(0, len(rows), 5_000):
        connection.execute(
            statement,
            [
                {"key": row[0], **{t: day(v) for (_, t), v in zip(pairs, row[1:], strict=True)}}
                for row in rows[first : first + 5_000]
            ],
        )


def upgrade() -> None:
    """Apply."""
    op.execute("DELETE FROM metrics_rollups")
    with op.batch_alter_table("metrics_rollups", schema=None) as batch_op:
        batch_op.alter_column("week", existing_type=sa.String(length=8), type_=sa.String(length=10))
    for table, key, pairs in DAYS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for _instant, target in pairs:
                batch_op.add_column(sa.Column(target, sa.String(length=10), nullable=True))
        if op.get_bind().dialect.name == "postgresql":
            assignments = ", ".join(
                f"{target} = to_char({instant} AT TIME ZONE '{ZONE}', 'YYYY-MM-DD')"
                for instant, target in pairs
            )
            op.execute(f"UPDATE {table} SET {assignments}")
        else:
            _sqlite_days(table, key, pairs)
        required = pairs[0][1]  # the sending's and the filing's day: never null
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(required, existing_type=sa.String(length=10), nullable=False)


def downgrade() -> None:
    """Revert."""
    for table, _key, pairs in DAYS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for _instant, target in pairs:
                batch_op.drop_column(target)
    op.execute("DELETE FROM metrics_rollups WHERE length(week) > 8")
    with op.batch_alter_table("metrics_rollups", schema=None) as batch_op:
        batch_op.alter_column("week", existing_type=sa.String(length=10), type_=sa.String(length=8))
