"""The what-if flow on a real Prefect engine: a run queued from the page is handed over by
the relay to the what-if thread, simulated and its answer stored; a delivery twice changes
nothing; a refused scenario and an unexpected error are stored failed, in French; a queued
run whose message was lost is queued again by the reconciliation."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select, update

from accelerator.outbox.models import OutboxMessage
from accelerator.outbox.topics import Topic
from accelerator.reconciliation.actions import reconcile
from accelerator.shared.config import Settings
from accelerator.shared.db import Database, utcnow
from accelerator.simulation.actions import queue_what_if
from accelerator.whatif.actions import queue_run
from accelerator.whatif.models import SimulationRun
from tests.accelerator.test_whatif import hotel, manager
from workflows import what_if
from workflows.relay import drain
from workflows.what_if import RUNNER, what_if_flow

pytestmark = pytest.mark.usefixtures("prefect_engine")


def queued(db: Database, **scenario: Any) -> uuid.UUID:
    person = manager(db)
    with db.transaction() as session:
        if scenario:
            return queue_run(session, dossiers=2, seed=1, scenario=scenario, user=person,
                             now=utcnow()).id  # fmt: skip
        return queue_what_if(session, data=hotel(), user=person, now=utcnow()).id


def run_row(db: Database, run_id: uuid.UUID) -> SimulationRun:
    with db.transaction() as session:
        found = session.get_one(SimulationRun, run_id)
        session.expunge(found)
        return found


def test_the_relay_hands_a_queued_run_to_the_flow_which_stores_its_answer(db: Database) -> None:
    run_id = queued(db)
    assert drain() == 1  # the message, handed to the what-if thread (the relay moves on)
    RUNNER.join()
    found = run_row(db, run_id)
    assert found.status == "done", found.error
    assert found.started_at is not None and found.finished_at is not None
    assert found.result is not None
    assert found.result["modes"]["parallel"]["p50"] == pytest.approx(21.0)
    assert found.result["modes"]["serial"]["p50"] == pytest.approx(41.0)
    assert found.result["ratio"]["p50"] == pytest.approx(0.512)
    # Delivered again (at least once): the flow finds it done and changes nothing.
    assert what_if_flow(run_id=run_id) == "skipped"
    assert run_row(db, run_id).finished_at == found.finished_at


def test_a_refused_scenario_is_stored_failed_with_its_french_message(db: Database) -> None:
    run_id = queued(db, administrations={"DDT-99": {"response": {"kind": "legal"}}})
    assert what_if_flow(run_id=run_id) == "failed"
    found = run_row(db, run_id)
    assert found.status == "failed" and found.result is None
    assert (found.error or "").startswith("Administration inconnue dans le scénario : DDT-99")


def test_an_unexpected_error_is_stored_failed_without_its_details(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("/tmp/secret path")

    monkeypatch.setattr(what_if, "run_what_if", broken)
    run_id = queued(db)
    assert what_if_flow(run_id=run_id) == "failed"
    found = run_row(db, run_id)
    assert found.status == "failed"
    assert found.error is not None and "erreur inattendue (RuntimeError)" in found.error
    assert "secret" not in found.error


def test_a_queued_run_whose_message_was_lost_is_queued_again(db: Database) -> None:
    run_id = queued(db)
    with db.transaction() as session:
        # The message went to a relay that died before the run started.
        session.execute(update(OutboxMessage).values(delivered_at=utcnow()))
    with db.transaction() as session:
        assert reconcile(session, now=utcnow(), grace=dt.timedelta(0)).what_ifs == [str(run_id)]
        # Queued once: the new message is on its way.
        assert reconcile(session, now=utcnow(), grace=dt.timedelta(0)).what_ifs == []
    drain()
    RUNNER.join()
    assert run_row(db, run_id).status == "done"
    with db.transaction() as session:
        topics = session.scalars(select(OutboxMessage.topic)).all()
        assert topics == [Topic.WHAT_IF.value, Topic.WHAT_IF.value]


def test_in_the_distributed_mode_a_run_is_submitted_once_as_a_deployment_run(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    submitted: list[tuple[str, dict[str, Any], str]] = []
    monkeypatch.setattr(
        what_if, "get_settings", lambda: Settings(database_url=db.url, flow_mode="deployments")
    )
    monkeypatch.setattr(
        what_if.deployments, "submit", lambda kind, parameters, *, key: submitted.append(
            (kind, parameters, key)) or "flow-run-id"
    )  # fmt: skip
    run_id = queued(db)
    assert drain() == 1
    assert submitted == [("what-if", {"run_id": str(run_id)}, f"what-if:{run_id}")]
    assert run_row(db, run_id).status == "queued"  # a worker will run it
