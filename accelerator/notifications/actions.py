"""Queue notifications to people; delivery (e-mail, webhook) happens after commit."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from accelerator.outbox.actions import enqueue
from accelerator.outbox.topics import Topic


class Template(StrEnum):
    """The notifications the product sends (French templates live with the deliverer)."""

    DOSSIER_FILED = "dossier_filed"
    REFERENT_ASSIGNED = "referent_assigned"
    CONSULTATION_SENT = "consultation_sent"
    DOSSIER_CONSOLIDATED = "dossier_consolidated"
    DOSSIER_CLOSED = "dossier_closed"
    INFORMATION_REQUESTED = "information_requested"
    INFORMATION_RECEIVED = "information_received"
    REMINDER = "reminder"
    BREACH = "breach"
    ESCALATION = "escalation"
    TACIT_OPINION = "tacit_opinion"
    MESSAGE_RECEIVED = "message_received"


def payload_of(
    template: Template,
    *,
    dossier_id: uuid.UUID,
    user_ids: list[uuid.UUID] | None = None,
    administration: str | None = None,
    organisation_id: uuid.UUID | None = None,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The outbox payload of a notification (ids only)."""
    return {
        "template": template.value,
        "dossier_id": str(dossier_id),
        "user_ids": [str(u) for u in user_ids or []],
        "administration": administration,
        "organisation_id": str(organisation_id) if organisation_id else None,
        "context": context or {},
    }


def notify(
    session: Session,
    *,
    template: Template,
    now: dt.datetime,
    dossier_id: uuid.UUID,
    user_ids: list[uuid.UUID] | None = None,
    administration: str | None = None,
    organisation_id: uuid.UUID | None = None,
    context: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> None:
    """Queue ``template`` for some users, an administration's agents or an organisation."""
    enqueue(
        session,
        Topic.NOTIFY,
        payload_of(
            template,
            dossier_id=dossier_id,
            user_ids=user_ids,
            administration=administration,
            organisation_id=organisation_id,
            context=context,
        ),
        now=now,
        dedupe_key=dedupe_key,
    )
