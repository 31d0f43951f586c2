"""Write side effects to the outbox; claim and settle them for the relay.

Messages are written in the business transaction and only become visible at commit; the relay
claims a batch with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that several relays
share the work), delivers, then marks each delivered or schedules a retry with backoff.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from accelerator.outbox.models import OutboxMessage
from accelerator.outbox.topics import Topic
from accelerator.shared.db import new_id

#: How long a claimed message stays with its relay; a relay that died loses it after this.
LEASE = dt.timedelta(minutes=5)
MAX_BACKOFF = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Queued:
    """A side effect to deliver after commit: its topic, its payload (ids only) and, when
    given, the key under which at most one such message is ever kept."""

    topic: Topic
    payload: dict[str, Any]
    dedupe_key: str | None = None


def enqueue(
    session: Session, item: Queued, *, now: dt.datetime, new: bool = False
) -> OutboxMessage:
    """The one way to queue a side effect: written with the caller's next flush (with its
    other changes, in one batch), visible to the relay at commit.

    With a ``dedupe_key``, the message already queued under it is returned instead, unless
    the caller states it is ``new`` (e.g. a rung fires once): no look-up then.
    """
    if item.dedupe_key is not None and not new:
        existing = _deduplicated(session, item.dedupe_key)
        if existing is not None:
            return existing
    message = _message(item, now=now)
    session.add(message)
    return message


def _deduplicated(session: Session, dedupe_key: str) -> OutboxMessage | None:
    """The message already queued under ``dedupe_key``: still pending in this session, or in
    the database (read without flushing, so the caller's changes stay in one batch)."""
    for pending in session.new:
        if isinstance(pending, OutboxMessage) and pending.dedupe_key == dedupe_key:
            return pending
    with session.no_autoflush:
        return session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))


def _message(item: Queued, *, now: dt.datetime) -> OutboxMessage:
    return OutboxMessage(
        id=new_id(),  # known at once: the message is only written at the caller's next flush
        topic=item.topic.value,
        payload=item.payload,
        dedupe_key=item.dedupe_key,
        created_at=now,
        available_at=now,
        attempts=0,
    )


def _due(now: dt.datetime) -> tuple[Any, ...]:
    return (
        OutboxMessage.delivered_at.is_(None),
        OutboxMessage.available_at <= now,
        or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until <= now),
    )


def batches_ready(
    session: Session,
    *,
    now: dt.datetime,
    topics: Collection[Topic],
    window: dt.timedelta,
    full: int,
) -> list[Topic]:
    """The ``topics`` whose due messages make a batch worth starting: ``full`` of them, or
    the oldest queued at least ``window`` ago (a batch window: fewer, larger flow runs)."""
    rows = session.execute(
        select(OutboxMessage.topic, func.count(), func.min(OutboxMessage.created_at))
        .where(*_due(now), OutboxMessage.topic.in_([t.value for t in topics]))
        .group_by(OutboxMessage.topic)
    )
    return [
        Topic(topic) for topic, count, oldest in rows if count >= full or oldest <= now - window
    ]


def claim_batch(
    session: Session,
    *,
    now: dt.datetime,
    limit: int,
    topics: Collection[Topic] | None = None,
    exclude: Collection[Topic] = (),
    lease: dt.timedelta = LEASE,
) -> list[OutboxMessage]:
    """Lease up to ``limit`` due messages (of ``topics`` if given, none of ``exclude``) to this
    relay, oldest first; commit to make the lease visible."""
    query = select(OutboxMessage).where(*_due(now))
    if topics is not None:
        query = query.where(OutboxMessage.topic.in_([t.value for t in topics]))
    if exclude:
        query = query.where(OutboxMessage.topic.not_in([t.value for t in exclude]))
    query = (
        query.order_by(OutboxMessage.available_at, OutboxMessage.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    messages = list(session.scalars(query))
    for message in messages:
        message.locked_until = now + lease
        message.attempts += 1
    return messages


def mark_delivered(
    session: Session, message_ids: Collection[uuid.UUID], *, now: dt.datetime
) -> None:
    """Record successful deliveries."""
    if message_ids:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(list(message_ids)))
            .values(delivered_at=now, locked_until=None, last_error=None)
        )


def mark_failed(
    session: Session,
    message_id: uuid.UUID,
    *,
    error: str,
    now: dt.datetime,
    max_backoff: dt.timedelta = MAX_BACKOFF,
) -> None:
    """Record a failed attempt and schedule the next one with exponential backoff (2, 4, 8…
    seconds, at most ``max_backoff``)."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        return
    backoff = min(dt.timedelta(seconds=2 ** min(message.attempts, 12)), max_backoff)
    message.available_at = now + backoff
    message.locked_until = None
    message.last_error = error[:4000]
