"""The what-if runs' use cases: queue one (its flow queued through the outbox with it), start
it, store its answer or why it failed, give up on one whose process died.

Each locks its row (``FOR UPDATE``; ``BEGIN IMMEDIATE`` on SQLite), checks the move against
``status.TRANSITIONS`` and never commits. Starting, finishing and failing do nothing when the
run is already where the call would put it: a flow delivered twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.identity.models import User
from accelerator.outbox.actions import Queued, enqueue
from accelerator.outbox.topics import Topic
from accelerator.shared.db import serialise
from accelerator.shared.errors import InvalidInput, NotFound
from accelerator.shared.text import t
from accelerator.whatif.models import SimulationRun
from accelerator.whatif.queries import waiting_count
from accelerator.whatif.schemas import RunParameters, RunResult
from accelerator.whatif.status import RunStatus, check_transition

#: The most runs queued or running at once: each one takes minutes of both cores.
MAX_WAITING = 3
#: The advisory lock key of the queue (PostgreSQL): "whatif" in ASCII.
QUEUE_LOCK = 0x776861746966
#: A run still running this long after it started lost its process (the page's largest run
#: takes minutes, tens of them on a loaded machine).
STALE_AFTER = dt.timedelta(hours=2)
#: The longest French failure message kept.
MAX_ERROR = 2000


def dedupe_key(run_id: uuid.UUID) -> str:
    """The outbox key of a run's flow message (one message per run)."""
    return f"what-if:{run_id}"


def queue_run(
    session: Session,
    *,
    dossiers: int,
    seed: int,
    scenario: dict[str, Any],
    user: User,
    now: dt.datetime,
) -> SimulationRun:
    """A new queued run and its flow's message (delivered after commit); refused when
    ``MAX_WAITING`` runs are already queued or running.

    ``scenario`` is a validated ``simulation.schemas.SimulationConfig`` in JSON mode: the
    simulation's own action (``simulation.actions.queue_what_if``) checks it first.
    """
    serialise(session, QUEUE_LOCK)  # counted and added by one manager at a time
    if waiting_count(session) >= MAX_WAITING:
        raise InvalidInput(t("whatif.too_many_waiting", count=MAX_WAITING))
    run = SimulationRun(
        requested_at=now,
        requested_by=user.id,
        dossiers=dossiers,
        seed=seed,
        scenario=scenario,
        status=RunStatus.QUEUED.value,
    )
    session.add(run)
    session.flush()
    enqueue(
        session,
        Queued(Topic.WHAT_IF, {"run_id": str(run.id)}, dedupe_key=dedupe_key(run.id)),
        now=now,
    )
    return run


def _locked(session: Session, run_id: uuid.UUID) -> SimulationRun:
    run = session.scalar(select(SimulationRun).where(SimulationRun.id == run_id).with_for_update())
    if run is None:
        raise NotFound(t("whatif.not_found"))
    session.refresh(run)  # the row as the lock found it, not as this session cached it
    return run


def change_status(run: SimulationRun, target: RunStatus) -> None:
    """Move ``run`` to ``target`` after checking the move: the one write of a run's status."""
    check_transition(RunStatus(run.status), target)
    run.status = target.value


def start_run(session: Session, *, run_id: uuid.UUID, now: dt.datetime) -> RunParameters | None:
    """Mark a queued run running and give its inputs; None when it is no longer queued (it
    started or finished already: nothing to do)."""
    run = _locked(session, run_id)
    if run.status != RunStatus.QUEUED:
        return None
    change_status(run, RunStatus.RUNNING)
    run.started_at = now
    return RunParameters(run.id, run.dossiers, run.seed, dict(run.scenario))


def finish_run(
    session: Session, *, run_id: uuid.UUID, result: dict[str, Any], now: dt.datetime
) -> SimulationRun:
    """Store a running run's answer (``simulation.rules.as_json``'s, checked by
    ``RunResult``) and mark it done."""
    answer = RunResult.model_validate(result)
    run = _locked(session, run_id)
    if run.status == RunStatus.DONE:
        return run
    change_status(run, RunStatus.DONE)
    run.finished_at = now
    run.result = answer.model_dump(mode="json")
    return run


def fail_run(
    session: Session, *, run_id: uuid.UUID, message: str, now: dt.datetime
) -> SimulationRun:
    """Mark a queued or running run failed, with why in French."""
    run = _locked(session, run_id)
    if run.status == RunStatus.FAILED:
        return run
    change_status(run, RunStatus.FAILED)
    run.finished_at = now
    run.error = message[:MAX_ERROR]
    return run


def fail_stale_runs(
    session: Session, *, now: dt.datetime, older_than: dt.timedelta
) -> list[uuid.UUID]:
    """Mark failed the runs still running ``older_than`` after they started: their process
    died (a run of the page's largest size takes minutes), and they would hold a place of
    ``MAX_WAITING`` for ever."""
    stale = list(
        session.scalars(
            select(SimulationRun.id).where(
                SimulationRun.status == RunStatus.RUNNING.value,
                SimulationRun.started_at < now - older_than,
            )
        )
    )
    for run_id in stale:
        fail_run(session, run_id=run_id, message=t("whatif.interrupted"), now=now)
    return stale
