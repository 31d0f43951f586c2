"""Clocks in the database, on SQLite and PostgreSQL: pauses from requests for documents,
rungs fired by the sweep (once, in order, even concurrently), tacit opinions."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from accelerator.consultations.actions import consolidate_dossier, give_opinion
from accelerator.consultations.models import Consultation
from accelerator.consultations.status import OpinionNature
from accelerator.dossiers.actions import take_charge
from accelerator.dossiers.models import Dossier
from accelerator.history.models import HistoryEntry
from accelerator.information.actions import answer_information, request_information
from accelerator.information.schemas import InformationRequestIn
from accelerator.outbox.models import OutboxMessage
from accelerator.shared.db import Database
from accelerator.sla.models import Clock
from accelerator.sweep.actions import Fired, sweep_batch
from tests.factories import filed, launched, paris, user


def clock(db: Database, dossier_id: uuid.UUID, kind: str) -> Clock:
    with db.transaction() as session:
        found = session.scalars(
            select(Clock).where(Clock.dossier_id == dossier_id, Clock.kind == kind)
        ).one()
        session.expunge(found)
        return found


def session_clock(db: Database, consultation_id: uuid.UUID, kind: str) -> Clock:
    with db.transaction() as session:
        found = session.scalars(
            select(Clock).where(Clock.consultation_id == consultation_id, Clock.kind == kind)
        ).one()
        session.expunge(found)
        return found


def ask(
    db: Database, dossier_id: uuid.UUID, at: Any, consultation: uuid.UUID | None = None
) -> uuid.UUID:
    data = InformationRequestIn(
        message="Plan de masse manquant", pieces=["PC2"], consultation_id=consultation
    )
    with db.transaction() as session:
        request = request_information(
            session, dossier_id=dossier_id, data=data, user=user(db, "referent@f.test"), now=at
        )
        return request.id


def answer(db: Database, request_id: uuid.UUID, at: Any) -> None:
    with db.transaction() as session:
        answer_information(
            session, request_id=request_id, message="Voici le plan.",
            user=user(db, "holder@f.test"), now=at,
        )  # fmt: skip


def take(db: Database, dossier_id: uuid.UUID, at: Any) -> None:
    with db.transaction() as session:
        take_charge(session, dossier_id=dossier_id, user=user(db, "referent@f.test"), now=at)


def test_a_permit_is_interrupted_a_water_declaration_suspended(db: Database) -> None:
    permit = filed(db, now=paris(2026, 3, 2, 10), procedures=["PC"])
    water = filed(db, now=paris(2026, 3, 2, 10), procedures=["IOTA_D"])
    assert clock(db, permit, "procedure_deadline").due_at == paris(2026, 6, 3)
    assert clock(db, water, "procedure_deadline").due_at == paris(2026, 5, 3)
    requests = {}
    for dossier_id in (permit, water):
        take(db, dossier_id, paris(2026, 3, 3, 9))
        requests[dossier_id] = ask(db, dossier_id, paris(2026, 3, 10, 10))
        paused = clock(db, dossier_id, "procedure_deadline")
        assert paused.state == "paused" and paused.due_at is None
        with db.transaction() as session:
            assert session.get_one(Dossier, dossier_id).status == "awaiting_holder"
        answer(db, requests[dossier_id], paris(2026, 3, 20, 15))
        with db.transaction() as session:
            assert session.get_one(Dossier, dossier_id).status == "taken_in_charge"
    # Interruption (C. urb. R423-39): 3 months again from 20 March → end of 20 June.
    assert clock(db, permit, "procedure_deadline").due_at == paris(2026, 6, 21)
    # Suspension: 53 days were left on 10 March (11 March..2 May) → end of 12 May.
    assert clock(db, water, "procedure_deadline").due_at == paris(2026, 5, 13)
    assert clock(db, water, "procedure_deadline").state == "running"


def test_a_request_after_its_window_changes_no_clock(db: Database) -> None:
    dossier_id = filed(db, now=paris(2026, 3, 2, 10), procedures=["PC"])
    take(db, dossier_id, paris(2026, 3, 3, 9))
    ask(db, dossier_id, paris(2026, 4, 3, 10))  # the window closed at the end of 2 April
    unchanged = clock(db, dossier_id, "procedure_deadline")
    assert unchanged.state == "running" and unchanged.due_at == paris(2026, 6, 3)
    with db.transaction() as session:
        messages = session.scalars(
            select(HistoryEntry.message).where(HistoryEntry.event == "clock_not_paused")
        ).all()
    assert len(messages) == 1 and "sans effet sur le délai" in messages[0]


def test_a_paused_consultation_answered_without_resuming(db: Database) -> None:
    dossier_id = filed(db, now=paris(2026, 3, 2, 10))
    consultations = launched(db, dossier_id, ["SDIS-65"], now=paris(2026, 3, 3, 10))
    sdis = consultations["SDIS-65"]
    request_id = ask(db, dossier_id, paris(2026, 3, 5, 10), consultation=sdis)
    with db.transaction() as session:
        assert session.get_one(Consultation, sdis).status == "awaiting_information"
        assert (
            session.scalars(
                select(Clock).where(
                    Clock.consultation_id == sdis, Clock.kind == "consultation_deadline"
                )
            )
            .one()
            .state
            == "paused"
        )
    with db.transaction() as session:
        give_opinion(
            session, consultation_id=sdis, nature=OpinionNature.FAVOURABLE, text="",
            user=user(db, "agent.sdis-65@f.test"), now=paris(2026, 3, 6, 11),
        )  # fmt: skip
    answer(db, request_id, paris(2026, 3, 8, 10))
    with db.transaction() as session:
        consultation = session.get_one(Consultation, sdis)
        stopped = session.scalars(
            select(Clock).where(
                Clock.consultation_id == sdis, Clock.kind == "consultation_deadline"
            )
        ).one()
        assert consultation.status == "answered"
        assert stopped.state == "stopped" and stopped.stopped_at == paris(2026, 3, 6, 11)


def sweep(db: Database, now: Any, limit: int = 500) -> list[Fired]:
    with db.transaction() as session:
        return sweep_batch(session, now=now, limit=limit)


def test_a_tacit_opinion_applies_at_the_deadline(db: Database) -> None:
    dossier_id = filed(db, now=paris(2026, 3, 2, 10))
    sdis = launched(db, dossier_id, ["SDIS-65"], now=paris(2026, 3, 3, 10))["SDIS-65"]
    # The internal target (half: 15 days) is missed on 19 March; the opinion is not tacit yet.
    target = session_clock(db, sdis, "consultation_target")
    assert target.due_at == paris(2026, 3, 19)
    assert [f.rung for f in sweep(db, paris(2026, 3, 19, 0, 1)) if f.clock_id == target.id] == [
        "breach"
    ]
    # 1 month from 3 March: end of 3 April. Nothing breaches before.
    legal = session_clock(db, sdis, "consultation_deadline")
    assert not [
        f
        for f in sweep(db, paris(2026, 4, 3, 23, 59))
        if f.clock_id == legal.id and f.rung == "breach"
    ]
    with db.transaction() as session:
        assert session.get_one(Consultation, sdis).status == "sent"
    fired = sweep(db, paris(2026, 4, 4, 0, 1))
    assert [f.rung for f in fired if f.clock_id == legal.id] == ["breach"]
    with db.transaction() as session:
        consultation = session.get_one(Consultation, sdis)
        assert consultation.status == "tacit"
        assert consultation.opinion_tacit and consultation.opinion_nature == "favourable"
        assert consultation.answered_at == paris(2026, 4, 4)
        topics = session.scalars(select(OutboxMessage.topic)).all()
        assert "flow.consolidate" in topics
    with db.transaction() as session:
        consolidated = consolidate_dossier(
            session, dossier_id=dossier_id, now=paris(2026, 4, 4, 0, 2)
        )
        assert consolidated is not None and consolidated.outcome == "favourable"
        assert "tacite" in (consolidated.outcome_summary or "")


def test_a_three_day_downtime_catches_up_in_rung_order(db: Database) -> None:
    dossier_id = filed(db, now=paris(2026, 3, 2, 10))
    take_charge_clock = clock(db, dossier_id, "take_charge").id
    fired = sweep(db, paris(2026, 3, 5, 10))
    mine = [f for f in fired if f.clock_id == take_charge_clock]
    assert [f.rung for f in mine] == ["reminder_50", "reminder_75", "breach", "escalation"]
    assert [f.due_at for f in mine] == sorted(f.due_at for f in mine)
    assert not [f for f in sweep(db, paris(2026, 3, 5, 11)) if f.clock_id == take_charge_clock]
    with db.transaction() as session:
        events = session.scalars(
            select(HistoryEntry.event)
            .where(HistoryEntry.dossier_id == dossier_id, HistoryEntry.event.like("rung_%"))
            .order_by(HistoryEntry.at, HistoryEntry.id)
        ).all()
    assert Counter(events) == Counter(
        ["rung_reminder_50", "rung_reminder_75", "rung_breach", "rung_escalation"]
    )


def test_a_rung_pushed_back_by_a_suspension_does_not_fire(db: Database) -> None:
    dossier_id = filed(db, now=paris(2026, 3, 2, 10), procedures=["IOTA_D"])
    procedure_clock = clock(db, dossier_id, "procedure_deadline").id
    take(db, dossier_id, paris(2026, 3, 3, 9))
    request_id = ask(db, dossier_id, paris(2026, 3, 10, 10))
    answer(db, request_id, paris(2026, 3, 20, 15))
    # Without the suspension the half-time reminder was due about 2 April; now about 12 April.
    assert not [f for f in sweep(db, paris(2026, 4, 5)) if f.clock_id == procedure_clock]
    assert [f.rung for f in sweep(db, paris(2026, 4, 13)) if f.clock_id == procedure_clock] == [
        "reminder_50"
    ]


def test_two_concurrent_sweeps_fire_each_rung_exactly_once(db: Database) -> None:
    dossiers = [filed(db, now=paris(2026, 3, 2, 10)) for _ in range(12)]
    barrier = threading.Barrier(2)
    results: list[list[Fired]] = [[], []]
    errors: list[BaseException] = []

    def worker(slot: int) -> None:
        try:
            barrier.wait()
            while True:
                fired = sweep(db, paris(2026, 3, 6), limit=3)
                if not fired:
                    return
                results[slot].extend(fired)
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    fired = results[0] + results[1]
    keys = [(f.clock_id, f.rung) for f in fired]
    assert len(keys) == len(set(keys)) == 12 * 4  # every take-in-charge rung, once
    with db.transaction() as session:
        rows = session.scalars(
            select(HistoryEntry.dossier_id).where(HistoryEntry.event.like("rung_%"))
        ).all()
    assert Counter(rows) == Counter({d: 4 for d in dossiers})


@pytest.mark.usefixtures("cog_communes")
def test_versions_are_pinned_until_an_explicit_reprojection(db: Database) -> None:
    from accelerator.catalogue.actions import set_calendar_override
    from accelerator.sla.actions import reproject_open_clocks
    from accelerator.sla.models import DeadlineDefinition

    # FR-68 and the CDPENAF definition are used by no other test: changes stay local.
    first = filed(
        db, now=paris(2026, 3, 2, 10), procedures=["DP"], commune="68224",
        attributes={"farmland_consumption": True},
    )  # fmt: skip
    cdpenaf = launched(db, first, ["CDPENAF"], now=paris(2026, 3, 3, 10))["CDPENAF"]
    with db.transaction() as session:
        before = session.scalars(select(Clock).where(Clock.dossier_id == first)).all()
        assert {c.calendar_code for c in before if c.consultation_id is None} == {"FR-68"}
        version = session.scalars(
            select(Clock.calendar_version).where(Clock.dossier_id == first)
        ).first()
        calendar = set_calendar_override(
            session, code="FR-68", day=paris(2026, 5, 15).date(), name="Pont de l'Ascension",
            intervals=[], now=paris(2026, 3, 4),
        )  # fmt: skip
        assert calendar.version == (version or 0) + 1
    second = filed(db, now=paris(2026, 3, 5, 10), procedures=["DP"], commune="68224")
    assert clock(db, second, "take_charge").calendar_version == calendar.version
    assert clock(db, first, "procedure_deadline").calendar_version == version
    with db.transaction() as session:
        changed = reproject_open_clocks(
            session, actor_label="admin@f.test", now=paris(2026, 3, 6), calendar_code="FR-68"
        )
    # The open clocks of the first dossier moved to the new version; the stopped
    # take-in-charge clock (taken in charge on 3 March) was not rewritten.
    assert {c.kind for c, _, _ in changed} == {"procedure_deadline"}
    assert clock(db, first, "take_charge").calendar_version == version
    assert clock(db, first, "procedure_deadline").calendar_version == calendar.version
    with db.transaction() as session:
        events = session.scalars(
            select(HistoryEntry.actor_label).where(HistoryEntry.event == "clock_reprojected")
        ).all()
    assert events == ["admin@f.test"]

    # A definition change: the consultation clock keeps 1 month until re-projected to 2 months.
    with db.transaction() as session:
        consultation_clock = session.scalars(
            select(Clock).where(
                Clock.consultation_id == cdpenaf, Clock.kind == "consultation_deadline"
            )
        ).one()
        code = consultation_clock.definition_code
        assert code == "consultation:cdpenaf_opinion"
        assert consultation_clock.due_at == paris(2026, 4, 4)
        latest = session.scalars(
            select(DeadlineDefinition)
            .where(DeadlineDefinition.code == code)
            .order_by(DeadlineDefinition.version.desc())
        ).first()
        assert latest is not None
        session.add(
            DeadlineDefinition(
                code=code, version=latest.version + 1, label=latest.label, budget_amount=2,
                budget_unit="months", prorogation=False, pause_effect=latest.pause_effect,
                request_window=None, rungs=latest.rungs, legal=True, source="test",
                created_at=paris(2026, 3, 6),
            )
        )  # fmt: skip
    with db.transaction() as session:
        assert session.scalars(
            select(Clock.due_at).where(
                Clock.consultation_id == cdpenaf, Clock.kind == "consultation_deadline"
            )
        ).one() == paris(2026, 4, 4)
        reproject_open_clocks(
            session, actor_label="admin@f.test", now=paris(2026, 3, 7), definition_code=code
        )
        assert session.scalars(
            select(Clock.due_at).where(
                Clock.consultation_id == cdpenaf, Clock.kind == "consultation_deadline"
            )
        ).one() == paris(2026, 5, 4)
