"""A small history built through the real actions, whose figures are computed by hand in
tests/accelerator/test_metrics_figures.py (ties, waiting for the holder, a tacit opinion, a
second review cycle, still-open items).

Every consultation is a ``generic_opinion`` (1 month; internal target: 15 calendar days),
sent in the FR calendar (Monday–Friday, 14 July a holiday). Instants are Paris time, 2026.

- A, Cauterets (651), PC: filed Mon 01/06 09:00, taken and launched 10:00 (1 h). UDAP answers
  Fri 05/06 10:00; SDIS Mon 08/06 10:00; DDT waits for the holder Tue 02/06 10:00 → Thu 04/06
  10:00, answers Wed 10/06 10:00.
- B, Tarbes (653), PC: filed Tue 02/06 09:00, taken Thu 04/06 09:00 (48 h). UDAP and SDIS both
  answer Thu 11/06 09:00 (a tie); cycle 2 on Mon 15/06 09:00: SDIS silent, tacit 16/07 00:00.
- C, Tarbes, DP: filed Mon 22/06 09:00, taken 20:00 (11 h). DDT open (past its target); PREF
  waits for the holder since Wed 01/07 10:00.
- D, Tarbes, PC: filed Wed 08/07 09:00, taken 09:30 (0.5 h). SDIS open, at risk.
- E, Tarbes, PC: filed Mon 04/05 09:00, taken 10:00 (1 h). UDAP waits for the holder since
  Tue 05/05 10:00.
- F, Tarbes: filed Mon 20/07 08:00, not taken yet (its 24 h still running).
- G, Tarbes: filed Wed 15/07 09:00, not taken (past its 24 h).

Observed at ``NOW``: Monday 20/07 12:00.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select

from accelerator.consultations.actions import (
    apply_tacit_opinion,
    complete_launch,
    consolidate_dossier,
    create_consultation,
    give_opinion,
    open_cycle,
)
from accelerator.consultations.models import Consultation
from accelerator.consultations.status import OpinionNature
from accelerator.information.actions import answer_information, request_information
from accelerator.information.schemas import InformationRequestIn
from accelerator.metrics.actions import refresh_facts
from accelerator.shared.db import Database
from accelerator.sla.actions import consultation_key
from accelerator.sla.models import Clock
from tests.factories import filed, launched, paris, user

NOW = paris(2026, 7, 20, 12, 0)
CAUTERETS, TARBES = "65138", "65440"


@dataclass
class History:
    """The ids of what was built."""

    dossiers: dict[str, uuid.UUID] = field(default_factory=dict)
    consultations: dict[str, uuid.UUID] = field(default_factory=dict)


def agent(code: str) -> str:
    """The factories' agent of administration ``code``."""
    return f"agent.{code.lower()}@f.test"


def opinion(db: Database, consultation_id: uuid.UUID, code: str, at: dt.datetime) -> None:
    """The administration ``code`` gives a favourable opinion at ``at``."""
    with db.transaction() as session:
        give_opinion(
            session,
            consultation_id=consultation_id,
            nature=OpinionNature.FAVOURABLE,
            text="",
            user=user(db, agent(code)),
            now=at,
        )


def ask(
    db: Database, dossier_id: uuid.UUID, consultation_id: uuid.UUID, at: dt.datetime
) -> uuid.UUID:
    """The référent relays an administration's request to the holder at ``at``."""
    with db.transaction() as session:
        request = request_information(
            session,
            dossier_id=dossier_id,
            data=InformationRequestIn(
                message="Merci de préciser le projet.", consultation_id=consultation_id
            ),
            user=user(db, "referent@f.test"),
            now=at,
        )
        return request.id


def answer(db: Database, request_id: uuid.UUID, at: dt.datetime) -> None:
    """The holder answers the request at ``at``."""
    with db.transaction() as session:
        answer_information(
            session,
            request_id=request_id,
            message="Voici les précisions.",
            user=user(db, "holder@f.test"),
            now=at,
        )


def consolidate(db: Database, dossier_id: uuid.UUID, at: dt.datetime) -> None:
    """The consolidation flow's step at ``at``."""
    with db.transaction() as session:
        assert consolidate_dossier(session, dossier_id=dossier_id, now=at) is not None


def second_cycle(
    db: Database, dossier_id: uuid.UUID, codes: list[str], at: dt.datetime
) -> dict[str, uuid.UUID]:
    """A new review cycle on ``codes`` at ``at``; its consultations by code."""
    with db.transaction() as session:
        launch = open_cycle(
            session,
            dossier_id=dossier_id,
            administrations=codes,
            message="Le porteur a modifié son projet.",
            user=user(db, "referent@f.test"),
            now=at,
        )
        launch_id, cycle = launch.id, launch.cycle
    for code in codes:
        with db.transaction() as session:
            create_consultation(session, launch_id=launch_id, administration=code)
    with db.transaction() as session:
        complete_launch(session, launch_id=launch_id, now=at)
        return {
            c.administration_code: c.id
            for c in session.scalars(
                select(Consultation).where(
                    Consultation.dossier_id == dossier_id, Consultation.cycle == cycle
                )
            )
        }


def tacit_at_deadline(db: Database, consultation_id: uuid.UUID) -> dt.datetime:
    """What the sweep does at the deadline: the silence outcome, at the clock's due instant."""
    with db.transaction() as session:
        clock = session.scalars(
            select(Clock).where(Clock.key == consultation_key(consultation_id))
        ).one()
        assert clock.due_at is not None
        due = clock.due_at
        assert apply_tacit_opinion(session, consultation_id=consultation_id, at=due) is not None
        return due


def build(db: Database) -> History:
    """The history of the module docstring, its facts refreshed at ``NOW``."""
    h = History()
    # A: three consultations, one waiting for the holder; DDT gates by 2 days.
    a = h.dossiers["A"] = filed(db, now=paris(2026, 6, 1, 9), commune=CAUTERETS)
    got = launched(db, a, ["UDAP-65", "SDIS-65", "DDT-65"], now=paris(2026, 6, 1, 10))
    h.consultations.update({f"A:{k}": v for k, v in got.items()})
    request = ask(db, a, got["DDT-65"], paris(2026, 6, 2, 10))
    answer(db, request, paris(2026, 6, 4, 10))
    opinion(db, got["UDAP-65"], "UDAP-65", paris(2026, 6, 5, 10))
    opinion(db, got["SDIS-65"], "SDIS-65", paris(2026, 6, 8, 10))
    opinion(db, got["DDT-65"], "DDT-65", paris(2026, 6, 10, 10))
    consolidate(db, a, paris(2026, 6, 10, 10))
    # B: taken in charge late; a tie; then a second cycle whose only opinion is tacit.
    b = h.dossiers["B"] = filed(db, now=paris(2026, 6, 2, 9), commune=TARBES)
    got = launched(db, b, ["UDAP-65", "SDIS-65"], now=paris(2026, 6, 4, 9))
    h.consultations.update({f"B:{k}": v for k, v in got.items()})
    opinion(db, got["UDAP-65"], "UDAP-65", paris(2026, 6, 11, 9))
    opinion(db, got["SDIS-65"], "SDIS-65", paris(2026, 6, 11, 9))
    consolidate(db, b, paris(2026, 6, 11, 9))
    again = second_cycle(db, b, ["SDIS-65"], paris(2026, 6, 15, 9))
    h.consultations["B2:SDIS-65"] = again["SDIS-65"]
    assert tacit_at_deadline(db, again["SDIS-65"]) == paris(2026, 7, 16, 0)
    consolidate(db, b, paris(2026, 7, 16, 0))
    # C: a déclaration préalable; DDT open past its target, PREF waiting for the holder.
    c = h.dossiers["C"] = filed(db, now=paris(2026, 6, 22, 9), procedures=["DP"], commune=TARBES)
    got = launched(db, c, ["DDT-65", "PREF-65"], now=paris(2026, 6, 22, 20))
    h.consultations.update({f"C:{k}": v for k, v in got.items()})
    ask(db, c, got["PREF-65"], paris(2026, 7, 1, 10))
    # D: SDIS open, 75 % of its target used.
    d = h.dossiers["D"] = filed(db, now=paris(2026, 7, 8, 9), commune=TARBES)
    got = launched(db, d, ["SDIS-65"], now=paris(2026, 7, 8, 9, 30))
    h.consultations["D:SDIS-65"] = got["SDIS-65"]
    # E: UDAP waiting for the holder for months (61–90 days old).
    e = h.dossiers["E"] = filed(db, now=paris(2026, 5, 4, 9), commune=TARBES)
    got = launched(db, e, ["UDAP-65"], now=paris(2026, 5, 4, 10))
    h.consultations["E:UDAP-65"] = got["UDAP-65"]
    ask(db, e, got["UDAP-65"], paris(2026, 5, 5, 10))
    # F and G: filed, not taken in charge (F's 24 h still running, G's past).
    h.dossiers["F"] = filed(db, now=paris(2026, 7, 20, 8), commune=TARBES)
    h.dossiers["G"] = filed(db, now=paris(2026, 7, 15, 9), commune=TARBES)
    with db.transaction() as session:
        refresh_facts(session, now=NOW)
    return h
