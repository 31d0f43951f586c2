"""The reconciler re-drives work that was lost, and only that."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from prefect.states import Pending, Running, Scheduled
from sqlalchemy import delete, select, update

from accelerator.consultations.actions import launch_consultations
from accelerator.consultations.models import ConsultationLaunch
from accelerator.dossiers.actions import take_charge
from accelerator.dossiers.models import Dossier, ProposedAdministration
from accelerator.outbox.models import OutboxMessage
from accelerator.shared.config import get_settings
from accelerator.shared.db import Database
from tests.factories import filed, paris, user
from workflows.reconcile import close_stuck_runs, reconcile_flow
from workflows.relay import drain

pytestmark = pytest.mark.usefixtures("prefect_engine")


def test_lost_intake_and_launch_are_driven_again(db: Database) -> None:
    dossier_id = filed(db, now=paris(2026, 3, 2, 10), attributes={"near_monument": True})
    referent = user(db, "referent@f.test")
    with db.transaction() as session:
        take_charge(session, dossier_id=dossier_id, user=referent, now=paris(2026, 3, 2, 11))
        launch_consultations(
            session, dossier_id=dossier_id, administrations=["SDIS-65"], user=referent,
            now=paris(2026, 3, 2, 12),
        )  # fmt: skip
        # Lose everything the outbox would have done: the routing and the launch's flow.
        session.execute(delete(ProposedAdministration))
        session.execute(update(Dossier).values(routed_at=None))
        session.execute(update(OutboxMessage).values(delivered_at=paris(2026, 3, 2, 12, 1)))
    repairs = asyncio.run(reconcile_flow())
    assert repairs["intakes"] == [str(dossier_id)]
    assert len(repairs["launches"]) == 1
    drain()
    with db.transaction() as session:
        assert session.scalars(select(ProposedAdministration.administration_code)).all() == [
            "UDAP-65"
        ]
        assert session.get_one(Dossier, dossier_id).routed_at is not None
        assert session.scalars(select(ConsultationLaunch.completed_at)).one() is not None
    # Nothing is left to repair: a second run queues nothing.
    again = asyncio.run(reconcile_flow())
    assert again["intakes"] == [] and again["launches"] == [] and again["consolidations"] == []


def test_work_submitted_within_the_grace_is_left_to_its_run(db: Database) -> None:
    from accelerator.reconciliation.actions import reconcile

    dossier_id = filed(db, now=paris(2026, 3, 2, 10), attributes={"near_monument": True})
    now = paris(2026, 3, 2, 11)
    with db.transaction() as session:
        # The intake was submitted (delivered) a minute ago; its run has not done it yet.
        session.execute(delete(ProposedAdministration))
        session.execute(update(Dossier).values(routed_at=None))
        session.execute(update(OutboxMessage).values(delivered_at=now - dt.timedelta(minutes=1)))
        assert reconcile(session, now=now, grace=dt.timedelta(minutes=5)).intakes == []
        # Once the grace has passed since that submission, it is queued again, once.
        later = now + dt.timedelta(minutes=5)
        assert reconcile(session, now=later, grace=dt.timedelta(minutes=5)).intakes == [
            str(dossier_id)
        ]
        assert reconcile(session, now=later, grace=dt.timedelta(minutes=5)).intakes == []


@flow(name="stuck-probe")
def _probe() -> None:
    """Only its runs are used: they are put in states by hand, never run."""


def test_runs_left_running_or_pending_by_a_dead_process_are_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACCELERATOR_STUCK_RUN_SECONDS", "60")
    get_settings.cache_clear()

    async def scenario() -> tuple[int, dict[str, StateType | None]]:
        async with get_client() as client:
            runs = {
                name: (await client.create_flow_run(_probe, state=Scheduled())).id
                for name in ("running", "pending", "pending-lately", "scheduled")
            }
            for name, state in (("running", Running()), ("pending", Pending())):
                await client.set_flow_run_state(runs[name], state, force=True)
            await asyncio.sleep(0.1)  # distinct instants on the server's clock
            # Scheduled long ago, but handed to a worker just now: not stuck.
            await client.set_flow_run_state(runs["pending-lately"], Pending(), force=True)
            recorded = {name: await client.read_flow_run(run_id) for name, run_id in runs.items()}
            # The threshold is placed between the instants the server recorded, not after a
            # sleep of the test: "now" is one stuck-run threshold after a cutoff that falls
            # after the first two runs took their states and before the third took its own,
            # however slow the machine.
            running, pending = recorded["running"], recorded["pending"]
            lately_run = recorded["pending-lately"]
            assert running.start_time and pending.state and lately_run.state
            stuck_since = max(running.start_time, pending.state.timestamp)
            lately = lately_run.state.timestamp
            assert stuck_since < lately
            cutoff = stuck_since + (lately - stuck_since) / 2
            closed = await close_stuck_runs.fn(now=cutoff + dt.timedelta(seconds=60))
            states = {
                name: (await client.read_flow_run(run_id)).state_type
                for name, run_id in runs.items()
            }
            return closed, states

    try:
        closed, states = asyncio.run(scenario())
    finally:
        get_settings.cache_clear()
    assert states == {
        "running": StateType.CRASHED,
        "pending": StateType.CRASHED,
        "pending-lately": StateType.PENDING,
        "scheduled": StateType.SCHEDULED,
    }
    assert closed >= 2  # runs other tests left behind may be closed too
