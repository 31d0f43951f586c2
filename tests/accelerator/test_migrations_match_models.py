"""The schema the Alembic migrations build is the one the models declare, on SQLite and
PostgreSQL: a column, index, foreign key or table added to a model without its migration (or
the reverse) fails here, not in production."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from accelerator.migrations.tables import Base


def test_the_migrated_schema_is_the_models_schema(db: Any) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": False}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
