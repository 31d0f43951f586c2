"""The reconciler re-drives work that was lost, and only that."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, select, update

from accelerator.consultations.models import ConsultationLaunch
from accelerator.db import Database
from accelerator.dossiers.actions import launch_consultations, take_charge
from accelerator.dossiers.models import Dossier, ProposedAdministration
from accelerator.outbox.models import OutboxMessage
from tests.factories import filed, paris, user
from workflows.reconcile import reconcile_flow
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
    import datetime as dt

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
