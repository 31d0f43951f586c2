"""Find work that should have happened and did not, and queue it again (idempotently).

The outbox delivers at least once, but a handler may have been marked done while its effect
is missing (a bug, a flow killed between steps, a row restored from a backup). The database
says what must be true; this compares and re-drives the flows, which are idempotent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from accelerator.consultations.models import ConsultationLaunch
from accelerator.consultations.queries import finished_cycle
from accelerator.dossiers.models import Dossier
from accelerator.dossiers.status import DossierStatus
from accelerator.outbox.actions import Queued, enqueue
from accelerator.outbox.models import OutboxMessage
from accelerator.outbox.topics import Topic
from accelerator.whatif.actions import STALE_AFTER, fail_stale_runs
from accelerator.whatif.models import SimulationRun
from accelerator.whatif.status import RunStatus

#: Work younger than this may still be on its way: leave it to the relay.
GRACE = dt.timedelta(minutes=5)


@dataclass
class Repairs:
    """What a reconciliation queued again."""

    intakes: list[str] = field(default_factory=list)
    launches: list[str] = field(default_factory=list)
    consolidations: list[str] = field(default_factory=list)
    #: What-if runs still queued whose message was lost (queued again).
    what_ifs: list[str] = field(default_factory=list)
    #: What-if runs left running by a process that died (marked failed).
    stale_what_ifs: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """How many flows were queued again."""
        return (
            len(self.intakes) + len(self.launches) + len(self.consolidations) + len(self.what_ifs)
        )


def _pending(session: Session, topic: Topic, key: str, value: str, since: dt.datetime) -> bool:
    """Whether a message of ``topic`` with ``key == value`` is still on its way: not delivered
    yet, or delivered after ``since`` (in the distributed mode a delivery is a submission, and
    the run may still wait for a worker: queuing it again would only add a duplicate run)."""
    found = session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.topic == topic.value,
            or_(OutboxMessage.delivered_at.is_(None), OutboxMessage.delivered_at >= since),
            OutboxMessage.payload[key].as_string() == value,
        )
        .limit(1)
    )
    return found is not None


def reconcile(
    session: Session, *, now: dt.datetime, limit: int = 500, grace: dt.timedelta = GRACE
) -> Repairs:
    """Queue again the intakes, launches, consolidations and what-ifs that should have
    happened (``grace`` ago or earlier: younger work may still be on its way); mark failed
    the what-ifs left running by a process that died."""
    repairs = Repairs()
    before = now - grace
    unrouted = session.scalars(
        select(Dossier.id)
        .where(Dossier.filed_at.is_not(None), Dossier.filed_at < before)
        .where(Dossier.routed_at.is_(None), Dossier.status != DossierStatus.WITHDRAWN.value)
        .limit(limit)
    )
    for dossier_id in unrouted:
        if not _pending(session, Topic.INTAKE, "dossier_id", str(dossier_id), before):
            enqueue(session, Queued(Topic.INTAKE, {"dossier_id": str(dossier_id)}), now=now)
            repairs.intakes.append(str(dossier_id))
    incomplete = session.scalars(
        select(ConsultationLaunch.id)
        .where(ConsultationLaunch.completed_at.is_(None), ConsultationLaunch.requested_at < before)
        .limit(limit)
    )
    for launch_id in incomplete:
        if not _pending(session, Topic.LAUNCH, "launch_id", str(launch_id), before):
            enqueue(session, Queued(Topic.LAUNCH, {"launch_id": str(launch_id)}), now=now)
            repairs.launches.append(str(launch_id))
    consulting = session.scalars(
        select(Dossier).where(Dossier.status == DossierStatus.CONSULTING.value).limit(limit)
    )
    for dossier in consulting:
        if finished_cycle(session, dossier) is not None and not _pending(
            session, Topic.CONSOLIDATE, "dossier_id", str(dossier.id), before
        ):
            enqueue(session, Queued(Topic.CONSOLIDATE, {"dossier_id": str(dossier.id)}), now=now)
            repairs.consolidations.append(str(dossier.id))
    queued = session.scalars(
        select(SimulationRun.id)
        .where(SimulationRun.status == RunStatus.QUEUED.value, SimulationRun.requested_at < before)
        .limit(limit)
    )
    for run_id in queued:
        # In the embedded mode a run may wait its turn behind another one: queued again, it
        # is handed over twice, and the second flow finds it started and does nothing.
        if not _pending(session, Topic.WHAT_IF, "run_id", str(run_id), before):
            enqueue(session, Queued(Topic.WHAT_IF, {"run_id": str(run_id)}), now=now)
            repairs.what_ifs.append(str(run_id))
    repairs.stale_what_ifs = [
        str(run_id) for run_id in fail_stale_runs(session, now=now, older_than=STALE_AFTER)
    ]
    return repairs
