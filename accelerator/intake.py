"""A filed dossier's intake, in one transaction: routed, a référent proposed, clocks started.

Each step is idempotent on its own (a second call returns what is stored), so an intake
driven twice (a relay that died after the flow ran, the reconciliation) changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.assignment.actions import (
    propose_referent_locked,
    start_procedure_clocks,
    start_take_charge_clock,
)
from accelerator.catalogue.models import Calendar
from accelerator.catalogue.queries import commune_arrondissement
from accelerator.dossiers.models import Dossier
from accelerator.errors import NotFound
from accelerator.logs import annotate_dossier
from accelerator.routing.actions import route_locked_dossier


@dataclass(frozen=True)
class Intake:
    """What the intake of one dossier decided."""

    administrations: list[str]
    referent: str | None
    clocks: list[str]


def take_in(session: Session, *, dossier_id: uuid.UUID, now: dt.datetime) -> Intake:
    """Route the dossier, propose its référent, start the take-in-charge and legal clocks.

    The dossier is locked and its arrondissement read once for every step; the dossier and
    its calendar stay referenced here, so the session's identity map answers the steps' own
    lookups of them (it holds its objects weakly).
    """
    dossier = session.scalar(select(Dossier).where(Dossier.id == dossier_id).with_for_update())
    if dossier is None:
        raise NotFound(f"Dossier introuvable : {dossier_id}.")
    annotate_dossier(dossier)
    arrondissement = (
        None
        if dossier.routed_at is not None and dossier.referent_id is not None
        else commune_arrondissement(session, dossier.commune_insee)
    )
    # Kept referenced, so that each clock's calendar lookup is answered by the identity map.
    _calendar = session.get(Calendar, dossier.calendar_code)
    proposal = route_locked_dossier(session, dossier, arrondissement=arrondissement, now=now)
    referent = propose_referent_locked(session, dossier, arrondissement=arrondissement, now=now)
    clocks = [start_take_charge_clock(session, dossier_id=dossier.id)]
    clocks += start_procedure_clocks(session, dossier_id=dossier.id)
    return Intake(
        administrations=[p.administration_code for p in proposal],
        referent=None if referent is None else referent.email,
        clocks=[f"{c.kind}:{c.due_at.isoformat() if c.due_at else '-'}" for c in clocks],
    )
