"""The managers' what-if runs (accelerator/whatif): queued with their flow's message, started
once, their answer stored (the hotel's known answer: 21 days in parallel, 41 in series), a
failure stored in French, a run whose process died given up on; and the status table, checked
against a table written here."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from accelerator.identity.actions import create_user
from accelerator.identity.models import User
from accelerator.identity.roles import Role
from accelerator.outbox.models import OutboxMessage
from accelerator.outbox.topics import Topic
from accelerator.shared.errors import InvalidInput, InvalidTransition
from accelerator.simulation.actions import queue_what_if, run_what_if
from accelerator.simulation.schemas import SimulationConfig, WhatIfIn
from accelerator.whatif.actions import (
    MAX_WAITING,
    fail_run,
    fail_stale_runs,
    finish_run,
    queue_run,
    start_run,
)
from accelerator.whatif.models import SimulationRun
from accelerator.whatif.status import RunStatus, check_transition
from tests.accelerator.test_simulation import HOTEL
from tests.factories import paris

NOW = paris(2026, 12, 7, 10)


def manager(db: Any) -> User:
    """The manager who asks (created the first time)."""
    with db.transaction() as session:
        found = session.scalar(select(User).where(User.email == "pilote@f.test"))
        if found is None:
            found = create_user(
                session, email="pilote@f.test", role=Role.MANAGER, password="password", now=NOW
            )
            session.flush()
        session.expunge(found)
        return found


def hotel(dossiers: int = 2, seed: int = 7) -> WhatIfIn:
    return WhatIfIn(dossiers=dossiers, seed=seed, scenario=SimulationConfig.model_validate(HOTEL))


def queued(db: Any, data: WhatIfIn | None = None) -> uuid.UUID:
    person = manager(db)
    with db.transaction() as session:
        run = queue_what_if(session, data=data or hotel(), user=person, now=NOW)
        return run.id


def row(db: Any, run_id: uuid.UUID) -> SimulationRun:
    with db.transaction() as session:
        found = session.get_one(SimulationRun, run_id)
        session.expunge(found)
        return found


#: Written here, not read from the code: queued → running or failed, running → done or
#: failed, nothing out of done or failed.
ALLOWED = {
    ("queued", "running"),
    ("queued", "failed"),
    ("running", "done"),
    ("running", "failed"),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(RunStatus, RunStatus)))
def test_every_status_move_is_allowed_or_refused_as_the_table_says(
    current: RunStatus, target: RunStatus
) -> None:
    if (current.value, target.value) in ALLOWED:
        check_transition(current, target)
    else:
        with pytest.raises(InvalidTransition, match="La simulation est"):
            check_transition(current, target)


def test_a_queued_run_carries_its_scenario_and_one_flow_message(db: Any) -> None:
    run_id = queued(db)
    found = row(db, run_id)
    assert (found.status, found.dossiers, found.seed) == ("queued", 2, 7)
    assert found.requested_at == NOW and found.started_at is None and found.result is None
    # The scenario as the model dumps it: read back through the same model, it is the same.
    assert SimulationConfig.model_validate(found.scenario) == SimulationConfig.model_validate(HOTEL)
    with db.transaction() as session:
        messages = session.scalars(select(OutboxMessage)).all()
        assert [(m.topic, m.payload) for m in messages] == [
            (Topic.WHAT_IF.value, {"run_id": str(run_id)})
        ]


def test_no_more_than_three_runs_wait_at_once(db: Any) -> None:
    person = manager(db)
    with db.transaction() as session:
        for _ in range(MAX_WAITING):
            queue_what_if(session, data=hotel(), user=person, now=NOW)
    with db.transaction() as session, pytest.raises(InvalidInput, match="déjà en attente"):
        queue_what_if(session, data=hotel(), user=person, now=NOW)
    with db.transaction() as session:
        assert len(session.scalars(select(SimulationRun)).all()) == MAX_WAITING
        # A finished one frees its place.
        first = session.scalars(select(SimulationRun.id)).first()
        assert first is not None
        start_run(session, run_id=first, now=NOW)
        fail_run(session, run_id=first, message="arrêtée", now=NOW)
    with db.transaction() as session:
        queue_what_if(session, data=hotel(), user=person, now=NOW)


def test_two_managers_queueing_at_once_never_make_it_four(db: Any) -> None:
    person = manager(db)
    with db.transaction() as session:
        for _ in range(MAX_WAITING - 1):
            queue_what_if(session, data=hotel(), user=person, now=NOW)
    outcomes: list[str] = []

    def second_manager() -> None:
        try:
            with db.transaction() as session:
                queue_what_if(session, data=hotel(), user=person, now=NOW)
            outcomes.append("queued")
        except InvalidInput:
            outcomes.append("refused")

    with db.transaction() as session:
        queue_what_if(session, data=hotel(), user=person, now=NOW)  # the last place, not committed
        other = threading.Thread(target=second_manager)
        other.start()
        other.join(timeout=1.0)
        # The other manager waits for this one's transaction (uncommitted, its run is unseen).
        assert other.is_alive() and outcomes == []
    other.join(timeout=60)
    assert outcomes == ["refused"]
    with db.transaction(read_only=True) as session:
        assert len(session.scalars(select(SimulationRun)).all()) == MAX_WAITING


def test_a_scenario_naming_an_administration_the_simulation_lacks_is_refused(db: Any) -> None:
    person = manager(db)
    data = WhatIfIn.model_validate(
        {"scenario": {"administrations": {"DDT-99": {"response": {"kind": "legal"}}}}}
    )
    with db.transaction() as session, pytest.raises(InvalidInput, match="DDT-99"):
        queue_what_if(session, data=data, user=person, now=NOW)
    with db.transaction() as session:
        assert session.scalars(select(SimulationRun)).all() == []
        assert session.scalars(select(OutboxMessage)).all() == []


def test_a_run_starts_once_and_stores_its_answer(db: Any) -> None:
    run_id = queued(db)
    later = NOW + dt.timedelta(minutes=1)
    with db.transaction() as session:
        parameters = start_run(session, run_id=run_id, now=later)
        assert parameters is not None
        # Delivered twice: the second start finds it running and does nothing.
        assert start_run(session, run_id=run_id, now=later) is None
    assert row(db, run_id).status == "running"
    answer = run_what_if(parameters, history={})
    with db.transaction() as session:
        finish_run(session, run_id=run_id, result=answer, now=later + dt.timedelta(seconds=30))
    found = row(db, run_id)
    assert (found.status, found.started_at, found.error) == ("done", later, None)
    assert found.finished_at == later + dt.timedelta(seconds=30)
    assert found.result is not None
    # Take-in-charge 1 day, then the slowest answer (20 days) or their sum (40 days).
    parallel, serial = found.result["modes"]["parallel"], found.result["modes"]["serial"]
    assert parallel["n"] == serial["n"] == 2
    assert (parallel["p50"], parallel["p95"]) == (pytest.approx(21.0), pytest.approx(21.0))
    assert (serial["p50"], serial["p85"]) == (pytest.approx(41.0), pytest.approx(41.0))
    assert found.result["ratio"] == {
        "p50": pytest.approx(0.512), "p85": pytest.approx(0.512), "p95": pytest.approx(0.512)
    }  # fmt: skip
    assert found.result["responses"]["SDIS-65"]["source"] == "file"
    # A finished run never moves again.
    with db.transaction() as session, pytest.raises(InvalidTransition):
        fail_run(session, run_id=run_id, message="trop tard", now=later)


def test_an_answer_for_a_run_that_never_started_is_refused(db: Any) -> None:
    run_id = queued(db)
    with db.transaction() as session, pytest.raises(InvalidTransition, match="En attente"):
        finish_run(
            session,
            run_id=run_id,
            result={"seconds": 1.0, "modes": {}, "ratio": None},
            now=NOW,
        )
    assert row(db, run_id).status == "queued"


def test_a_run_whose_scenario_no_longer_passes_is_stored_failed_in_french(db: Any) -> None:
    person = manager(db)
    with db.transaction() as session:
        # As if the catalogue had lost DDT-99 since (the page refuses it as it is queued).
        run_id = queue_run(
            session,
            dossiers=2,
            seed=1,
            scenario={"administrations": {"DDT-99": {"response": {"kind": "legal"}}}},
            user=person,
            now=NOW,
        ).id
    with db.transaction() as session:
        parameters = start_run(session, run_id=run_id, now=NOW)
    assert parameters is not None
    with pytest.raises(InvalidInput) as refused:
        run_what_if(parameters, history={})
    with db.transaction() as session:
        fail_run(session, run_id=run_id, message=refused.value.message, now=NOW)
    found = row(db, run_id)
    assert found.status == "failed" and found.result is None and found.finished_at == NOW
    assert found.error == refused.value.message
    assert found.error.startswith("Administration inconnue dans le scénario : DDT-99")


def test_a_run_left_running_by_a_dead_process_is_given_up_on(db: Any) -> None:
    stale, recent = queued(db), queued(db)
    with db.transaction() as session:
        start_run(session, run_id=stale, now=NOW - dt.timedelta(hours=3))
        start_run(session, run_id=recent, now=NOW - dt.timedelta(minutes=10))
    with db.transaction() as session:
        assert fail_stale_runs(session, now=NOW, older_than=dt.timedelta(hours=2)) == [stale]
    assert (row(db, stale).status, row(db, recent).status) == ("failed", "running")
    assert "interrompue" in (row(db, stale).error or "")
