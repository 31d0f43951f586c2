"""Outbox topics: what a message asks the relay to do."""

from __future__ import annotations

from enum import StrEnum


class Topic(StrEnum):
    """Each topic has one handler in the relay (``workflows.relay``)."""

    INTAKE = "flow.intake"
    LAUNCH = "flow.launch"
    CONSOLIDATE = "flow.consolidate"
    #: A what-if a manager queued (``whatif``): run by the ``what-if`` flow, one at a time.
    WHAT_IF = "flow.what-if"
    NOTIFY = "notify"
    WEBHOOK = "webhook"
    WEBHOOK_REPLAY = "webhook.replay"
