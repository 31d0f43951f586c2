"""Webhook subscriptions: administrations' tools hear about their consultations."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StrictBool

from accelerator.shared.db import utcnow
from accelerator.shared.validation import STRICT_INPUT, SingleLine
from accelerator.webhooks import actions
from accelerator.webhooks.models import WebhookDelivery, WebhookSubscription
from accelerator.webhooks.targets import Policy
from api.deps import CurrentUser, SessionDep, SettingsDep, parse_id
from api.idempotency import idempotent
from api.policies import Scope, allow
from api.unit_of_work import Router

router = Router(prefix="/api/v1/webhooks", tags=["webhooks"])

#: One subscription: its administration's agents, or an administrator (any subscription).
SUBSCRIPTION_MANAGERS = allow(agent=Scope.OWN_ADMINISTRATION, admin=Scope.ANY)


class SubscriptionIn(BaseModel):
    """Where to send which events."""

    model_config = STRICT_INPUT

    url: SingleLine = Field(max_length=2000)
    events: list[Annotated[SingleLine, Field(max_length=64)]] = Field(max_length=20)


class SubscriptionPatch(BaseModel):
    """What may change in a subscription: paused (``false``) or active (``true``)."""

    model_config = STRICT_INPUT

    active: StrictBool


class SubscriptionOut(BaseModel):
    """A subscription (its secret is shown only when it is created)."""

    id: str
    url: str
    events: list[str]
    administration: str | None
    active: bool
    secret: str | None = None


class DeliveryOut(BaseModel):
    """One event sent (or being sent) to a subscription."""

    id: str
    event_id: str
    event: str
    attempts: int
    last_status: int | None
    #: The class of the last failure (e.g. ``timeout``, ``forbidden_address``, ``http_status``),
    #: never the receiver's answer.
    last_error: str | None
    created_at: str
    delivered_at: str | None
    #: Set when the delivery was not sent because its subscription was paused.
    skipped_at: str | None = None


def _out(subscription: WebhookSubscription, *, with_secret: bool = False) -> SubscriptionOut:
    return SubscriptionOut(
        id=str(subscription.id),
        url=subscription.url,
        events=list(subscription.events),
        administration=subscription.administration_code,
        active=subscription.active,
        secret=subscription.secret if with_secret else None,
    )


def _delivery(delivery: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut(
        id=str(delivery.id),
        event_id=str(delivery.event_id),
        event=delivery.event,
        attempts=delivery.attempts,
        last_status=delivery.last_status,
        last_error=delivery.last_error,
        created_at=delivery.created_at.isoformat(),
        delivered_at=delivery.delivered_at.isoformat() if delivery.delivered_at else None,
        skipped_at=delivery.skipped_at.isoformat() if delivery.skipped_at else None,
    )


@router.post("", status_code=201, policy=allow(agent=Scope.ANY, admin=Scope.ANY))
@idempotent(201)
def subscribe(
    data: SubscriptionIn, session: SessionDep, user: CurrentUser, settings: SettingsDep
) -> SubscriptionOut:
    """Subscribe (agent: its administration's events; admin: the platform's); returns the secret.

    The URL must lead to public addresses (or to hosts of ``ACCELERATOR_WEBHOOK_ALLOWED_HOSTS``)
    and use https outside demo mode; 422 otherwise."""
    subscription = actions.create_subscription(
        session, user=user, url=data.url, events=data.events,
        policy=Policy.from_settings(settings), now=utcnow(),
    )  # fmt: skip
    return _out(subscription, with_secret=True)


@router.get("", policy=allow(agent=Scope.VISIBLE, admin=Scope.VISIBLE))
def index(session: SessionDep, user: CurrentUser) -> list[SubscriptionOut]:
    """The subscriptions the caller manages."""
    return [_out(s) for s in actions.visible_subscriptions(session, user)]


@router.patch("/{subscription_id}", policy=SUBSCRIPTION_MANAGERS)
def update(
    subscription_id: str, data: SubscriptionPatch, session: SessionDep, user: CurrentUser
) -> SubscriptionOut:
    """Pause (``{"active": false}``) or resume a subscription; while paused nothing is sent and
    queued deliveries are marked skipped."""
    subscription = actions.set_subscription_active(
        session, user=user, subscription_id=parse_id(subscription_id, "Abonnement"),
        active=data.active, now=utcnow(),
    )  # fmt: skip
    return _out(subscription)


@router.delete(
    "/{subscription_id}", status_code=204, response_model=None, policy=SUBSCRIPTION_MANAGERS
)
def remove(subscription_id: str, session: SessionDep, user: CurrentUser) -> None:
    """Delete a subscription, its secret and its delivery log."""
    actions.delete_subscription(
        session, user=user, subscription_id=parse_id(subscription_id, "Abonnement")
    )


@router.get("/{subscription_id}/deliveries", policy=SUBSCRIPTION_MANAGERS)
def deliveries(subscription_id: str, session: SessionDep, user: CurrentUser) -> list[DeliveryOut]:
    """The delivery log, newest first, with the last error of each."""
    found = actions.deliveries_of(
        session, user=user, subscription_id=parse_id(subscription_id, "Abonnement")
    )
    return [_delivery(d) for d in found]


@router.post(
    "/{subscription_id}/deliveries/{delivery_id}/replay",
    status_code=202,
    policy=SUBSCRIPTION_MANAGERS,
)
@idempotent(202)
def replay(
    subscription_id: str, delivery_id: str, session: SessionDep, user: CurrentUser
) -> DeliveryOut:
    """Send a delivery again (queued; the relay sends it)."""
    delivery = actions.request_replay(
        session,
        user=user,
        subscription_id=parse_id(subscription_id, "Abonnement"),
        delivery_id=parse_id(delivery_id, "Livraison"),
        now=utcnow(),
    )
    return _delivery(delivery)
