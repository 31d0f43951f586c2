"""``weekly-pack`` flow: build last week's review pack, then queue it by e-mail to every
active manager (``metrics.actions.queue_weekly_pack``), on Mondays at 07:00, Paris time.

Scheduled by its deployment's cron (``0 7 * * 1``, Europe/Paris) in the distributed mode, and
by the relay in the embedded one (``due_week``: the relay runs it once per week due, again
after a restart, which queues nothing new). Building first means a pack that cannot be laid
out sends nothing; the e-mails attach the PDF built again at delivery (one rendering shared
by the morning's e-mails, ``notifications.weekly_pack_pdf``).
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, task

from accelerator.metrics.actions import queue_weekly_pack
from accelerator.metrics.pack import build_pack, due_week, parse_week
from accelerator.shared.config import get_settings
from accelerator.shared.db import utcnow
from reports.weekly import render_pdf
from workflows.steps import in_transaction, summary


@task(name="weekly-pack-build")
def build(week: str) -> int:
    """Build and lay out the week's pack; returns the PDF's size in bytes."""
    pack = in_transaction(lambda s: build_pack(s, parse_week(week), now=utcnow()))
    return len(render_pdf(pack, base_url=get_settings().public_url))


@task(name="weekly-pack-queue")
def queue(week: str) -> int:
    """Queue one e-mail per active manager not yet served for the week; returns how many."""
    return len(in_transaction(lambda s: queue_weekly_pack(s, week=parse_week(week), now=utcnow())))


def _run_name() -> str:
    return f"weekly-pack-{utcnow():%Y%m%d-%H%M%S}"


@flow(name="weekly-pack", flow_run_name=_run_name, log_prints=True)
def weekly_pack_flow(week: str | None = None) -> int:
    """The review pack of ``week`` (default: the latest one due) to every active manager;
    returns how many e-mails were newly queued (0 on a re-run)."""
    chosen = str(parse_week(week) if week else due_week(utcnow()))
    size = build(chosen)
    queued = queue(chosen)
    summary("weekly pack %s: %d bytes, %d e-mail(s) queued", chosen, size, queued)
    return queued


class WeeklyPackClock:
    """The relay's schedule for the flow in the embedded mode (no Prefect schedules there):
    each week once, from Monday 07:00 Paris; the first check after a start runs the last week
    due again (which queues nothing already queued)."""

    def __init__(self) -> None:
        self.done: str | None = None

    def due(self, now: dt.datetime) -> str | None:
        """The week to run the flow for at ``now``, or None when it already ran for it."""
        week = str(due_week(now))
        return None if week == self.done else week

    def ran(self, week: str) -> None:
        """Record that the flow ran for ``week``."""
        self.done = week
