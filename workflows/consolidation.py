"""Consolidation flow: once every opinion is in, roll them into one outcome."""

from __future__ import annotations

import uuid

from prefect import flow, task

from accelerator.db import utcnow
from accelerator.dossiers.actions import consolidate_dossier
from workflows.steps import in_transaction


@task(name="consolidate-dossier", retries=2, retry_delay_seconds=1)
def consolidate(dossier_id: uuid.UUID) -> str | None:
    """Consolidate if every consultation is finished; no-op otherwise."""
    dossier = in_transaction(lambda s: consolidate_dossier(s, dossier_id=dossier_id, now=utcnow()))
    return None if dossier is None else dossier.outcome


@flow(name="consolidation", flow_run_name="consolidation-{dossier_id}", log_prints=True)
def consolidation_flow(dossier_id: uuid.UUID) -> str | None:
    """The consolidated outcome, or None when opinions are still awaited."""
    return consolidate(dossier_id)
