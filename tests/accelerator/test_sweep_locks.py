"""Concurrent sweeps on PostgreSQL: each rung fires exactly once, and a sweep never WAITS for
a clock or a dossier another transaction holds (``FOR UPDATE SKIP LOCKED``): it skips it,
and the next sweep fires it.

PostgreSQL only, by design: SQLite has no row locks to skip. Every transaction there starts
with ``BEGIN IMMEDIATE`` (accelerator/shared/db.py), so a second sweep waits for the whole database,
not for a row, and ``SKIP LOCKED`` is not even emitted; what this test proves does not exist
on SQLite. (``test_clocks_db`` runs two sweeps at once on both backends.)

A sweep that waited would block until the holder commits; ``lock_timeout`` turns such a wait
into an error after a few seconds, so a regression fails here instead of hanging.
"""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from accelerator.dossiers.models import Dossier
from accelerator.history.models import HistoryEntry
from accelerator.shared.db import Database
from accelerator.sla.models import Clock
from accelerator.sweep.actions import Fired, sweep_batch
from tests.factories import filed, paris

#: Every take-in-charge rung (50 %, 75 %, breach, escalation) of a dossier filed on 2 March
#: at 10:00 is due by then.
LATER = paris(2026, 3, 6)
RUNGS = 4


@pytest.fixture
def pg(db: Database) -> Database:
    """The test database, on PostgreSQL only (see the module docstring for why)."""
    if db.dialect != "postgresql":
        pytest.skip("row locks and SKIP LOCKED exist on PostgreSQL only (SQLite locks the file)")
    return db


def _take_charge_clocks(db: Database, dossiers: list[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    with db.transaction() as session:
        rows = session.execute(
            select(Clock.dossier_id, Clock.id).where(
                Clock.dossier_id.in_(dossiers), Clock.kind == "take_charge"
            )
        ).all()
    return dict(rows)  # type: ignore[arg-type]


def _impatient(session: Session) -> None:
    """Fail after 3 s of waiting for a lock instead of waiting for ever."""
    session.execute(text("SET LOCAL lock_timeout = '3s'"))


def _sweep_alongside(db: Database) -> list[Fired]:
    """A sweep in its own committed transaction, refusing to wait for a lock."""
    with db.transaction() as session:
        _impatient(session)
        return sweep_batch(session, now=LATER)


def _fired_rungs(db: Database) -> Counter[uuid.UUID]:
    with db.transaction() as session:
        return Counter(
            session.scalars(
                select(HistoryEntry.dossier_id).where(HistoryEntry.event.like("rung_%"))
            ).all()
        )


def test_a_second_sweep_skips_the_clocks_the_first_holds_and_every_rung_fires_once(
    pg: Database,
) -> None:
    dossiers = [filed(pg, now=paris(2026, 3, 2, 10)) for _ in range(6)]
    clocks = _take_charge_clocks(pg, dossiers)
    first = pg.sessions()
    try:
        # The first sweep claims two clocks and is still working (not committed).
        held = sweep_batch(first, now=LATER, limit=2)
        held_clocks = {f.clock_id for f in held}
        assert len(held_clocks) == 2 and len(held) == 2 * RUNGS
        # The second sweep does not wait for them: it fires the four others and returns.
        fired = _sweep_alongside(pg)
        assert {f.clock_id for f in fired} == set(clocks.values()) - held_clocks
        assert len(fired) == 4 * RUNGS
        first.commit()
    finally:
        first.close()
    # Nothing left: every rung of every clock fired exactly once, by one sweep or the other.
    assert _sweep_alongside(pg) == []
    keys = [(f.clock_id, f.rung) for f in held + fired]
    assert len(keys) == len(set(keys)) == 6 * RUNGS
    assert _fired_rungs(pg) == Counter({d: RUNGS for d in dossiers})


def test_a_sweep_skips_the_clocks_of_a_dossier_an_action_holds(pg: Database) -> None:
    dossiers = [filed(pg, now=paris(2026, 3, 2, 10)) for _ in range(3)]
    busy = dossiers[0]
    clocks = _take_charge_clocks(pg, dossiers)
    action = pg.sessions()
    try:
        # An action locks the dossier first, then its clocks: the sweep holds clocks already,
        # so waiting for the dossier could deadlock; it leaves them for the next sweep.
        action.scalar(select(Dossier).where(Dossier.id == busy).with_for_update())
        fired = _sweep_alongside(pg)
        assert {f.clock_id for f in fired} == {clocks[d] for d in dossiers[1:]}
        action.rollback()
    finally:
        action.close()
    later = _sweep_alongside(pg)
    assert {f.clock_id for f in later} == {clocks[busy]}
    assert _fired_rungs(pg) == Counter({d: RUNGS for d in dossiers})
