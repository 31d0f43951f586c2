"""Intake flow: filed dossiers are routed, a référent proposed, their clocks started.

One run takes a batch of dossiers (every intake message the relay claimed at once): a
process worker costs seconds per run, a dossier's intake milliseconds (docs/decisions.md).
The batch is cut in chunks that run as mapped tasks; each dossier is its own transaction.
"""

from __future__ import annotations

import uuid

from prefect import flow, task
from prefect.runtime import flow_run

from accelerator.intake.actions import take_in
from accelerator.shared.db import utcnow
from workflows.steps import chunks, each_in_transaction, summary

#: Dossiers per task: small enough to spread over the task runner's threads.
CHUNK = 25


def _run_name() -> str:
    ids = flow_run.parameters.get("dossier_ids", [])
    return f"intake-{ids[0]}" if len(ids) == 1 else f"intake-{len(ids)}-dossiers"


@task(name="take-in-dossiers", retries=2, retry_delay_seconds=1)
def take_in_dossiers(dossier_ids: list[uuid.UUID]) -> dict[str, dict[str, object]]:
    """Route, propose a référent and start the clocks of each dossier (idempotent)."""
    done = each_in_transaction(
        "intake", dossier_ids, lambda s, dossier_id: take_in(s, dossier_id=dossier_id, now=utcnow())
    )
    return {key: vars(intake) for key, intake in done.items()}


@flow(name="intake", flow_run_name=_run_name, log_prints=True)
def intake_flow(dossier_ids: list[uuid.UUID]) -> dict[str, dict[str, object]]:
    """The intake of every dossier of the batch; fails (to be retried) if one failed."""
    futures = take_in_dossiers.map(list(chunks(list(dossier_ids), CHUNK)))
    results: dict[str, dict[str, object]] = {}
    for future in futures:
        results.update(future.result())
    summary("%d dossier(s) orienté(s), référent proposé, délais démarrés", len(results))
    return results
