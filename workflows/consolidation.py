"""Consolidation flow: once every opinion is in, roll them into one outcome."""

from __future__ import annotations

import uuid

from prefect import flow, task
from prefect.runtime import flow_run

from accelerator.consultations.actions import consolidate_dossier
from accelerator.shared.db import utcnow
from workflows.steps import in_transaction, summary


def _run_name() -> str:
    ids = flow_run.parameters.get("dossier_ids", [])
    return f"consolidation-{ids[0]}" if len(ids) == 1 else f"consolidation-{len(ids)}-dossiers"


@task(name="consolidate-dossier", retries=2, retry_delay_seconds=1)
def consolidate(dossier_id: uuid.UUID) -> str | None:
    """Consolidate if every consultation is finished; no-op otherwise."""
    dossier = in_transaction(lambda s: consolidate_dossier(s, dossier_id=dossier_id, now=utcnow()))
    return None if dossier is None else dossier.outcome


@flow(name="consolidation", flow_run_name=_run_name, log_prints=True)
def consolidation_flow(dossier_ids: list[uuid.UUID]) -> dict[str, str | None]:
    """Each dossier's consolidated outcome, or None when opinions are still awaited."""
    futures = consolidate.map(list(dossier_ids))
    outcomes = {str(i): f.result() for i, f in zip(dossier_ids, futures, strict=True)}
    done = sum(outcome is not None for outcome in outcomes.values())
    summary("%d dossier(s) consolidé(s) sur %d", done, len(outcomes))
    return outcomes
