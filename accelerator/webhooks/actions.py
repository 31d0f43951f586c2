"""Subscribe to events; fan an event out to its subscriptions; keep the delivery log."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.access import require_role
from accelerator.errors import InvalidInput, NotFound
from accelerator.identity.models import User
from accelerator.identity.roles import Role
from accelerator.webhooks.events import Event
from accelerator.webhooks.models import WebhookDelivery, WebhookSubscription


def create_subscription(
    session: Session, *, user: User, url: str, events: list[str], now: dt.datetime
) -> WebhookSubscription:
    """An administration's agent subscribes its administration; an admin, the platform."""
    require_role(user, Role.AGENT, Role.ADMIN)
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidInput(f"Adresse de webhook invalide : « {url} » (http ou https attendu).")
    known = {e.value for e in Event}
    unknown = sorted(set(events) - known)
    if not events or unknown:
        raise InvalidInput(
            f"Événements inconnus ou absents : {', '.join(unknown) or '(aucun)'} "
            f"(connus : {', '.join(sorted(known))})."
        )
    subscription = WebhookSubscription(
        administration_code=user.administration_code if Role(user.role) is Role.AGENT else None,
        url=url,
        secret=secrets.token_urlsafe(32),
        events=sorted(set(events)),
        active=True,
        created_by_id=user.id,
        created_at=now,
    )
    session.add(subscription)
    session.flush()
    return subscription


def visible_subscriptions(session: Session, user: User) -> list[WebhookSubscription]:
    """Agents: their administration's subscriptions; admins: all."""
    require_role(user, Role.AGENT, Role.ADMIN)
    query = select(WebhookSubscription).order_by(WebhookSubscription.created_at)
    if Role(user.role) is Role.AGENT:
        query = query.where(WebhookSubscription.administration_code == user.administration_code)
    return list(session.scalars(query))


def access_subscription(
    session: Session, user: User, subscription_id: uuid.UUID
) -> WebhookSubscription:
    """A subscription the user manages, else ``NotFound``."""
    for subscription in visible_subscriptions(session, user):
        if subscription.id == subscription_id:
            return subscription
    raise NotFound("Abonnement introuvable.")


def fan_out(
    session: Session, *, event_id: uuid.UUID, payload: dict[str, Any], now: dt.datetime
) -> list[uuid.UUID]:
    """Create (once) a delivery per active subscription that wants this event."""
    event, administration = payload["event"], payload.get("administration")
    ids = []
    for subscription in session.scalars(
        select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
    ):
        if event not in subscription.events:
            continue
        if subscription.administration_code is not None and (
            subscription.administration_code != administration
        ):
            continue  # an administration only hears about its own consultations
        delivery = session.scalar(
            select(WebhookDelivery).where(
                WebhookDelivery.subscription_id == subscription.id,
                WebhookDelivery.event_id == event_id,
            )
        )
        if delivery is None:
            delivery = WebhookDelivery(
                subscription_id=subscription.id, event_id=event_id, event=event,
                payload=payload, attempts=0, created_at=now,
            )  # fmt: skip
            session.add(delivery)
            session.flush()
        if delivery.delivered_at is None:
            ids.append(delivery.id)
    return ids


def record_attempt(
    session: Session,
    *,
    delivery_id: uuid.UUID,
    status: int | None,
    error: str | None,
    now: dt.datetime,
) -> WebhookDelivery:
    """Log one attempt; a 2xx answer marks the delivery done."""
    delivery = session.get_one(WebhookDelivery, delivery_id)
    delivery.attempts += 1
    delivery.last_status = status
    delivery.last_error = error
    if error is None and status is not None and 200 <= status < 300:
        delivery.delivered_at = now
    return delivery


def request_replay(
    session: Session,
    *,
    user: User,
    subscription_id: uuid.UUID,
    delivery_id: uuid.UUID,
    now: dt.datetime,
) -> WebhookDelivery:
    """Queue one delivery to be sent again (after commit, by the relay)."""
    from accelerator.outbox.actions import enqueue
    from accelerator.outbox.topics import Topic

    subscription = access_subscription(session, user, subscription_id)
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.subscription_id != subscription.id:
        raise NotFound("Livraison introuvable.")
    enqueue(session, Topic.WEBHOOK_REPLAY, {"delivery_id": str(delivery.id)}, now=now)
    return delivery


def deliveries_of(
    session: Session, *, user: User, subscription_id: uuid.UUID, limit: int = 100
) -> list[WebhookDelivery]:
    """The delivery log of a subscription, newest first."""
    subscription = access_subscription(session, user, subscription_id)
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == subscription.id)
            .order_by(WebhookDelivery.created_at.desc())
            .limit(limit)
        )
    )
