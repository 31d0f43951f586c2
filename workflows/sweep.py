"""Sweep flow: fire every due rung (reminders, breaches, escalations, tacit opinions), then
bring the managers' figures up to date (``metrics.actions.refresh_batch``)."""

from __future__ import annotations

from prefect import flow, task

from accelerator.metrics.actions import refresh_batch
from accelerator.shared.db import utcnow
from accelerator.sweep.actions import sweep_batch
from workflows.steps import in_transaction

BATCH = 500


@task(name="sweep-batch")
def sweep_once(limit: int = BATCH) -> int:
    """Claim one batch of clocks with due rungs and fire them; returns how many fired."""
    return len(in_transaction(lambda s: sweep_batch(s, now=utcnow(), limit=limit)))


@task(name="metrics-refresh")
def refresh_metrics(limit: int = BATCH) -> int:
    """Derive the figures' facts of one batch of changed consultations or dossiers."""
    return in_transaction(lambda s: refresh_batch(s, now=utcnow(), batch=limit))


def _run_name() -> str:
    return f"sweep-{utcnow():%Y%m%d-%H%M%S}"


@flow(name="sweep", flow_run_name=_run_name, log_prints=True)
def sweep_flow(batch: int = BATCH) -> int:
    """Fire every due rung, batch after batch, until none is due (no cap drops the rest);
    then refresh the figures' facts of what changed since the last sweep (the tacit opinions
    just applied included), so that no figure is staler than one sweep."""
    total = 0
    while True:
        fired = sweep_once(batch)
        total += fired
        if fired == 0:
            break
    while refresh_metrics(batch):
        pass
    return total
