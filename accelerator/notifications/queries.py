"""Who a notification goes to, and what waits in agents' daily digests."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from accelerator.identity.models import User
from accelerator.identity.roles import Role
from accelerator.notifications.models import DigestItem, EmailDelivery
from accelerator.sla.calendars import zone_named


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


def already_served(session: Session, *, message_id: uuid.UUID, person: Recipient) -> bool:
    """Whether this message already reached ``person`` (sent, or kept for their digest)."""
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


def digests_due(session: Session, *, today: dt.date, zone: str) -> list[tuple[uuid.UUID, str, str]]:
    """The people with digest items waiting and no digest sent yet on ``today`` (in ``zone``):
    (id, e-mail, name)."""
    waiting = session.scalars(select(DigestItem.user_id).where(DigestItem.sent_at.is_(None)))
    result = []
    for user_id in set(waiting):
        last = session.scalar(
            select(DigestItem.sent_at)
            .where(DigestItem.user_id == user_id, DigestItem.sent_at.is_not(None))
            .order_by(DigestItem.sent_at.desc())
            .limit(1)
        )
        if last is None or last.astimezone(zone_named(zone)).date() < today:
            user = session.get_one(User, user_id)
            result.append((user.id, user.email, user.name))
    return result


def pending_digest(session: Session, *, user_id: uuid.UUID) -> list[dict[str, Any]]:
    """The items waiting for ``user_id``'s next digest, oldest first."""
    return [
        {"id": i.id, "subject": i.subject, "text": i.text}
        for i in session.scalars(
            select(DigestItem)
            .where(DigestItem.user_id == user_id, DigestItem.sent_at.is_(None))
            .order_by(DigestItem.created_at)
        )
    ]


def emails_sent(session: Session) -> int:
    """E-mails sent so far (one per recipient), for monitoring."""
    return session.scalar(select(func.count()).select_from(EmailDelivery)) or 0
