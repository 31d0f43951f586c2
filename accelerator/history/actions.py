"""Append to the history; the only writer of ``history_entries``."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from sqlalchemy.orm import Session

from accelerator.history.actor import Actor
from accelerator.history.models import HistoryEntry

log = logging.getLogger("accelerator.history")


def record(
    session: Session,
    *,
    dossier_id: uuid.UUID,
    actor: Actor,
    at: dt.datetime,
    entity: str,
    event: str,
    message: str,
    from_status: str | None = None,
    to_status: str | None = None,
    consultation_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
) -> HistoryEntry:
    """Append one history row (who, what, from, to, when)."""
    entry = HistoryEntry(
        dossier_id=dossier_id,
        consultation_id=consultation_id,
        at=at,
        actor_id=actor.user_id,
        actor_label=actor.label,
        entity=entity,
        event=event,
        from_status=from_status,
        to_status=to_status,
        message=message,
        details=details or {},
    )
    session.add(entry)
    log.info(
        "%s",
        message,
        extra={
            "event": f"{entity}.{event}",
            "dossier_id": str(dossier_id),
            "actor": actor.label,
            **({"consultation_id": str(consultation_id)} if consultation_id else {}),
            **({"to_status": to_status} if to_status else {}),
        },
    )
    return entry
