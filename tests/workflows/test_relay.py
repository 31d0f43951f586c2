"""The relay batches flow messages; a malformed one is set aside, not the whole batch."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import delete, select, update

from accelerator.dossiers.models import Dossier, ProposedAdministration
from accelerator.outbox.actions import Queued, enqueue
from accelerator.outbox.models import OutboxMessage
from accelerator.outbox.topics import Topic
from accelerator.shared.config import get_settings
from accelerator.shared.db import Database, utcnow
from tests.factories import filed, paris
from workflows.relay import drain_once

pytestmark = pytest.mark.usefixtures("prefect_engine")


def test_a_malformed_flow_message_does_not_hold_up_its_batch(db: Database) -> None:
    first = filed(db, now=paris(2026, 3, 2, 10), attributes={"near_monument": True})
    second = filed(db, now=paris(2026, 3, 2, 10), attributes={"public_access_building": True})
    with db.transaction() as session:
        # Both dossiers waiting for their intake, and a message written by a buggy release.
        session.execute(delete(ProposedAdministration))
        session.execute(update(Dossier).values(routed_at=None))
        session.execute(update(OutboxMessage).values(delivered_at=utcnow()))
        for dossier_id in (first, second):
            enqueue(session, Queued(Topic.INTAKE, {"dossier_id": str(dossier_id)}), now=utcnow())
        bad = enqueue(session, Queued(Topic.INTAKE, {"dossier": "ACC-2026-00001"}), now=utcnow()).id

    assert drain_once(db) == 3
    with db.transaction() as session:
        routed = session.scalars(select(Dossier.id).where(Dossier.routed_at.is_not(None)))
        assert set(routed) == {first, second}
        message = session.get_one(OutboxMessage, bad)
        assert message.delivered_at is None and message.attempts == 1
        assert "dossier_id" in (message.last_error or "")
        pending = session.scalars(select(OutboxMessage).where(OutboxMessage.delivered_at.is_(None)))
        assert [m.id for m in pending] == [bad]


@pytest.fixture
def batch_window(monkeypatch: pytest.MonkeyPatch) -> Iterator[float]:
    monkeypatch.setenv("ACCELERATOR_FLOW_BATCH_WINDOW_SECONDS", "30")
    get_settings.cache_clear()
    yield 30.0
    monkeypatch.undo()
    get_settings.cache_clear()


def _waiting_for_intake(db: Database, *, queued: dt.datetime) -> list[uuid.UUID]:
    """Two filed dossiers whose intake messages were queued at ``queued``."""
    dossiers = [
        filed(db, now=paris(2026, 3, 2, 10), attributes={"near_monument": True}),
        filed(db, now=paris(2026, 3, 2, 10), attributes={"public_access_building": True}),
    ]
    with db.transaction() as session:
        session.execute(delete(ProposedAdministration))
        session.execute(update(Dossier).values(routed_at=None))
        session.execute(update(OutboxMessage).values(delivered_at=utcnow()))
        for dossier_id in dossiers:
            enqueue(session, Queued(Topic.INTAKE, {"dossier_id": str(dossier_id)}), now=queued)
    return dossiers


def _routed(db: Database) -> set[uuid.UUID]:
    with db.transaction() as session:
        return set(session.scalars(select(Dossier.id).where(Dossier.routed_at.is_not(None))))


def test_with_a_batch_window_flow_messages_wait_for_a_full_batch(
    db: Database, batch_window: float
) -> None:
    dossiers = _waiting_for_intake(db, queued=utcnow())

    assert drain_once(db, flow_batch_size=3) == 0  # 2 of 3, queued just now: they wait
    assert _routed(db) == set()
    assert drain_once(db, flow_batch_size=2) == 2  # a full batch goes at once
    assert _routed(db) == set(dossiers)


def test_with_a_batch_window_the_oldest_message_waits_no_longer_than_the_window(
    db: Database, batch_window: float
) -> None:
    dossiers = _waiting_for_intake(db, queued=utcnow() - dt.timedelta(seconds=batch_window + 1))

    assert drain_once(db, flow_batch_size=3) == 2
    assert _routed(db) == set(dossiers)
