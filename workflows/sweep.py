"""Sweep flow: fire every due rung (reminders, breaches, escalations, tacit opinions)."""

from __future__ import annotations

from prefect import flow, task

from accelerator.shared.db import utcnow
from accelerator.sweep.actions import sweep_batch
from workflows.steps import in_transaction

BATCH = 500


@task(name="sweep-batch")
def sweep_once(limit: int = BATCH) -> int:
    """Claim one batch of clocks with due rungs and fire them; returns how many fired."""
    return len(in_transaction(lambda s: sweep_batch(s, now=utcnow(), limit=limit)))


def _run_name() -> str:
    return f"sweep-{utcnow():%Y%m%d-%H%M%S}"


@flow(name="sweep", flow_run_name=_run_name, log_prints=True)
def sweep_flow(batch: int = BATCH) -> int:
    """Fire every due rung, batch after batch, until none is due (no cap drops the rest)."""
    total = 0
    while True:
        fired = sweep_once(batch)
        total += fired
        if fired == 0:
            return total
