"""Read side of the outbox and deliveries, for monitoring."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accelerator.mail.models import EmailDelivery
from accelerator.outbox.models import OutboxMessage
from accelerator.webhooks.models import WebhookDelivery


@dataclass(frozen=True)
class OutboxHealth:
    """Backlog and delivery figures at one instant."""

    pending_by_topic: dict[str, int]
    retrying: int
    oldest_pending_seconds: float
    delivered: int
    emails_sent: int
    webhooks_delivered: int
    webhooks_failing: int


def outbox_health(session: Session, *, now: dt.datetime) -> OutboxHealth:
    """How much waits in the outbox, since when, and what was delivered."""
    pending = dict(
        session.execute(
            select(OutboxMessage.topic, func.count())
            .where(OutboxMessage.delivered_at.is_(None))
            .group_by(OutboxMessage.topic)
        ).all()
    )
    oldest = session.scalar(
        select(func.min(OutboxMessage.created_at)).where(OutboxMessage.delivered_at.is_(None))
    )
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    return OutboxHealth(
        pending_by_topic={str(k): int(v) for k, v in pending.items()},
        retrying=session.scalar(
            select(func.count()).where(
                OutboxMessage.delivered_at.is_(None), OutboxMessage.last_error.is_not(None)
            )
        )
        or 0,
        oldest_pending_seconds=(now - oldest).total_seconds() if oldest else 0.0,
        delivered=session.scalar(
            select(func.count()).where(OutboxMessage.delivered_at.is_not(None))
        )
        or 0,
        emails_sent=session.scalar(select(func.count()).select_from(EmailDelivery)) or 0,
        webhooks_delivered=session.scalar(
            select(func.count()).where(WebhookDelivery.delivered_at.is_not(None))
        )
        or 0,
        webhooks_failing=session.scalar(
            select(func.count()).where(
                WebhookDelivery.delivered_at.is_(None), WebhookDelivery.last_error.is_not(None)
            )
        )
        or 0,
    )
