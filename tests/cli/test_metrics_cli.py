"""``accelerator metrics refresh``: what an operator runs right after an upgrade that empties
the managers' rollups (migration 0022), instead of waiting for the next sweep."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from accelerator.metrics.models import MetricsRollup
from tests.cli.test_cli import accelerator
from tests.metrics_dataset import build


def _cells(db: Any) -> dict[str, dict[str, Any]]:
    """Every cell, each column's value (the sketches' bytes included)."""
    columns = MetricsRollup.__table__.columns
    with db.transaction(read_only=True) as session:
        return {
            row.key: {c.name: getattr(row, c.key) for c in columns}
            for row in session.scalars(select(MetricsRollup))
        }


def test_refresh_rebuilds_emptied_rollups_as_they_were(db: Any, database_url: str) -> None:
    build(db)
    before = _cells(db)
    assert before
    with db.transaction() as session:
        session.execute(delete(MetricsRollup))  # what the upgrade to 0022 leaves
    done = accelerator("metrics", "refresh", database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert f"0 lignes dérivées, {len(before)} agrégats" in done.stdout, done.stdout
    assert _cells(db) == before


def test_refresh_of_an_empty_database_derives_nothing(db: Any, database_url: str) -> None:
    done = accelerator("metrics", "refresh", database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert "Chiffres du pilotage à jour : 0 lignes dérivées, 0 agrégats" in done.stdout
