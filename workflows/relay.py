"""The relay: delivers outbox messages after commit, at least once, and starts the flows.

Each message is claimed with a lease, handled, then marked delivered; a failure schedules a
retry with backoff. Handlers are idempotent (flows check what is already done), so a message
delivered twice after a crash changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accelerator.config import get_settings
from accelerator.db import Database, get_database, utcnow
from accelerator.outbox.actions import claim_batch, mark_delivered, mark_failed
from accelerator.outbox.topics import Topic
from workflows import deployments, notifications, webhooks
from workflows.consolidation import consolidation_flow
from workflows.intake import intake_flow
from workflows.launch import launch_flow
from workflows.reconcile import reconcile_flow
from workflows.sweep import sweep_flow

log = logging.getLogger("accelerator.relay")

#: Daily digests go out from 08:00 (Paris); the relay checks hourly.
DIGEST_CHECK_SECONDS = 3600.0

Handler = Callable[[uuid.UUID, dict[str, Any]], object]


def _flow(kind: str, key: str) -> Handler:
    """Run the flow here (embedded mode) or submit its deployment (distributed mode)."""
    inline: dict[str, Callable[..., object]] = {
        "intake": intake_flow,
        "launch": launch_flow,
        "consolidation": consolidation_flow,
    }
    parameter = {"intake": "dossier_id", "launch": "launch_id", "consolidation": "dossier_id"}[kind]

    def handle(message_id: uuid.UUID, payload: dict[str, Any]) -> object:
        if get_settings().flow_mode == "deployments":
            return deployments.submit(kind, {parameter: payload[key]}, message_id=message_id)
        return inline[kind](**{parameter: uuid.UUID(payload[key])})

    return handle


HANDLERS: dict[str, Handler] = {
    Topic.INTAKE.value: _flow("intake", "dossier_id"),
    Topic.LAUNCH.value: _flow("launch", "launch_id"),
    Topic.CONSOLIDATE.value: _flow("consolidation", "dossier_id"),
    Topic.NOTIFY.value: notifications.deliver,
    Topic.WEBHOOK.value: webhooks.deliver,
    Topic.WEBHOOK_REPLAY.value: webhooks.replay,
}


@dataclass(frozen=True)
class Claimed:
    """A leased message, detached from its session (handlers get ids, never ORM objects)."""

    id: uuid.UUID
    topic: str
    payload: dict[str, Any]


def drain_once(database: Database | None = None, *, batch_size: int = 50) -> int:
    """Claim and handle one batch of due messages; returns how many were handled."""
    database = database or get_database()
    with database.transaction() as session:
        claimed = [
            Claimed(m.id, m.topic, dict(m.payload))
            for m in claim_batch(session, now=utcnow(), limit=batch_size)
        ]
    for message in claimed:
        handler = HANDLERS.get(message.topic)
        try:
            if handler is None:
                raise LookupError(f"no handler for topic {message.topic!r}")
            handler(message.id, message.payload)
        except Exception as error:
            log.exception("outbox message %s (%s) failed", message.id, message.topic)
            with database.transaction() as session:
                mark_failed(
                    session, message.id, error=f"{type(error).__name__}: {error}", now=utcnow()
                )
        else:
            with database.transaction() as session:
                mark_delivered(session, message.id, now=utcnow())
    return len(claimed)


def drain(database: Database | None = None, *, batch_size: int = 50, max_rounds: int = 100) -> int:
    """Handle messages until none is due (messages handled may enqueue more)."""
    total = 0
    for _ in range(max_rounds):
        handled = drain_once(database, batch_size=batch_size)
        total += handled
        if handled == 0:
            break
    return total


def run(
    stop: threading.Event,
    *,
    poll_seconds: float = 0.5,
    batch_size: int = 50,
    sweep_every_seconds: float | None = 60.0,
    reconcile_every_seconds: float | None = 300.0,
) -> None:
    """Relay until ``stop`` is set; also run the sweep flow every ``sweep_every_seconds``.

    The embedded Prefect server runs no schedules for flows started in-process, so the relay
    is the sweep's scheduler in that mode (every minute by default).
    """
    log.info(
        "relay started (poll every %.1f s, sweep every %s s)", poll_seconds, sweep_every_seconds
    )
    next_sweep = next_digest = next_reconcile = time.monotonic()
    while not stop.is_set():
        if reconcile_every_seconds is not None and time.monotonic() >= next_reconcile:
            next_reconcile = time.monotonic() + reconcile_every_seconds
            try:
                asyncio.run(reconcile_flow())
            except Exception:
                log.exception("reconciliation failed; retrying at the next interval")
        if time.monotonic() >= next_digest:
            next_digest = time.monotonic() + DIGEST_CHECK_SECONDS
            try:
                notifications.send_digests(utcnow())
            except Exception:
                log.exception("daily digests failed; retrying at the next check")
        if sweep_every_seconds is not None and time.monotonic() >= next_sweep:
            next_sweep = time.monotonic() + sweep_every_seconds
            try:
                fired = sweep_flow()
                if fired:
                    log.info("sweep fired %d rung(s)", fired)
            except Exception:
                log.exception("sweep failed; retrying at the next interval")
        try:
            handled = drain_once(batch_size=batch_size)
        except Exception:
            log.exception("relay round failed; retrying")
            handled = 0
        if handled == 0:
            stop.wait(poll_seconds)
    log.info("relay stopped")
