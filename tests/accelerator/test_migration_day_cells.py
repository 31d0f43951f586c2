"""Migration 0022 fills in the facts' days from their instants, in Paris time, on both
databases, and the cells rebuilt after it give the same figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text

from accelerator.catalogue.actions import load_catalogue
from accelerator.metrics import queries
from accelerator.metrics.actions import refresh_facts
from accelerator.metrics.facts import REPORTING_ZONE
from accelerator.metrics.schemas import Filters
from accelerator.migrations.commands import alembic_config, upgrade
from accelerator.shared.db import Database, get_database
from tests.conftest import BACKENDS, _create_postgres_database, _drop_postgres_database
from tests.metrics_dataset import NOW, build

DAYS = {
    "consultation_facts": "SELECT consultation_id, sent_day, finished_day FROM consultation_facts",
    "dossier_facts": "SELECT dossier_id, filed_day FROM dossier_facts",
}


@pytest.fixture(params=BACKENDS)
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Database]]:
    """A database of its own: the test takes its schema back and forth."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrated.db'}"
    else:
        url = _create_postgres_database()
    upgrade(url)
    database = get_database(url)
    with database.transaction() as session:
        load_catalogue(session)
    yield url, database
    database.dispose()
    if request.param == "postgresql":
        _drop_postgres_database(url)


def _days(database: Database) -> dict[str, set[tuple[Any, ...]]]:
    with database.engine.connect() as connection:
        return {table: set(connection.execute(text(sql)).all()) for table, sql in DAYS.items()}


def test_the_days_are_filled_in_from_the_instants_in_paris_time(
    fresh: tuple[str, Database],
) -> None:
    url, database = fresh
    history = build(database)
    derived = _days(database)
    with database.transaction(read_only=True) as session:
        before = queries.summary(session, Filters(), now=NOW).model_dump()
    # B's second-cycle SDIS fell tacit at 00:00 in Paris on 16 July: still the 15th in UTC.
    tacit = str(history.consultations["B2:SDIS-65"]).replace("-", "")
    assert any(
        str(row[0]).replace("-", "") == tacit and row[2] == "2026-07-16"
        for row in derived["consultation_facts"]
    )
    command.downgrade(alembic_config(url), "0021_procedure_facts")
    upgrade(url)
    assert _days(database) == derived
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM metrics_rollups")).scalar() == 0
    with database.transaction() as session:
        refresh_facts(session, now=NOW)  # the cells were emptied: rebuilt
    with database.transaction(read_only=True) as session:
        assert queries.summary(session, Filters(), now=NOW).model_dump() == before
        day = dt.datetime(2026, 6, 2, tzinfo=REPORTING_ZONE)
        assert queries.summary(
            session, Filters(start=day, end=day + dt.timedelta(days=10)), now=NOW
        ).administrations
