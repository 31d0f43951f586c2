"""Read side of the outbox, for monitoring."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from accelerator.outbox.models import OutboxMessage


@dataclass(frozen=True)
class OutboxHealth:
    """Backlog and delivery figures at one instant."""

    pending_by_topic: dict[str, int]
    retrying_by_topic: dict[str, int]
    delivered_by_topic: dict[str, int]
    oldest_pending_seconds: float


def outbox_health(session: Session, *, now: dt.datetime) -> OutboxHealth:
    """How much waits in the outbox, since when, and what was delivered, by topic."""

    def by_topic(*conditions: ColumnElement[bool]) -> dict[str, int]:
        rows = session.execute(
            select(OutboxMessage.topic, func.count())
            .where(*conditions)
            .group_by(OutboxMessage.topic)
        )
        return {str(topic): int(count) for topic, count in rows.all()}

    oldest = session.scalar(
        select(func.min(OutboxMessage.created_at)).where(OutboxMessage.delivered_at.is_(None))
    )
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    return OutboxHealth(
        pending_by_topic=by_topic(OutboxMessage.delivered_at.is_(None)),
        retrying_by_topic=by_topic(
            OutboxMessage.delivered_at.is_(None), OutboxMessage.last_error.is_not(None)
        ),
        delivered_by_topic=by_topic(OutboxMessage.delivered_at.is_not(None)),
        oldest_pending_seconds=(now - oldest).total_seconds() if oldest else 0.0,
    )
