"""Intake flow: a filed dossier is routed, a référent proposed, the 24 h clock started."""

from __future__ import annotations

import uuid

from prefect import flow, task

from accelerator.assignment.actions import propose_referent, start_take_charge_clock
from accelerator.db import utcnow
from accelerator.routing.actions import route_dossier
from workflows.steps import in_transaction


@task(name="route-dossier", retries=2, retry_delay_seconds=1)
def route(dossier_id: uuid.UUID) -> list[str]:
    """Record every administration the routing rules say must be consulted."""
    proposal = in_transaction(lambda s: route_dossier(s, dossier_id=dossier_id, now=utcnow()))
    return [p.administration_code for p in proposal]


@task(name="propose-referent", retries=2, retry_delay_seconds=1)
def propose(dossier_id: uuid.UUID) -> str | None:
    """Propose the least loaded référent covering the commune."""
    referent = in_transaction(lambda s: propose_referent(s, dossier_id=dossier_id, now=utcnow()))
    return None if referent is None else referent.email


@task(name="start-take-charge-clock", retries=2, retry_delay_seconds=1)
def start_clock(dossier_id: uuid.UUID) -> str:
    """Start the 24 h take-in-charge clock from the filing instant."""
    clock = in_transaction(lambda s: start_take_charge_clock(s, dossier_id=dossier_id))
    return clock.due_at.isoformat() if clock.due_at else ""


@flow(name="intake", flow_run_name="intake-{dossier_id}", log_prints=True)
def intake_flow(dossier_id: uuid.UUID) -> dict[str, object]:
    """Route, propose a référent, start the clock; each step is idempotent."""
    administrations = route(dossier_id)
    referent = propose(dossier_id)
    due_at = start_clock(dossier_id)
    return {"administrations": administrations, "referent": referent, "take_charge_due_at": due_at}
