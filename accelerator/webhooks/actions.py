"""Subscribe to events; fan an event out to its subscriptions; keep the delivery log."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any

from sqlalchemy import ColumnElement, delete, false, func, select, true
from sqlalchemy.orm import Session

from accelerator.identity.models import User
from accelerator.identity.roles import Role, require_role
from accelerator.shared.errors import Conflict, InvalidInput, NotFound
from accelerator.shared.text import t
from accelerator.webhooks.events import Event
from accelerator.webhooks.models import WebhookDelivery, WebhookSubscription
from accelerator.webhooks.targets import DeliveryError, Policy, check_url

SUBSCRIPTION_NOT_FOUND = t("webhook.subscription_not_found")
#: Subscriptions per administration (and for the platform): each event is sent to each one,
#: so an unbounded number would turn the relay into an amplifier against a receiver.
MAX_SUBSCRIPTIONS = 20


def create_subscription(
    session: Session,
    *,
    user: User,
    url: str,
    events: list[str],
    policy: Policy,
    now: dt.datetime,
) -> WebhookSubscription:
    """An administration's agent subscribes its administration; an admin, the platform.

    The URL must pass ``policy`` (``targets.check_url``: public addresses only, outside the
    allow-list; https outside demo); it is checked again at every delivery."""
    require_role(user, Role.AGENT, Role.ADMIN)
    known = {e.value for e in Event}
    unknown = sorted(set(events) - known)
    if not events or unknown:
        raise InvalidInput(
            t(
                "webhook.events_unknown",
                unknown=", ".join(unknown) or t("webhook.no_event"),
                known=", ".join(sorted(known)),
            )
        )
    owner = user.administration_code if Role(user.role) is Role.AGENT else None
    existing = session.scalar(
        select(func.count()).where(
            WebhookSubscription.administration_code == owner
            if owner is not None
            else WebhookSubscription.administration_code.is_(None)
        )
    )
    if (existing or 0) >= MAX_SUBSCRIPTIONS:
        raise InvalidInput(t("webhook.too_many_subscriptions", max_subscriptions=MAX_SUBSCRIPTIONS))
    check_url(url, policy)  # last: it asks the DNS
    subscription = WebhookSubscription(
        administration_code=owner,
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


def _managed_by(user: User) -> ColumnElement[bool]:
    """SQL condition on ``WebhookSubscription``: those ``user`` manages."""
    role = Role(user.role)
    if role is Role.ADMIN:
        return true()
    if role is Role.AGENT:
        return WebhookSubscription.administration_code == user.administration_code
    return false()


def visible_subscriptions(session: Session, user: User) -> list[WebhookSubscription]:
    """Agents: their administration's subscriptions; admins: all."""
    require_role(user, Role.AGENT, Role.ADMIN)
    query = select(WebhookSubscription).where(_managed_by(user))
    return list(session.scalars(query.order_by(WebhookSubscription.created_at)))


def access_subscription(
    session: Session, user: User, subscription_id: uuid.UUID, *, for_update: bool = False
) -> WebhookSubscription:
    """A subscription the user manages (locked when ``for_update``), else ``NotFound``: its
    existence is not revealed to others, whatever their role."""
    query = select(WebhookSubscription).where(
        WebhookSubscription.id == subscription_id, _managed_by(user)
    )
    subscription = session.scalar(query.with_for_update() if for_update else query)
    if subscription is None:
        raise NotFound(SUBSCRIPTION_NOT_FOUND)
    return subscription


def set_subscription_active(
    session: Session, *, user: User, subscription_id: uuid.UUID, active: bool, now: dt.datetime
) -> WebhookSubscription:
    """Pause or resume a subscription.

    A paused subscription gets no delivery for the events handled while it is paused (they
    are not kept for later: a pause is "stop sending", as a receiver under maintenance
    needs); the deliveries already queued and not yet delivered are marked skipped, visible
    in the log, and can be replayed by hand once resumed. Resuming resends nothing."""
    subscription = access_subscription(session, user, subscription_id, for_update=True)
    if subscription.active == active:
        return subscription
    subscription.active = active
    if not active:
        for delivery in session.scalars(
            select(WebhookDelivery)
            .where(
                WebhookDelivery.subscription_id == subscription.id,
                WebhookDelivery.delivered_at.is_(None),
                WebhookDelivery.skipped_at.is_(None),
            )
            .with_for_update()
        ):
            delivery.skipped_at = now
    return subscription


def delete_subscription(session: Session, *, user: User, subscription_id: uuid.UUID) -> None:
    """Delete a subscription and its delivery log.

    The log goes with it: its payloads describe dossiers and consultations, and once the
    subscription is gone nobody may read them (access follows the subscription), so keeping
    them would only keep personal data longer than needed (data minimisation). The secret
    goes with the row. Events still queued find no subscription and send nothing."""
    subscription = access_subscription(session, user, subscription_id, for_update=True)
    session.execute(
        delete(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
    )
    session.delete(subscription)
    session.flush()


def fan_out(
    session: Session, *, event_id: uuid.UUID, payload: dict[str, Any], now: dt.datetime
) -> list[uuid.UUID]:
    """Create (once) a delivery per active subscription that wants this event; the ids of
    those still to send (a paused subscription's are skipped, see ``set_subscription_active``)."""
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
        if delivery.delivered_at is None and delivery.skipped_at is None:
            ids.append(delivery.id)
    return ids


def record_attempt(
    session: Session,
    *,
    delivery_id: uuid.UUID,
    status: int | None,
    error: DeliveryError | None,
    now: dt.datetime,
) -> WebhookDelivery | None:
    """Log one attempt (the status and an error class, nothing of the answer's body); a 2xx
    answer marks the delivery done. None when the delivery was deleted meanwhile."""
    delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None:
        return None
    delivery.attempts += 1
    delivery.last_status = status
    delivery.last_error = None if error is None else error.value
    delivery.skipped_at = None
    if error is None and status is not None and 200 <= status < 300:
        delivery.delivered_at = now
    return delivery


def to_send(
    session: Session, *, delivery_id: uuid.UUID, now: dt.datetime
) -> tuple[WebhookDelivery, WebhookSubscription] | None:
    """The delivery and its subscription if it is to be sent now; None when either was
    deleted, or when the subscription is paused (the delivery is then marked skipped)."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return None
    subscription = session.get(WebhookSubscription, delivery.subscription_id)
    if subscription is None:
        return None
    if not subscription.active:
        if delivery.delivered_at is None and delivery.skipped_at is None:
            delivery.skipped_at = now
        return None
    return delivery, subscription


def request_replay(
    session: Session,
    *,
    user: User,
    subscription_id: uuid.UUID,
    delivery_id: uuid.UUID,
    now: dt.datetime,
) -> WebhookDelivery:
    """Queue one delivery to be sent again (after commit, by the relay)."""
    from accelerator.outbox.actions import Queued, enqueue
    from accelerator.outbox.topics import Topic

    subscription = access_subscription(session, user, subscription_id)
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.subscription_id != subscription.id:
        raise NotFound(t("webhook.delivery_not_found"))
    if not subscription.active:
        raise Conflict(t("webhook.subscription_paused"))
    enqueue(session, Queued(Topic.WEBHOOK_REPLAY, {"delivery_id": str(delivery.id)}), now=now)
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
