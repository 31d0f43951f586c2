"""Deliver queued notifications by e-mail (or into an agent's daily digest).

Recipients and the dossier's details are read at delivery time, so outbox rows stay small and
ids-only. Each (message, address) is recorded once sent: a message retried after a partial
failure is not sent again to those who already got it. Without ``ACCELERATOR_SMTP_HOST`` the
notification is only written to the log.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from accelerator.consultations.models import Consultation
from accelerator.dossiers.models import Dossier
from accelerator.identity.models import User
from accelerator.identity.roles import Role
from accelerator.mail.models import DigestItem, EmailDelivery
from accelerator.shared.config import Settings, get_settings
from accelerator.shared.db import utcnow
from accelerator.sla.calendars import zone_named
from accelerator.sla.definitions import KIND_LABELS, ClockKind
from accelerator.sla.models import Clock
from workflows import mailer
from workflows.steps import in_transaction

log = logging.getLogger("accelerator.notifications")

PARIS = "Europe/Paris"


@dataclass(frozen=True)
class Recipient:
    """Who gets a notification, and how they prefer it."""

    id: uuid.UUID
    email: str
    name: str
    digest: bool


def recipients(session: Session, payload: dict[str, Any]) -> list[Recipient]:
    """The active users a notification goes to."""
    conditions: list[ColumnElement[bool]] = []
    if payload.get("user_ids"):
        conditions.append(User.id.in_([uuid.UUID(u) for u in payload["user_ids"]]))
    if payload.get("administration"):
        conditions.append(
            (User.administration_code == payload["administration"])
            & (User.role == Role.AGENT.value)
        )
    if payload.get("organisation_id"):
        conditions.append(User.organisation_id == uuid.UUID(payload["organisation_id"]))
    if not conditions:
        return []
    users = session.scalars(select(User).where(User.active.is_(True), or_(*conditions)))
    return sorted(
        (Recipient(u.id, u.email, u.name, u.notification_mode == "digest") for u in users),
        key=lambda r: r.email,
    )


def _local(instant: dt.datetime | None) -> str | None:
    return None if instant is None else f"{instant.astimezone(zone_named(PARIS)):%d/%m/%Y à %H:%M}"


def context_for(session: Session, payload: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """What the templates need: the dossier, its link, the payload's context, a due date."""
    context: dict[str, Any] = dict(payload.get("context") or {})
    dossier = session.get(Dossier, uuid.UUID(payload["dossier_id"]))
    if dossier is not None:
        context.update(
            reference=dossier.reference or "(brouillon)",
            title=dossier.title,
            dossier_url=f"{settings.public_url}/api/v1/dossiers/{dossier.id}",
        )
    if "clock_id" in context:
        clock = session.get(Clock, uuid.UUID(context["clock_id"]))
        if clock is not None:
            context.setdefault("due_at", _local(clock.due_at))
            context.setdefault("kind_label", KIND_LABELS.get(ClockKind(clock.kind), clock.kind))
    if "consultation_id" in context:
        consultation = session.get(Consultation, uuid.UUID(context["consultation_id"]))
        if consultation is not None:
            context.setdefault("due_at", _local(consultation.due_at))
    for key in ("due_at", "kind_label", "message", "pieces", "summary", "type", "silence"):
        context.setdefault(key, None)
    return context


def deliver(message_id: uuid.UUID, payload: dict[str, Any]) -> None:
    """Send one notification to each recipient not yet served (or keep it for their digest)."""
    settings = get_settings()
    template = payload["template"]
    people, context = in_transaction(
        lambda s: (recipients(s, payload), context_for(s, payload, settings))
    )
    if settings.smtp_host is None:
        log.info(
            "notification %s [%s] → %s (ACCELERATOR_SMTP_HOST absent : non envoyée)",
            message_id, template, ", ".join(p.email for p in people) or "(aucun destinataire)",
        )  # fmt: skip
        return
    for person in people:
        if in_transaction(functools.partial(_already_served, message_id=message_id, person=person)):
            continue
        mail = mailer.render(template, person.email, {**context, "recipient_name": person.name})
        if person.digest:
            in_transaction(
                functools.partial(_keep_for_digest, message_id=message_id, person=person, mail=mail)
            )
            continue
        mailer.send(settings, mail, message_id=f"<{message_id}.{person.id}@accelerateur>")
        recorded = functools.partial(_record_delivery, message_id=message_id, email=person.email)
        in_transaction(functools.partial(recorded, template=template))


def _record_delivery(session: Session, *, message_id: uuid.UUID, email: str, template: str) -> None:
    session.add(
        EmailDelivery(
            outbox_message_id=message_id, recipient=email, template=template, sent_at=utcnow()
        )
    )


def _already_served(session: Session, *, message_id: uuid.UUID, person: Recipient) -> bool:
    sent = session.scalar(
        select(EmailDelivery.id).where(
            EmailDelivery.outbox_message_id == message_id, EmailDelivery.recipient == person.email
        )
    )
    kept = session.scalar(
        select(DigestItem.id).where(
            DigestItem.outbox_message_id == message_id, DigestItem.user_id == person.id
        )
    )
    return sent is not None or kept is not None


def _keep_for_digest(
    session: Session, *, message_id: uuid.UUID, person: Recipient, mail: mailer.Mail
) -> None:
    session.add(
        DigestItem(
            outbox_message_id=message_id, user_id=person.id, subject=mail.subject,
            text=mail.text, created_at=utcnow(),
        )
    )  # fmt: skip


def send_digests(now: dt.datetime, *, hour: int = 8) -> int:
    """Send each waiting digest once a day, from ``hour`` (Paris time); returns how many."""
    settings = get_settings()
    if settings.smtp_host is None or now.astimezone(zone_named(PARIS)).hour < hour:
        return 0
    today = now.astimezone(zone_named(PARIS)).date()

    def due(session: Session) -> list[tuple[uuid.UUID, str, str]]:
        waiting = session.scalars(select(DigestItem.user_id).where(DigestItem.sent_at.is_(None)))
        result = []
        for user_id in set(waiting):
            last = session.scalar(
                select(DigestItem.sent_at)
                .where(DigestItem.user_id == user_id, DigestItem.sent_at.is_not(None))
                .order_by(DigestItem.sent_at.desc())
                .limit(1)
            )
            if last is None or last.astimezone(zone_named(PARIS)).date() < today:
                user = session.get_one(User, user_id)
                result.append((user.id, user.email, user.name))
        return result

    sent = 0
    for user_id, email, name in in_transaction(due):
        items = in_transaction(functools.partial(_pending_items, user_id=user_id))
        mail = mailer.render(
            "digest", email, {"recipient_name": name, "items": items, "dossier_url": None}
        )
        mailer.send(settings, mail, message_id=f"<digest.{user_id}.{today}@accelerateur>")
        in_transaction(functools.partial(_mark_sent, ids=[item["id"] for item in items], now=now))
        sent += 1
    return sent


def _pending_items(session: Session, *, user_id: uuid.UUID) -> list[dict[str, Any]]:
    return [
        {"id": i.id, "subject": i.subject, "text": i.text}
        for i in session.scalars(
            select(DigestItem)
            .where(DigestItem.user_id == user_id, DigestItem.sent_at.is_(None))
            .order_by(DigestItem.created_at)
        )
    ]


def _mark_sent(session: Session, *, ids: list[uuid.UUID], now: dt.datetime) -> None:
    for item_id in ids:
        session.get_one(DigestItem, item_id).sent_at = now
