"""Propose a référent for a filed dossier and start its 24 h take-in-charge clock."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accelerator.assignment.rules import Candidate, choose
from accelerator.catalogue.models import Arrondissement, Procedure
from accelerator.catalogue.queries import commune_arrondissement
from accelerator.dossiers.models import Dossier
from accelerator.dossiers.procedures import legal_delay
from accelerator.dossiers.status import ACTIVE
from accelerator.history.actions import record
from accelerator.history.actor import Actor
from accelerator.identity.models import User
from accelerator.identity.roles import Role
from accelerator.shared.errors import NotFound
from accelerator.sla.actions import (
    budget_of,
    procedure_key,
    start_clock,
    stop_clock,
    take_charge_key,
)
from accelerator.sla.definitions import (
    TAKE_CHARGE_DEFINITION,
    ClockKind,
    procedure_definition,
)
from accelerator.sla.durations import make_duration
from accelerator.sla.models import Clock, DeadlineDefinition


def _candidates(
    session: Session, arrondissement: str | None
) -> tuple[list[Candidate], bool, dict[uuid.UUID, User]]:
    """The référents to choose from with their loads, whether they cover the arrondissement,
    and the users by id (one query: each référent with the count of their active dossiers)."""
    load = (
        select(func.count())
        .where(Dossier.referent_id == User.id, Dossier.status.in_([s.value for s in ACTIVE]))
        .correlate(User)
        .scalar_subquery()
    )
    rows = session.execute(
        select(User, load).where(User.role == Role.REFERENT.value, User.active.is_(True))
    ).all()
    referents = [(user, int(count)) for user, count in rows]
    covering = [
        (r, n)
        for r, n in referents
        if arrondissement and arrondissement in (r.arrondissements or [])
    ]
    pool, covered = (covering, True) if covering else (referents, False)
    users = {r.id: r for r, _n in referents}
    return [Candidate(r.id, r.email, n) for r, n in pool], covered, users


def propose_referent(session: Session, *, dossier_id: uuid.UUID, now: dt.datetime) -> User | None:
    """Propose the least loaded référent covering the commune's arrondissement, once."""
    dossier = session.scalar(select(Dossier).where(Dossier.id == dossier_id).with_for_update())
    if dossier is None:
        raise NotFound(f"Dossier introuvable : {dossier_id}.")
    if dossier.referent_id is not None:
        return session.get(User, dossier.referent_id)
    arrondissement = commune_arrondissement(session, dossier.commune_insee)
    return propose_referent_locked(session, dossier, arrondissement=arrondissement, now=now)


def propose_referent_locked(
    session: Session, dossier: Dossier, *, arrondissement: Arrondissement | None, now: dt.datetime
) -> User | None:
    """:func:`propose_referent` for a dossier the caller has locked, with its commune's
    arrondissement (None: a commune the catalogue lacks)."""
    if dossier.referent_id is not None:
        return session.get(User, dossier.referent_id)
    candidates, covered, users = _candidates(
        session, arrondissement.code if arrondissement else None
    )
    chosen = choose(candidates)
    if chosen is None:
        record(
            session,
            dossier_id=dossier.id,
            actor=Actor.flow("intake"),
            at=now,
            entity="dossier",
            event="referent_unavailable",
            message="Aucun référent actif : le dossier attend qu'un référent le prenne en charge.",
        )
        return None
    where = (
        f"l'arrondissement de {arrondissement.name}"
        if arrondissement
        else f"la commune {dossier.commune_insee}, inconnue du catalogue"
    )
    reason = (
        f"Référent le moins chargé ({chosen.load} dossier(s) en cours) parmi "
        + (
            f"ceux qui couvrent {where}"
            if covered
            else f"tous les référents (aucun ne couvre {where})"
        )
        + " ; à charge égale, ordre alphabétique."
    )
    dossier.referent_id = chosen.user_id
    dossier.referent_reason = reason
    record(
        session,
        dossier_id=dossier.id,
        actor=Actor.flow("intake"),
        at=now,
        entity="dossier",
        event="referent_proposed",
        message=f"Référent proposé : {chosen.email}. {reason}",
        details={"referent": chosen.email, "load": chosen.load, "covered": covered},
    )
    return users[chosen.user_id]


def start_take_charge_clock(
    session: Session,
    *,
    dossier_id: uuid.UUID,
    existing: Mapping[str, Clock] | None = None,
    definitions: Mapping[str, DeadlineDefinition] | None = None,
) -> Clock:
    """Start the 24 h take-in-charge clock from the filing instant (no-op if started).

    ``existing`` and ``definitions`` may be preloaded (see ``start_clock``)."""
    dossier = session.get(Dossier, dossier_id)
    if dossier is None or dossier.filed_at is None:
        raise NotFound(f"Dossier déposé introuvable : {dossier_id}.")
    clock, created = start_clock(
        session,
        key=take_charge_key(dossier.id),
        kind=ClockKind.TAKE_CHARGE,
        dossier_id=dossier.id,
        calendar_code=dossier.calendar_code,
        anchor_at=dossier.filed_at,
        definition_code=TAKE_CHARGE_DEFINITION,
        existing=existing,
        definitions=definitions,
    )
    if created:
        record(
            session,
            dossier_id=dossier.id,
            actor=Actor.flow("intake"),
            at=dossier.filed_at,
            entity="clock",
            event="clock_started",
            message=(f"Délai de prise en charge : {budget_of(clock).label()} à compter du dépôt."),
        )
        if dossier.taken_in_charge_at is not None:
            # The référent was faster than the flow: the clock starts already met.
            stop_clock(session, key=clock.key, now=dossier.taken_in_charge_at)
    return clock


def start_procedure_clocks(
    session: Session,
    *,
    dossier_id: uuid.UUID,
    existing: Mapping[str, Clock] | None = None,
    definitions: Mapping[str, DeadlineDefinition] | None = None,
    procedures: Mapping[str, Procedure] | None = None,
) -> list[Clock]:
    """Start the legal delay of each procedure with one, from the filing (no-op if started).

    ``existing``, ``definitions`` and ``procedures`` (by code) may be preloaded."""
    dossier = session.get(Dossier, dossier_id)
    if dossier is None or dossier.filed_at is None:
        raise NotFound(f"Dossier déposé introuvable : {dossier_id}.")
    clocks = []
    for code in dossier.procedures:
        procedure = session.get(Procedure, code) if procedures is None else procedures.get(code)
        if (
            procedure is None
            or procedure.duration_amount is None
            or procedure.duration_unit is None
        ):
            continue  # no legal clock (e.g. a grant: internal target only)
        base = make_duration(procedure.duration_amount, procedure.duration_unit)
        budget, reasons = legal_delay(code, base, dossier.attributes)
        clock, created = start_clock(
            session,
            key=procedure_key(dossier.id, code),
            kind=ClockKind.PROCEDURE_DEADLINE,
            dossier_id=dossier.id,
            calendar_code=dossier.calendar_code,
            anchor_at=dossier.filed_at,
            definition_code=procedure_definition(code),
            budget=budget,
            existing=existing,
            definitions=definitions,
        )
        if created:
            record(
                session,
                dossier_id=dossier.id,
                actor=Actor.flow("intake"),
                at=dossier.filed_at,
                entity="clock",
                event="clock_started",
                message=f"Délai légal {code} : {budget.label()} à compter du dépôt"
                + (f" ({' ; '.join(reasons)})" if reasons else "")
                + ".",
            )
        clocks.append(clock)
    return clocks
