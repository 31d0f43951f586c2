"""Write side effects to the outbox; claim and settle them for the relay.

Messages are written in the business transaction and only become visible at commit; the relay
claims a batch with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that several relays
share the work), delivers, then marks each delivered or schedules a retry with backoff.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from accelerator.outbox.models import OutboxMessage
from accelerator.outbox.topics import Topic

LEASE = dt.timedelta(minutes=5)
MAX_BACKOFF = dt.timedelta(hours=1)


def enqueue(
    session: Session,
    topic: Topic,
    payload: dict[str, Any],
    *,
    now: dt.datetime,
    dedupe_key: str | None = None,
) -> OutboxMessage:
    """Add a message to deliver after commit; with ``dedupe_key``, at most one is kept."""
    if dedupe_key is not None:
        existing = session.scalar(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)
        )
        if existing is not None:
            return existing
    message = new_message(topic, payload, now=now, dedupe_key=dedupe_key)
    session.add(message)
    session.flush()
    return message


def new_message(
    topic: Topic, payload: dict[str, Any], *, now: dt.datetime, dedupe_key: str | None = None
) -> OutboxMessage:
    """A message to add in bulk when the caller knows it is new (e.g. a rung fires once)."""
    return OutboxMessage(
        topic=topic.value,
        payload=payload,
        dedupe_key=dedupe_key,
        created_at=now,
        available_at=now,
        attempts=0,
    )


def claim_batch(session: Session, *, now: dt.datetime, limit: int) -> list[OutboxMessage]:
    """Lease up to ``limit`` due messages to this relay (commit to make the lease visible)."""
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.delivered_at.is_(None),
            OutboxMessage.available_at <= now,
            or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until <= now),
        )
        .order_by(OutboxMessage.available_at, OutboxMessage.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    messages = list(session.scalars(query))
    for message in messages:
        message.locked_until = now + LEASE
        message.attempts += 1
    return messages


def mark_delivered(session: Session, message_id: uuid.UUID, *, now: dt.datetime) -> None:
    """Record a successful delivery."""
    message = session.get(OutboxMessage, message_id)
    if message is not None:
        message.delivered_at = now
        message.locked_until = None
        message.last_error = None


def mark_failed(session: Session, message_id: uuid.UUID, *, error: str, now: dt.datetime) -> None:
    """Record a failed attempt and schedule the next one with exponential backoff."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        return
    backoff = min(dt.timedelta(seconds=2 ** min(message.attempts, 12)), MAX_BACKOFF)
    message.available_at = now + backoff
    message.locked_until = None
    message.last_error = error[:4000]
