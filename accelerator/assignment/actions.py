"""Who follows a dossier: the référent proposed at intake (least loaded of the commune's
arrondissement), offered to the next one when the 24 h take-in-charge clock breaches, or handed
over by its référent or a manager; and the dossier's first clocks."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accelerator.assignment.rules import Candidate, choose
from accelerator.catalogue.models import Arrondissement, Procedure
from accelerator.catalogue.queries import commune_arrondissement
from accelerator.dossiers.access import access_dossier, require_referent_of
from accelerator.dossiers.actions import referent_assigned
from accelerator.dossiers.models import Dossier
from accelerator.dossiers.procedures import legal_delay
from accelerator.dossiers.status import ACTIVE, LABELS, DossierStatus
from accelerator.history.actions import record
from accelerator.history.actor import Actor
from accelerator.identity.models import User
from accelerator.identity.roles import Role, require_role
from accelerator.notifications.actions import Template, notification
from accelerator.outbox.actions import enqueue
from accelerator.shared.errors import InvalidInput, InvalidTransition, NotFound
from accelerator.shared.text import t
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
    session: Session, arrondissement: str | None, *, besides: uuid.UUID | None = None
) -> tuple[list[Candidate], bool, dict[uuid.UUID, User]]:
    """The référents to choose from (but ``besides``) with their loads, whether they cover the
    arrondissement, and the users by id (one query: each référent with the count of their
    active dossiers)."""
    load = (
        select(func.count())
        .where(Dossier.referent_id == User.id, Dossier.status.in_([s.value for s in ACTIVE]))
        .correlate(User)
        .scalar_subquery()
    )
    rows = session.execute(
        select(User, load).where(User.role == Role.REFERENT.value, User.active.is_(True))
    ).all()
    referents = [(user, int(count)) for user, count in rows if user.id != besides]
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
        raise NotFound(t("dossier.not_found_id", dossier_id=dossier_id))
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
            message=t("assignment.no_active_referent"),
        )
        return None
    where = (
        t("assignment.where_arrondissement", name=arrondissement.name)
        if arrondissement
        else t("assignment.where_unknown_commune", commune_insee=dossier.commune_insee)
    )
    reason = (
        t("assignment.reason_least_loaded", load=chosen.load)
        + (
            t("assignment.reason_covering", where=where)
            if covered
            else t("assignment.reason_none_covering", where=where)
        )
        + t("assignment.reason_tie_break")
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
        message=t("assignment.referent_proposed", email=chosen.email, reason=reason),
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
        raise NotFound(t("dossier.filed_not_found", dossier_id=dossier_id))
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
            message=(t("assignment.take_charge_clock_started", budget=budget_of(clock).label())),
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
        raise NotFound(t("dossier.filed_not_found", dossier_id=dossier_id))
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
                message=t("assignment.procedure_clock_started", code=code, budget=budget.label())
                + (f" ({' ; '.join(reasons)})" if reasons else "")
                + ".",
            )
        clocks.append(clock)
    return clocks


def hand_over(
    session: Session,
    *,
    dossier_id: uuid.UUID,
    email: str,
    reason: str,
    user: User,
    now: dt.datetime,
    expected_version: int | None = None,
) -> Dossier:
    """The dossier's référent, or a manager, hands the dossier over to another référent: both
    are told, the history records who and why, and the holder learns their new contact."""
    require_role(user, Role.REFERENT, Role.MANAGER)
    dossier = access_dossier(
        session, user, dossier_id, for_update=True, expected_version=expected_version
    )
    if Role(user.role) is Role.REFERENT:
        require_referent_of(user, dossier)
    status = DossierStatus(dossier.status)
    if status not in ACTIVE:
        raise InvalidTransition(t("assignment.hand_over_closed", status=LABELS[status]))
    reason = reason.strip()
    if not reason:
        raise InvalidInput(t("assignment.hand_over_reason_required"))
    target = session.scalar(
        select(User).where(
            func.lower(User.email) == email.strip().lower(),
            User.role == Role.REFERENT.value,
            User.active.is_(True),
        )
    )
    if target is None:
        raise InvalidInput(t("assignment.hand_over_unknown_referent", email=email.strip()))
    if target.id == dossier.referent_id:
        raise InvalidInput(t("assignment.hand_over_same_referent", name=target.name))
    previous = session.get(User, dossier.referent_id) if dossier.referent_id else None
    dossier.referent_id = target.id
    dossier.referent_reason = t("assignment.handed_over_by", name=user.name, reason=reason)
    record(
        session,
        dossier_id=dossier.id,
        actor=Actor.of(user),
        at=now,
        entity="dossier",
        event="referent_handed_over",
        message=(
            t("assignment.handed_over_to", name=target.name, email=target.email)
            + (
                t("assignment.handed_over_from", name=previous.name, email=previous.email)
                if previous
                else ""
            )
            + f" : {reason}"
        ),
        details={
            "from": previous.email if previous else None,
            "to": target.email,
            "by": user.email,
            "reason": reason,
        },
    )
    enqueue(
        session,
        notification(
            Template.REFERENT_HANDED_OVER,
            dossier_id=dossier.id,
            user_ids=[target.id, *([previous.id] if previous else [])],
            context={
                "from_name": previous.name if previous else None,
                "to_name": target.name,
                "by_name": user.name,
                "reason": reason,
            },
        ),
        now=now,
    )
    if dossier.taken_in_charge_at is not None:
        enqueue(session, referent_assigned(dossier, target), now=now)
    return dossier


def offer_to_next_referent(
    session: Session, *, dossier_id: uuid.UUID, now: dt.datetime
) -> User | None:
    """The 24 h take-in-charge clock breached: offer the dossier to the next least loaded
    référent of its arrondissement (not the one who let it wait) and alert the head of the
    platform (the managers). Called once, by the breach rung; the caller holds the dossier's
    lock. Returns the référent now proposed (None: nobody else to offer it to)."""
    dossier = session.get_one(Dossier, dossier_id)
    if dossier.taken_in_charge_at is not None or dossier.status != DossierStatus.FILED:
        return None
    waited = session.get(User, dossier.referent_id) if dossier.referent_id else None
    arrondissement = commune_arrondissement(session, dossier.commune_insee)
    candidates, covered, users = _candidates(
        session, arrondissement.code if arrondissement else None, besides=dossier.referent_id
    )
    chosen = choose(candidates)
    managers = list(
        session.scalars(
            select(User.id).where(User.role == Role.MANAGER.value, User.active.is_(True))
        )
    )
    if chosen is not None:
        dossier.referent_id = chosen.user_id
        dossier.referent_reason = (
            t("assignment.reoffer_reason", load=chosen.load)
            + (
                t("assignment.reoffer_in_arrondissement")
                if covered
                else t("assignment.reoffer_in_platform")
            )
            + (t("assignment.reoffer_after", email=waited.email) if waited else "")
            + "."
        )
    record(
        session,
        dossier_id=dossier.id,
        actor=Actor.flow("sweep"),
        at=now,
        entity="dossier",
        event="referent_reoffered",
        message=(
            t("assignment.reoffered", email=chosen.email)
            if chosen
            else t("assignment.reoffer_nobody")
        ),
        details={
            "from": waited.email if waited else None,
            "to": chosen.email if chosen else None,
        },
    )
    enqueue(
        session,
        notification(
            Template.TAKE_CHARGE_REOFFERED,
            dossier_id=dossier.id,
            user_ids=[*([chosen.user_id] if chosen else []), *managers],
            context={
                "from_email": waited.email if waited else None,
                "to_email": chosen.email if chosen else None,
            },
            dedupe_key=f"reoffered:{dossier.id}",
        ),
        now=now,
    )
    return users[chosen.user_id] if chosen else None
