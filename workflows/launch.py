"""Launch flow: one mapped task per administration creates its consultation, in parallel."""

from __future__ import annotations

import uuid

from prefect import flow, task

from accelerator.consultations.actions import complete_launch, create_consultation, get_launch
from accelerator.db import utcnow
from workflows.steps import in_transaction


@task(name="list-launch-entries")
def entries(launch_id: uuid.UUID) -> list[str]:
    """The administrations of a launch."""
    launch = in_transaction(lambda s: get_launch(s, launch_id))
    return [e["administration"] for e in launch.entries]


@task(
    name="create-consultation",
    retries=3,
    retry_delay_seconds=1,
    task_run_name="consult-{administration}",
)
def consult(launch_id: uuid.UUID, administration: str) -> str:
    """Create one administration's consultation with its deadline (idempotent)."""
    consultation, _ = in_transaction(
        lambda s: create_consultation(s, launch_id=launch_id, administration=administration)
    )
    return str(consultation.id)


@task(name="complete-launch")
def complete(launch_id: uuid.UUID) -> bool:
    """Mark the launch complete once every consultation exists."""
    return in_transaction(lambda s: complete_launch(s, launch_id=launch_id, now=utcnow()))


@flow(name="launch-consultations", flow_run_name="launch-{launch_id}", log_prints=True)
def launch_flow(launch_id: uuid.UUID) -> list[str]:
    """Fan out to every administration at once, then close the launch."""
    administrations = entries(launch_id)
    futures = consult.map(launch_id, administrations)
    consultation_ids = [f.result() for f in futures]
    if not complete(launch_id):
        raise RuntimeError(f"launch {launch_id}: some consultations are missing")
    return consultation_ids
