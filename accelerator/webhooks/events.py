"""Events offered to webhooks, queued in the outbox with the change that caused them."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from accelerator.outbox.actions import enqueue
from accelerator.outbox.topics import Topic


class Event(StrEnum):
    """What a subscription may listen to."""

    DOSSIER_FILED = "dossier.filed"
    DOSSIER_CONSOLIDATED = "dossier.consolidated"
    DOSSIER_CLOSED = "dossier.closed"
    CONSULTATION_CREATED = "consultation.created"
    CONSULTATION_ANSWERED = "consultation.answered"
    CONSULTATION_BREACHED = "consultation.breached"


def publish(
    session: Session,
    event: Event,
    *,
    now: dt.datetime,
    dossier_id: uuid.UUID,
    reference: str | None,
    administration: str | None = None,
    data: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> None:
    """Queue ``event`` for the subscriptions that listen to it (delivered after commit)."""
    enqueue(
        session,
        Topic.WEBHOOK,
        {
            "event": event.value,
            "occurred_at": now.isoformat(),
            "dossier_id": str(dossier_id),
            "reference": reference,
            "administration": administration,
            "data": data or {},
        },
        now=now,
        dedupe_key=dedupe_key,
    )
