"""The relay: delivers outbox messages after commit, at least once, and starts the flows.

Each message is claimed with a lease, handled, then marked delivered; a failure schedules a
retry with backoff. The flow messages claimed together become one flow run per topic (a batch
of dossiers); e-mails and webhooks are delivered one by one. Handlers are idempotent (flows
check what is already done), so a message delivered twice after a crash changes nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg

from accelerator.outbox import wakeup
from accelerator.outbox.actions import (
    MAX_BACKOFF,
    batches_ready,
    claim_batch,
    mark_delivered,
    mark_failed,
)
from accelerator.outbox.topics import Topic
from accelerator.shared.config import get_settings
from accelerator.shared.db import Database, get_database, utcnow
from workflows import deployments, notifications, webhooks, what_if
from workflows.consolidation import consolidation_flow
from workflows.intake import intake_flow
from workflows.launch import launch_flow
from workflows.reconcile import reconcile_flow
from workflows.review_pack import WeeklyPackClock, weekly_pack_flow
from workflows.sweep import sweep_flow

log = logging.getLogger("accelerator.relay")

#: Daily digests go out from 08:00 (Paris); the relay checks hourly.
DIGEST_CHECK_SECONDS = 3600.0
#: The weekly pack is due on Mondays from 07:00 (Paris); the relay checks every 10 minutes.
PACK_CHECK_SECONDS = 600.0

Handler = Callable[[uuid.UUID, dict[str, Any]], object]

#: Message ids of a batch → one stable key, so that a batch submitted twice makes one run.
BATCH_NAMESPACE = uuid.UUID("6d1f4c8e-1b0f-4c55-9d0e-4e2f6a7b8c90")


@dataclass(frozen=True)
class Claimed:
    """A leased message, detached from its session (handlers get ids, never ORM objects)."""

    id: uuid.UUID
    topic: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class FlowTopic:
    """Messages that start a flow: the messages of a batch become one run (ids as a list)."""

    kind: str
    key: str
    parameter: str
    flow: Callable[..., object]

    def invalid(self, message: Claimed) -> str | None:
        """Why the message cannot join a batch (a malformed payload), or None."""
        try:
            uuid.UUID(str(message.payload[self.key]))
        except (KeyError, ValueError) as error:
            return f"ValueError: payload without a valid {self.key!r} ({error!r})"
        return None

    def run(self, messages: list[Claimed]) -> object:
        """Run the flow here (embedded mode) or submit its deployment (distributed mode)."""
        ids = list(dict.fromkeys(str(m.payload[self.key]) for m in messages))
        if get_settings().flow_mode == "deployments":
            key = uuid.uuid5(BATCH_NAMESPACE, ",".join(sorted(str(m.id) for m in messages)))
            return deployments.submit(self.kind, {self.parameter: ids}, key=str(key))
        return self.flow(**{self.parameter: [uuid.UUID(i) for i in ids]})


FLOWS: dict[str, FlowTopic] = {
    Topic.INTAKE.value: FlowTopic("intake", "dossier_id", "dossier_ids", intake_flow),
    Topic.LAUNCH.value: FlowTopic("launch", "launch_id", "launch_ids", launch_flow),
    Topic.CONSOLIDATE.value: FlowTopic(
        "consolidation", "dossier_id", "dossier_ids", consolidation_flow
    ),
}
FLOW_TOPICS = [Topic(topic) for topic in FLOWS]

#: The longest wait between two attempts. Flows only wait for Prefect's server (back soon
#: after an outage, and the work piles up meanwhile); a receiver down for a day should not
#: be called every minute.
RETRY_CAP = {
    **{topic: dt.timedelta(seconds=10) for topic in FLOWS},
    Topic.NOTIFY.value: dt.timedelta(minutes=10),
    Topic.WHAT_IF.value: dt.timedelta(seconds=10),
}

HANDLERS: dict[str, Handler] = {
    Topic.NOTIFY.value: notifications.deliver,
    Topic.WEBHOOK.value: webhooks.deliver,
    Topic.WEBHOOK_REPLAY.value: webhooks.replay,
    # A what-if takes minutes: handed over (a deployment run, or the relay's what-if thread)
    # rather than run here, where it would hold every other message up.
    Topic.WHAT_IF.value: what_if.dispatch,
}


def _attempt(what: str, call: Callable[[], object]) -> str | None:
    """Call; the error as text if it raised, else None."""
    try:
        call()
    except (OSError, httpx.TransportError) as error:
        # Expected while a server is down (Prefect's, SMTP, a receiver): no traceback.
        log.warning(
            "outbox delivery failed, will retry: %s: %s: %s", what, type(error).__name__, error
        )
        return f"{type(error).__name__}: {error}"
    except Exception as error:
        log.exception("outbox delivery failed: %s", what)
        return f"{type(error).__name__}: {error}"
    return None


def drain_once(
    database: Database | None = None, *, batch_size: int = 50, flow_batch_size: int | None = None
) -> int:
    """Claim and handle one batch of due messages; returns how many were handled.

    The flow messages of one topic become one flow run; e-mails and webhooks are delivered
    one by one. Outcomes are settled in one transaction at the end: a relay killed before
    that leaves its messages leased, and another relay takes them when the lease ends.
    """
    database = database or get_database()
    settings = get_settings()
    lease = dt.timedelta(seconds=settings.outbox_lease_seconds)
    flow_limit = flow_batch_size or settings.flow_batch_size
    now = utcnow()
    with database.transaction() as session:
        topics = FLOW_TOPICS
        if settings.flow_batch_window_seconds > 0:  # wait for a full batch, or the window
            window = dt.timedelta(seconds=settings.flow_batch_window_seconds)
            topics = batches_ready(
                session, now=now, topics=FLOW_TOPICS, window=window, full=flow_limit
            )
        flows = (
            claim_batch(session, now=now, limit=flow_limit, topics=topics, lease=lease)
            if topics
            else []
        )
        others = claim_batch(session, now=now, limit=batch_size, exclude=FLOW_TOPICS, lease=lease)
        claimed = [Claimed(m.id, m.topic, dict(m.payload)) for m in [*flows, *others]]
    outcomes: dict[uuid.UUID, str | None] = {}
    by_topic: dict[str, list[Claimed]] = {}
    for message in claimed:
        if message.topic in FLOWS:
            problem = FLOWS[message.topic].invalid(message)
            if problem is not None:  # retried alone: it must not hold up the others
                outcomes[message.id] = problem
                log.error("outbox message %s: %s", message.id, problem)
            else:
                by_topic.setdefault(message.topic, []).append(message)
    for topic, messages in by_topic.items():
        flow_topic = FLOWS[topic]
        error = _attempt(f"{topic} × {len(messages)}", lambda: flow_topic.run(messages))  # noqa: B023
        outcomes.update((m.id, error) for m in messages)
    for message in claimed:
        if message.topic in FLOWS or message.id in outcomes:
            continue
        handler = HANDLERS.get(message.topic)
        if handler is None:
            outcomes[message.id] = f"LookupError: no handler for topic {message.topic!r}"
            continue
        outcomes[message.id] = _attempt(
            f"{message.topic} {message.id}",
            lambda: handler(message.id, message.payload),  # noqa: B023 - called right away
        )
    if claimed:
        with database.transaction() as session:
            done = utcnow()
            mark_delivered(session, [i for i, e in outcomes.items() if e is None], now=done)
            for message in claimed:
                error = outcomes[message.id]
                if error is not None:
                    cap = RETRY_CAP.get(message.topic, MAX_BACKOFF)
                    mark_failed(session, message.id, error=error, now=done, max_backoff=cap)
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


class Wakeup:
    """Waits for the next poll, or less: until a transaction that queued messages commits
    (PostgreSQL ``LISTEN``, see ``accelerator.outbox.wakeup``). Falls back to plain waiting
    (SQLite, or the listening connection lost, re-opened at the next wait)."""

    def __init__(self, database: Database, stop: threading.Event) -> None:
        self.database = database
        self.stop = stop
        self.connection: psycopg.Connection[Any] | None = None

    def _listen(self) -> psycopg.Connection[Any] | None:
        if self.database.dialect != "postgresql":
            return None
        if self.connection is None or self.connection.closed:
            url = self.database.engine.url.set(drivername="postgresql")
            try:
                self.connection = psycopg.connect(
                    url.render_as_string(hide_password=False), autocommit=True
                )
                self.connection.execute(f"LISTEN {wakeup.CHANNEL}")
            except psycopg.Error:
                log.warning("cannot listen for outbox notifications; polling only")
                self.connection = None
        return self.connection

    def wait(self, seconds: float) -> None:
        """Return after ``seconds``, at a notification, or when the relay is asked to stop."""
        connection = self._listen()
        if connection is None:
            self.stop.wait(seconds)
            return
        try:
            for _ in connection.notifies(timeout=seconds, stop_after=1):
                pass
        except psycopg.Error:
            connection.close()
            self.stop.wait(seconds)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def run(
    stop: threading.Event,
    *,
    poll_seconds: float = 0.5,
    batch_size: int = 50,
    sweep_every_seconds: float | None = 60.0,
    reconcile_every_seconds: float | None = 300.0,
    weekly_pack: bool = True,
) -> None:
    """Relay until ``stop`` is set; also run the sweep flow every ``sweep_every_seconds``.

    The embedded Prefect server runs no schedules for flows started in-process, so the relay
    is the sweep's scheduler in that mode (every minute by default), and the weekly pack's
    (``weekly_pack``): checked hourly, the flow runs once for each week that falls due
    (Monday 07:00, Paris; at start-up too, which queues nothing already queued).
    """
    log.info(
        "relay started (poll every %.1f s, sweep every %s s)", poll_seconds, sweep_every_seconds
    )
    next_sweep = next_digest = next_reconcile = time.monotonic()
    # A minute after start: the outbox's backlog first (laying a PDF out takes seconds).
    next_pack = time.monotonic() + 60.0
    packs = WeeklyPackClock()
    waiter = Wakeup(get_database(), stop)
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
        if weekly_pack and time.monotonic() >= next_pack:
            next_pack = time.monotonic() + PACK_CHECK_SECONDS
            due = packs.due(utcnow())
            if due is not None:
                try:
                    weekly_pack_flow(week=due)
                    packs.ran(due)
                except Exception:
                    log.exception("weekly pack %s failed; retrying at the next check", due)
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
            waiter.wait(poll_seconds)
    waiter.close()
    log.info("relay stopped")
