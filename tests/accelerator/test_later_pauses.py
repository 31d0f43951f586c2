"""A later pause is judged against the deadline as extended by the earlier pauses, never the
original one: worked cases where the two give different answers, pure and in the database."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from accelerator.catalogue.queries import seed_calendars
from accelerator.history.models import HistoryEntry
from accelerator.information.actions import answer_information, request_information
from accelerator.information.schemas import InformationRequestIn
from accelerator.shared.db import Database
from accelerator.sla.actions import pause_allowed
from accelerator.sla.calendars import WorkingCalendar
from accelerator.sla.clocks import ClockFacts, PauseEffect, PauseFact, project
from accelerator.sla.durations import Duration, Unit
from accelerator.sla.models import Clock
from tests.factories import filed, launched, paris, user


@pytest.fixture(scope="module")
def fr() -> WorkingCalendar:
    return seed_calendars()["FR"]


FIRST = PauseFact("pièces manquantes", paris(2026, 3, 10, 10), paris(2026, 3, 20, 15))


def three_months(fr: WorkingCalendar, effect: PauseEffect, *pauses: PauseFact) -> ClockFacts:
    return ClockFacts(
        anchor=paris(2026, 3, 2, 10), budget=Duration(3, Unit.MONTHS), calendar=fr,
        pause_effect=effect, pauses=pauses,
    )  # fmt: skip


def test_a_second_suspension_after_the_original_deadline_still_counts(
    fr: WorkingCalendar,
) -> None:
    # 3 months from 2 March: original deadline 3 June 00:00. Suspended 10 → 20 March with
    # 84 days left (11 March..2 June): 84 days after 20 March → deadline 13 June 00:00.
    assert project(three_months(fr, PauseEffect.SUSPENSION)).deadline == paris(2026, 6, 3)
    assert project(three_months(fr, PauseEffect.SUSPENSION, FIRST)).deadline == paris(2026, 6, 13)
    # A second pause on 5 June: after the ORIGINAL deadline, before the extended one. 7 days
    # were left (6..12 June); resumed 15 June → last day 22 June, deadline 23 June 00:00.
    # Compared with the original deadline, it would be ignored (13 June).
    second = PauseFact("nouvelle pièce", paris(2026, 6, 5, 10), paris(2026, 6, 15, 10))
    projection = project(three_months(fr, PauseEffect.SUSPENSION, FIRST, second))
    assert projection.deadline == paris(2026, 6, 23)
    assert len(projection.windows) == 2


def test_a_second_interruption_after_the_original_deadline_still_counts(
    fr: WorkingCalendar,
) -> None:
    # Interrupted 10 → 20 March: 3 months again from 20 March → deadline 21 June 00:00.
    assert project(three_months(fr, PauseEffect.INTERRUPTION, FIRST)).deadline == paris(2026, 6, 21)
    # Interrupted again 10 → 15 June (after the original 3 June, before 21 June): 3 months
    # from 15 June → last day 15 September, deadline 16 September 00:00.
    second = PauseFact("nouvelle pièce", paris(2026, 6, 10, 10), paris(2026, 6, 15, 10))
    projection = project(three_months(fr, PauseEffect.INTERRUPTION, FIRST, second))
    assert projection.deadline == paris(2026, 9, 16)
    # A pause after the EXTENDED deadline changes nothing.
    late = PauseFact("trop tard", paris(2026, 6, 22, 10), paris(2026, 6, 30, 10))
    assert project(three_months(fr, PauseEffect.INTERRUPTION, FIRST, late)).deadline == paris(
        2026, 6, 21
    )


def _consultation_clock(db: Database, consultation_id: uuid.UUID) -> Clock:
    with db.transaction() as session:
        found = session.scalars(
            select(Clock).where(
                Clock.consultation_id == consultation_id, Clock.kind == "consultation_deadline"
            )
        ).one()
        session.expunge(found)
        return found


def _ask_and_answer(
    db: Database, dossier_id: uuid.UUID, consultation_id: uuid.UUID, asked: object, answered: object
) -> None:
    data = InformationRequestIn.model_validate(
        {"message": "Plan des issues manquant", "consultation_id": str(consultation_id)}
    )
    with db.transaction() as session:
        request = request_information(
            session, dossier_id=dossier_id, data=data, user=user(db, "referent@f.test"),
            now=asked,  # type: ignore[arg-type]
        )  # fmt: skip
        request_id = request.id
    with db.transaction() as session:
        answer_information(
            session, request_id=request_id, message="Plan joint.",
            user=user(db, "holder@f.test"), now=answered,  # type: ignore[arg-type]
        )  # fmt: skip


def test_a_second_request_after_the_original_deadline_pauses_the_extended_one(
    db: Database,
) -> None:
    dossier_id = filed(db, now=paris(2026, 3, 2, 10))
    sdis = launched(db, dossier_id, ["SDIS-65"], now=paris(2026, 3, 3, 10))["SDIS-65"]
    # 1 month from 3 March: original deadline 4 April 00:00 (end of 3 April).
    assert _consultation_clock(db, sdis).due_at == paris(2026, 4, 4)
    # Suspended 5 → 25 March with 29 days left (6 March..3 April) → deadline 24 April 00:00.
    _ask_and_answer(db, dossier_id, sdis, paris(2026, 3, 5, 10), paris(2026, 3, 25, 10))
    extended = _consultation_clock(db, sdis)
    assert (extended.state, extended.due_at) == ("running", paris(2026, 4, 24))
    # On 10 April the original deadline has passed, the extended one has not: a new request
    # suspends the clock (against the original deadline it would say "déjà expiré").
    with db.transaction() as session:
        clock = session.get_one(Clock, extended.id)
        assert pause_allowed(session, clock, paris(2026, 4, 10, 10)) == (True, "délai suspendu")
        assert pause_allowed(session, clock, paris(2026, 4, 24, 0))[0] is False
    # Suspended 10 → 20 April with 13 days left (11..23 April) → deadline 4 May 00:00.
    _ask_and_answer(db, dossier_id, sdis, paris(2026, 4, 10, 10), paris(2026, 4, 20, 10))
    assert _consultation_clock(db, sdis).due_at == paris(2026, 5, 4)
    with db.transaction() as session:
        messages = session.scalars(
            select(HistoryEntry.message)
            .where(HistoryEntry.consultation_id == sdis, HistoryEntry.at == paris(2026, 4, 10, 10))
            .where(HistoryEntry.event.in_(["clock_paused", "clock_not_paused"]))
        ).all()
    # The internal target (half the delay) had expired by then: only the legal deadline pauses.
    assert sorted(messages) == [
        "consultation_deadline : délai suspendu.",
        "consultation_target : le délai était déjà expiré.",
    ]
