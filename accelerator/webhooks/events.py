"""Events offered to webhooks, queued in the outbox with the change that caused them."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from accelerator.outbox.actions import Queued
from accelerator.outbox.topics import Topic


class Event(StrEnum):
    """What a subscription may listen to."""

    DOSSIER_FILED = "dossier.filed"
    DOSSIER_CONSOLIDATED = "dossier.consolidated"
    DOSSIER_CLOSED = "dossier.closed"
    DOSSIER_WITHDRAWN = "dossier.withdrawn"
    CONSULTATION_CREATED = "consultation.created"
    CONSULTATION_ANSWERED = "consultation.answered"
    CONSULTATION_BREACHED = "consultation.breached"


def event(
    kind: Event,
    *,
    now: dt.datetime,
    dossier_id: uuid.UUID,
    reference: str | None,
    administration: str | None = None,
    data: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> Queued:
    """``kind`` for the subscriptions that listen to it, to queue with
    ``outbox.actions.enqueue`` (delivered after commit)."""
    return Queued(
        Topic.WEBHOOK,
        {
            "event": kind.value,
            "occurred_at": now.isoformat(),
            "dossier_id": str(dossier_id),
            "reference": reference,
            "administration": administration,
            "data": data or {},
        },
        dedupe_key,
    )
