"""The sweep flow in a real Prefect engine: every due rung fires, batch after batch."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from accelerator.metrics.actions import stale_dossiers
from accelerator.metrics.models import DossierFact
from accelerator.shared.db import Database
from accelerator.sla.models import ClockRung
from tests.factories import filed, paris
from workflows.sweep import sweep_flow

pytestmark = pytest.mark.usefixtures("prefect_engine")


def test_sweep_fires_everything_due_beyond_one_batch(db: Database) -> None:
    for _ in range(5):
        filed(db, now=paris(2024, 3, 4, 10), procedures=["DP"])
    # 5 dossiers x (4 take-in-charge rungs + 4 rungs of a 1-month DP delay), all long due.
    assert sweep_flow(batch=2) == 40
    with db.transaction() as session:
        unfired = session.scalar(
            select(func.count()).select_from(ClockRung).where(ClockRung.fired_at.is_(None))
        )
        # The figures' facts follow: every dossier's, refreshed after the re-offers.
        assert stale_dossiers(session, limit=10) == []
        facts = session.scalar(select(func.count()).select_from(DossierFact))
    assert unfired == 0
    assert facts == 5
    assert sweep_flow(batch=2) == 0
