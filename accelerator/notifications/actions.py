"""Notifications to people: which template, for whom; delivered by e-mail after commit."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from accelerator.notifications.models import DigestItem, EmailDelivery
from accelerator.notifications.queries import Recipient
from accelerator.outbox.actions import Queued
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
    DOSSIER_WITHDRAWN = "dossier_withdrawn"
    CONSULTATION_CANCELLED = "consultation_cancelled"
    REFERENT_HANDED_OVER = "referent_handed_over"
    TAKE_CHARGE_REOFFERED = "take_charge_reoffered"
    MESSAGE_RECEIVED = "message_received"
    WEEKLY_PACK = "weekly_pack"


def notification(
    template: Template,
    *,
    dossier_id: uuid.UUID | None,
    user_ids: list[uuid.UUID] | None = None,
    administration: str | None = None,
    organisation_id: uuid.UUID | None = None,
    context: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    attachments: list[dict[str, str]] | None = None,
    digest: bool = True,
) -> Queued:
    """``template`` for some users, an administration's agents or an organisation, to queue
    with ``outbox.actions.enqueue`` (the payload holds ids only: recipients and the dossier's
    details are read at delivery). ``attachments`` name documents the deliverer builds at
    delivery (``{"kind": "weekly_pack", "week": "2026-W48"}``); ``digest=False`` sends it on
    its own even to those who take their notifications as a daily digest."""
    return Queued(
        Topic.NOTIFY,
        {
            "template": template.value,
            "dossier_id": str(dossier_id) if dossier_id else None,
            "user_ids": [str(u) for u in user_ids or []],
            "administration": administration,
            "organisation_id": str(organisation_id) if organisation_id else None,
            "context": context or {},
            "attachments": attachments or [],
            "digest": digest,
        },
        dedupe_key,
    )


def record_delivery(
    session: Session, *, message_id: uuid.UUID, email: str, template: str, now: dt.datetime
) -> None:
    """Record that ``email`` got this message (a retried message is not sent twice)."""
    session.add(
        EmailDelivery(outbox_message_id=message_id, recipient=email, template=template, sent_at=now)
    )


def keep_for_digest(
    session: Session,
    *,
    message_id: uuid.UUID,
    person: Recipient,
    subject: str,
    text: str,
    now: dt.datetime,
) -> None:
    """Keep a rendered notification for ``person``'s next daily digest."""
    session.add(
        DigestItem(
            outbox_message_id=message_id, user_id=person.id, subject=subject, text=text,
            created_at=now,
        )
    )  # fmt: skip


def mark_digest_sent(session: Session, *, ids: list[uuid.UUID], now: dt.datetime) -> None:
    """Mark digest items sent."""
    for item_id in ids:
        session.get_one(DigestItem, item_id).sent_at = now
