"""Distributed mode: flows as Prefect deployments on a work pool, run by workers.

``accelerator deploy`` creates the work pool (with a concurrency limit) and registers one
deployment per flow from this checkout (no image, no push: every worker machine has the same
code); the sweep (every minute) and the weekly review pack (Mondays 07:00, Paris) get
schedules. ``accelerator worker`` starts a Prefect process worker on the pool. With
``ACCELERATOR_FLOW_MODE=deployments`` the relay submits runs
(``run_deployment(..., timeout=0, idempotency_key=<the batch's outbox ids>)``), one run per
batch of messages, instead of running flows itself: a batch submitted twice makes one run.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
POOL = "accelerator"


@dataclass(frozen=True)
class FlowDeployment:
    """One flow of this product as a deployment."""

    flow_name: str
    entrypoint: str
    cron: str | None = None
    #: The zone the cron is read in (UTC when None).
    timezone: str | None = None

    @property
    def name(self) -> str:
        """``flow/deployment`` as ``run_deployment`` expects it."""
        return f"{self.flow_name}/{POOL}"


DEPLOYMENTS = {
    "intake": FlowDeployment("intake", "workflows/intake.py:intake_flow"),
    "launch": FlowDeployment("launch-consultations", "workflows/launch.py:launch_flow"),
    "consolidation": FlowDeployment(
        "consolidation", "workflows/consolidation.py:consolidation_flow"
    ),
    "sweep": FlowDeployment("sweep", "workflows/sweep.py:sweep_flow", cron="* * * * *"),
    "reconcile": FlowDeployment("reconcile", "workflows/reconcile.py:reconcile_flow"),
    "what-if": FlowDeployment("what-if", "workflows/what_if.py:what_if_flow"),
    # Mondays at 07:00 in Paris, whatever the season (Prefect follows the zone's DST).
    "weekly-pack": FlowDeployment(
        "weekly-pack",
        "workflows/review_pack.py:weekly_pack_flow",
        cron="0 7 * * 1",
        timezone="Europe/Paris",
    ),
}


async def _ensure_pool(limit: int) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
    from prefect.exceptions import ObjectAlreadyExists

    async with get_client() as client:
        try:
            await client.create_work_pool(
                WorkPoolCreate(name=POOL, type="process", concurrency_limit=limit)
            )
        except ObjectAlreadyExists:
            await client.update_work_pool(POOL, WorkPoolUpdate(concurrency_limit=limit))


def deploy(*, concurrency_limit: int = 4) -> list[str]:
    """Create the work pool and register every deployment; returns their names."""
    from prefect.flows import Flow
    from prefect.schedules import Cron

    asyncio.run(_ensure_pool(concurrency_limit))
    names = []
    for spec in DEPLOYMENTS.values():
        flow: Any = Flow.from_source(source=str(ROOT), entrypoint=spec.entrypoint)
        flow.deploy(
            name=POOL,
            work_pool_name=POOL,
            build=False,
            push=False,
            schedule=Cron(spec.cron, timezone=spec.timezone) if spec.cron else None,
            print_next_steps=False,
            ignore_warnings=True,
        )
        names.append(spec.name)
    return names


def submit(kind: str, parameters: dict[str, Any], *, key: str) -> str:
    """Start the deployment of ``kind`` without waiting; the same ``key`` makes one run."""
    from prefect.deployments import run_deployment

    run: Any = run_deployment(
        DEPLOYMENTS[kind].name,
        parameters=parameters,
        timeout=0,
        idempotency_key=key,
        as_subflow=False,
    )
    return str(run.id)
