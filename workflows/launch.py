"""Launch flow: every consultation of a launch is created at once, by mapped tasks.

One run takes a batch of launches (every launch message the relay claimed at once); inside,
one mapped task per (launch, administration) creates that consultation in parallel.
"""

from __future__ import annotations

import uuid

from prefect import flow, task
from prefect.runtime import flow_run
from sqlalchemy.orm import Session

from accelerator.consultations.actions import complete_launch, create_consultation, get_launch
from accelerator.shared.db import utcnow
from workflows.steps import in_transaction, summary


def _run_name() -> str:
    ids = flow_run.parameters.get("launch_ids", [])
    return f"launch-{ids[0]}" if len(ids) == 1 else f"launch-{len(ids)}-launches"


@task(name="list-launch-entries")
def entries(launch_ids: list[uuid.UUID]) -> list[tuple[uuid.UUID, str]]:
    """Every (launch, administration) pair of the batch."""

    def pairs(session: Session) -> list[tuple[uuid.UUID, str]]:
        found = []
        for launch_id in launch_ids:
            launch = get_launch(session, launch_id)
            found += [(launch_id, entry["administration"]) for entry in launch.entries]
        return found

    return in_transaction(pairs)


@task(
    name="create-consultation",
    retries=3,
    retry_delay_seconds=1,
    task_run_name="consult-{administration}",
)
def consult(launch_id: uuid.UUID, administration: str) -> str | None:
    """Create one administration's consultation with its deadline (idempotent); None when the
    dossier was withdrawn meanwhile."""
    consultation, _ = in_transaction(
        lambda s: create_consultation(s, launch_id=launch_id, administration=administration)
    )
    return None if consultation is None else str(consultation.id)


@task(name="complete-launch")
def complete(launch_id: uuid.UUID) -> bool:
    """Mark the launch complete once every consultation exists."""
    return in_transaction(lambda s: complete_launch(s, launch_id=launch_id, now=utcnow()))


@flow(name="launch-consultations", flow_run_name=_run_name, log_prints=True)
def launch_flow(launch_ids: list[uuid.UUID]) -> list[str]:
    """Fan out to every administration at once, then close each launch."""
    pairs = entries(launch_ids)
    futures = consult.map([p[0] for p in pairs], [p[1] for p in pairs])
    consultation_ids = [i for i in (f.result() for f in futures) if i is not None]
    completed = complete.map(launch_ids)
    missing = [str(i) for i, f in zip(launch_ids, completed, strict=True) if not f.result()]
    if missing:
        raise RuntimeError(f"launches {', '.join(missing)}: some consultations are missing")
    summary(
        "%d consultation(s) envoyée(s) pour %d lancement(s)", len(consultation_ids), len(launch_ids)
    )
    return consultation_ids
