"""A filed dossier's intake, in one transaction: routed, a référent proposed, clocks started.

Each step is idempotent on its own (a second call returns what is stored), so an intake
driven twice (a relay that died after the flow ran, the reconciliation) changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from accelerator.assignment.actions import (
    propose_referent,
    start_procedure_clocks,
    start_take_charge_clock,
)
from accelerator.dossiers.models import Dossier
from accelerator.logs import annotate_dossier
from accelerator.routing.actions import route_dossier


@dataclass(frozen=True)
class Intake:
    """What the intake of one dossier decided."""

    administrations: list[str]
    referent: str | None
    clocks: list[str]


def take_in(session: Session, *, dossier_id: uuid.UUID, now: dt.datetime) -> Intake:
    """Route the dossier, propose its référent, start the take-in-charge and legal clocks."""
    annotate_dossier(session.get_one(Dossier, dossier_id))
    proposal = route_dossier(session, dossier_id=dossier_id, now=now)
    referent = propose_referent(session, dossier_id=dossier_id, now=now)
    clocks = [start_take_charge_clock(session, dossier_id=dossier_id)]
    clocks += start_procedure_clocks(session, dossier_id=dossier_id)
    return Intake(
        administrations=[p.administration_code for p in proposal],
        referent=None if referent is None else referent.email,
        clocks=[f"{c.kind}:{c.due_at.isoformat() if c.due_at else '-'}" for c in clocks],
    )
