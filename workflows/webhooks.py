"""Deliver webhook events: signed HTTP POSTs, retried with the outbox's backoff.

Signature: ``X-Accelerator-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.
A receiver recomputes it over the raw body and refuses old timestamps (replays). The event id
(``X-Accelerator-Event-Id``) is the outbox message's: receivers deduplicate on it.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import httpx
from sqlalchemy.orm import Session

from accelerator.db import utcnow
from accelerator.webhooks.actions import fan_out, record_attempt
from accelerator.webhooks.models import WebhookDelivery, WebhookSubscription
from workflows.steps import in_transaction

TIMEOUT = httpx.Timeout(10.0)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _prepared(session: Session, *, delivery_id: uuid.UUID) -> tuple[str, str, str, bytes, str]:
    delivery = session.get_one(WebhookDelivery, delivery_id)
    subscription = session.get_one(WebhookSubscription, delivery.subscription_id)
    payload = delivery.payload
    body = json.dumps(
        {
            "id": str(delivery.event_id),
            "event": delivery.event,
            "occurred_at": payload.get("occurred_at"),
            "dossier": {"id": payload.get("dossier_id"), "reference": payload.get("reference")},
            "administration": payload.get("administration"),
            "data": payload.get("data", {}),
        },
        ensure_ascii=False,
        sort_keys=True,
    ).encode()
    return subscription.url, subscription.secret, delivery.event, body, str(delivery.event_id)


def send(delivery_id: uuid.UUID) -> bool:
    """POST one delivery and log the attempt; True when the receiver answered 2xx."""
    url, secret, event, body, event_id = in_transaction(
        functools.partial(_prepared, delivery_id=delivery_id)
    )
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Accelerateur-Webhooks/1",
        "X-Accelerator-Event": event,
        "X-Accelerator-Event-Id": event_id,
        "X-Accelerator-Delivery": str(delivery_id),
        "X-Accelerator-Signature": sign(secret, timestamp, body),
    }
    status: int | None = None
    error: str | None = None
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT)
        status = response.status_code
        if not 200 <= status < 300:
            error = f"HTTP {status}: {response.text[:300]}"
    except httpx.HTTPError as failure:
        error = f"{type(failure).__name__}: {failure}"
    in_transaction(
        functools.partial(
            record_attempt, delivery_id=delivery_id, status=status, error=error, now=utcnow()
        )
    )
    return error is None


def deliver(message_id: uuid.UUID, payload: dict[str, Any]) -> None:
    """Fan an event out and send every pending delivery; raise so the outbox retries failures."""
    pending = in_transaction(
        functools.partial(fan_out, event_id=message_id, payload=payload, now=utcnow())
    )
    failed = [delivery_id for delivery_id in pending if not send(delivery_id)]
    if failed:
        raise RuntimeError(f"{len(failed)} webhook delivery(ies) failed; will retry")


def replay(_message_id: uuid.UUID, payload: dict[str, Any]) -> None:
    """Send one delivery again on request (even if it was delivered)."""
    send(uuid.UUID(payload["delivery_id"]))
