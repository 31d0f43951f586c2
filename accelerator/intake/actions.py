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
from accelerator.catalogue.models import Procedure
from accelerator.catalogue.queries import commune_arrondissement
from accelerator.dossiers.models import Dossier
from accelerator.routing.actions import route_locked_dossier
from accelerator.routing.queries import routing_rules
from accelerator.shared.errors import NotFound
from accelerator.shared.logs import annotate_dossier
from accelerator.shared.text import t
from accelerator.sla.actions import latest_definitions
from accelerator.sla.definitions import TAKE_CHARGE_DEFINITION, procedure_definition
from accelerator.sla.models import Calendar, Clock


@dataclass(frozen=True)
class Intake:
    """What the intake of one dossier decided."""

    administrations: list[str]
    referent: str | None
    clocks: list[str]


def take_in(session: Session, *, dossier_id: uuid.UUID, now: dt.datetime) -> Intake:
    """Route the dossier, propose its référent, start the take-in-charge and legal clocks.

    Everything the steps read is read first (the dossier locked, its arrondissement, the
    routing rules, the référents' loads, its clocks, the deadline definitions and procedures
    in force), so that their writes go out in one flush at commit. The dossier and its
    calendar stay referenced here: the session's identity map (which holds its objects
    weakly) then answers the steps' own lookups of them.
    """
    dossier = session.scalar(select(Dossier).where(Dossier.id == dossier_id).with_for_update())
    if dossier is None:
        raise NotFound(t("dossier.not_found_id", dossier_id=dossier_id))
    annotate_dossier(dossier)
    done = dossier.routed_at is not None and dossier.referent_id is not None
    arrondissement = None if done else commune_arrondissement(session, dossier.commune_insee)
    _calendar = session.get(Calendar, dossier.calendar_code)
    rules = None if dossier.routed_at is not None else routing_rules(session)
    existing = {
        clock.key: clock
        for clock in session.scalars(select(Clock).where(Clock.dossier_id == dossier.id))
    }
    procedures = {
        procedure.code: procedure
        for procedure in session.scalars(
            select(Procedure).where(Procedure.code.in_(list(dossier.procedures)))
        )
    }
    definitions = latest_definitions(
        session, [TAKE_CHARGE_DEFINITION, *map(procedure_definition, dossier.procedures)]
    )
    # The référent first: choosing reads the loads, which would flush the routing's writes.
    referent = propose_referent_locked(session, dossier, arrondissement=arrondissement, now=now)
    proposal = route_locked_dossier(
        session, dossier, arrondissement=arrondissement, now=now, rules=rules
    )
    clocks = [
        start_take_charge_clock(
            session, dossier_id=dossier.id, existing=existing, definitions=definitions
        )
    ]
    clocks += start_procedure_clocks(
        session,
        dossier_id=dossier.id,
        existing=existing,
        definitions=definitions,
        procedures=procedures,
    )
    return Intake(
        administrations=[p.administration_code for p in proposal],
        referent=None if referent is None else referent.email,
        clocks=[f"{c.kind}:{c.due_at.isoformat() if c.due_at else '-'}" for c in clocks],
    )
