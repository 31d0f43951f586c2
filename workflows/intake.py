"""Intake flow: a filed dossier is routed, a référent proposed, the 24 h clock started."""

from __future__ import annotations

import uuid

from prefect import flow, task
from sqlalchemy.orm import Session

from accelerator.assignment.actions import (
    propose_referent,
    start_procedure_clocks,
    start_take_charge_clock,
)
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


@task(name="start-clocks", retries=2, retry_delay_seconds=1)
def start_clocks(dossier_id: uuid.UUID) -> list[str]:
    """Start the 24 h take-in-charge clock and each procedure's legal delay from the filing."""

    def start(session: Session) -> list[str]:
        clocks = [start_take_charge_clock(session, dossier_id=dossier_id)]
        clocks += start_procedure_clocks(session, dossier_id=dossier_id)
        return [f"{c.kind}:{c.due_at.isoformat() if c.due_at else '-'}" for c in clocks]

    return in_transaction(start)


@flow(name="intake", flow_run_name="intake-{dossier_id}", log_prints=True)
def intake_flow(dossier_id: uuid.UUID) -> dict[str, object]:
    """Route, propose a référent, start the clock; each step is idempotent."""
    administrations = route(dossier_id)
    referent = propose(dossier_id)
    clocks = start_clocks(dossier_id)
    return {"administrations": administrations, "referent": referent, "clocks": clocks}
