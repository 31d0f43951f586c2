"""Keep the figures' facts in step with the source rows (``refresh_facts``).

A fact row is stamped with its source row's ``version`` (SQLAlchemy's optimistic-lock
counter, bumped by every change of a consultation or dossier: its status, its opinion, a
request for information and its answer). The rows without facts, or with facts of an older
version, are found with one anti-join and derived again in batches; the sweep flow runs this
after every sweep, so no figure is staler than one sweep (docs/decisions.md).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from accelerator.catalogue.models import Commune
from accelerator.consultations.models import Consultation
from accelerator.consultations.status import ConsultationStatus
from accelerator.dossiers.models import Dossier
from accelerator.dossiers.status import DossierStatus
from accelerator.identity.models import User
from accelerator.identity.roles import Role
from accelerator.information.models import InformationRequest
from accelerator.metrics import rollups
from accelerator.metrics.facts import (
    ConsultationHistory,
    Outcome,
    days,
    derive,
    iso_day,
    iso_week,
    procedures_key,
)
from accelerator.metrics.models import ConsultationFact, DossierFact, ProcedureFact
from accelerator.metrics.pack import Week, check_week
from accelerator.notifications.actions import Template, notification
from accelerator.outbox.actions import enqueue
from accelerator.shared.db import serialise
from accelerator.sla.actions import calendar_version, facts_of
from accelerator.sla.calendars import WorkingCalendar
from accelerator.sla.clocks import project, rung_instant
from accelerator.sla.definitions import ClockKind, definition_procedure
from accelerator.sla.models import Clock, ClockPause

#: Consultations (or dossiers) derived per batch: bounded memory on a first refresh of a
#: million rows.
BATCH = 2_000
#: Stale rows past which ``refresh_facts`` rebuilds the rollups instead of updating them.
REBUILD_AFTER = 2 * BATCH
#: The advisory lock key of the refresh (PostgreSQL): "metrics" in ASCII.
REFRESH_LOCK = 0x6D657472696373
#: How much of the internal target's budget makes an open consultation "at risk".
AT_RISK_FRACTION = 0.75

_OUTCOMES = {
    ConsultationStatus.ANSWERED.value: Outcome.ANSWERED,
    ConsultationStatus.TACIT.value: Outcome.TACIT,
    ConsultationStatus.CANCELLED.value: Outcome.CANCELLED,
}


def stale_consultations(session: Session, *, limit: int) -> list[uuid.UUID]:
    """Consultations whose facts are missing or older than the consultation (anti-join)."""
    return list(
        session.scalars(
            select(Consultation.id)
            .outerjoin(ConsultationFact, ConsultationFact.consultation_id == Consultation.id)
            .where(
                or_(
                    ConsultationFact.consultation_id.is_(None),
                    ConsultationFact.source_version != Consultation.version,
                )
            )
            .order_by(Consultation.id)
            .limit(limit)
        )
    )


def stale_dossiers(session: Session, *, limit: int) -> list[uuid.UUID]:
    """Filed dossiers whose facts are missing or older than the dossier (anti-join)."""
    return list(
        session.scalars(
            select(Dossier.id)
            .outerjoin(DossierFact, DossierFact.dossier_id == Dossier.id)
            .where(
                Dossier.filed_at.is_not(None),
                or_(
                    DossierFact.dossier_id.is_(None),
                    DossierFact.source_version != Dossier.version,
                ),
            )
            .order_by(Dossier.id)
            .limit(limit)
        )
    )


def refresh_batch(
    session: Session, *, now: dt.datetime, batch: int = BATCH, roll_up: bool = True
) -> int:
    """Derive the facts of one batch of stale dossiers, else of stale consultations, and keep
    the rollups in step; returns how many rows (0: every fact is current). The sweep flow
    calls it in a transaction per batch until it returns 0. Refreshes are serialised: the
    rollups add up what each one changes.

    With ``REBUILD_AFTER`` rows stale or more (a first refresh, a bulk load, an upgrade) the
    cells are not kept in step batch by batch (tens of cells per row: hours for a million):
    the first such batch marks them pending (``rollups.mark_pending``), and the batch that
    finds nothing stale rebuilds them once. ``roll_up`` false leaves them alone (the caller
    rebuilds)."""
    serialise(session, REFRESH_LOCK)
    if roll_up and rollups.missing(session):
        rollups.rebuild(session)
    dossiers = stale_dossiers(session, limit=max(batch, REBUILD_AFTER))
    consultations = (
        []
        if dossiers[batch - 1 : batch]
        else stale_consultations(session, limit=max(batch, REBUILD_AFTER))
    )
    if roll_up and (len(dossiers) >= REBUILD_AFTER or len(consultations) >= REBUILD_AFTER):
        rollups.mark_pending(session)
    pending = roll_up and rollups.pending(session)
    if dossiers:
        return refresh_dossiers(session, dossiers[:batch], now=now, roll_up=roll_up and not pending)
    if consultations:
        return refresh_consultations(
            session, consultations[:batch], now=now, roll_up=roll_up and not pending
        )
    if pending:
        rollups.rebuild(session)
    return 0


def refresh_facts(session: Session, *, now: dt.datetime, batch: int = BATCH) -> int:
    """Derive the facts of every stale consultation and dossier in this transaction, and the
    rollups (rebuilt once at the end past ``REBUILD_AFTER`` rows); returns how many rows."""
    total = 0
    while done := refresh_batch(session, now=now, batch=batch):
        total += done
    return total


def _dossier_context(
    session: Session, dossier_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[Dossier, str | None]]:
    rows = session.execute(
        select(Dossier, Commune.arrondissement_code)
        .outerjoin(Commune, Commune.insee == Dossier.commune_insee)
        .where(Dossier.id.in_(set(dossier_ids)))
    )
    return {dossier.id: (dossier, arrondissement) for dossier, arrondissement in rows}


def refresh_dossiers(
    session: Session, ids: Sequence[uuid.UUID], *, now: dt.datetime, roll_up: bool = True
) -> int:
    """Derive the take-in-charge facts of the dossiers ``ids`` (batched reads), and their
    rollups unless ``roll_up`` is false."""
    context = _dossier_context(session, ids)
    consulted: dict[uuid.UUID, set[str]] = defaultdict(set)
    for dossier_id, code in session.execute(
        select(Consultation.dossier_id, Consultation.administration_code)
        .where(Consultation.dossier_id.in_(set(ids)))
        .distinct()
    ):
        consulted[dossier_id].add(code)
    dues = dict(
        session.execute(
            select(Clock.dossier_id, Clock.due_at).where(
                Clock.dossier_id.in_(set(ids)), Clock.kind == ClockKind.TAKE_CHARGE.value
            )
        ).all()
    )
    replaced = list(
        session.scalars(select(DossierFact).where(DossierFact.dossier_id.in_(set(ids))))
    )
    before = [rollups.snapshot(fact, rollups.DOSSIER_COLUMNS) for fact in replaced]
    for fact in replaced:
        session.expunge(fact)
    session.execute(delete(DossierFact).where(DossierFact.dossier_id.in_(set(ids))))
    after = []
    for dossier_id in ids:
        dossier, arrondissement = context[dossier_id]
        assert dossier.filed_at is not None
        taken = dossier.taken_in_charge_at
        fact = DossierFact(
            dossier_id=dossier.id,
            source_version=dossier.version,
            arrondissement_code=arrondissement,
            procedures=procedures_key(dossier.procedures),
            administrations=procedures_key(consulted[dossier.id]),
            filed_at=dossier.filed_at,
            filed_week=iso_week(dossier.filed_at),
            filed_day=iso_day(dossier.filed_at),
            withdrawn=dossier.status == DossierStatus.WITHDRAWN.value,
            taken_in_charge_at=taken,
            take_charge_due_at=dues.get(dossier.id),
            take_charge_hours=None if taken is None else days(taken - dossier.filed_at) * 24,
            refreshed_at=now,
        )
        session.add(fact)
        after.append(fact)
    _refresh_procedures(session, ids, context)
    session.flush()
    if roll_up:
        rollups.apply(session, removed=(), added=(), dossiers_before=before, dossiers_after=after)
    return len(ids)


def _refresh_procedures(
    session: Session,
    ids: Sequence[uuid.UUID],
    context: dict[uuid.UUID, tuple[Dossier, str | None]],
) -> None:
    """The procedure facts of the dossiers ``ids``: each procedure's legal delay (its clock's
    deadline) against the time to the consolidated answer."""
    dues: dict[tuple[uuid.UUID, str], dt.datetime | None] = {}
    for dossier_id, code, due in session.execute(
        select(Clock.dossier_id, Clock.definition_code, Clock.due_at).where(
            Clock.dossier_id.in_(set(ids)), Clock.kind == ClockKind.PROCEDURE_DEADLINE.value
        )
    ):
        procedure = definition_procedure(code)
        if procedure is not None:
            dues[(dossier_id, procedure)] = due
    session.execute(delete(ProcedureFact).where(ProcedureFact.dossier_id.in_(set(ids))))
    for dossier_id in ids:
        dossier, arrondissement = context[dossier_id]
        filed = dossier.filed_at
        assert filed is not None
        answered = dossier.consolidated_at
        for procedure in dict.fromkeys(dossier.procedures):
            due = dues.get((dossier_id, procedure))
            session.add(
                ProcedureFact(
                    dossier_id=dossier_id,
                    procedure=procedure,
                    arrondissement_code=arrondissement,
                    filed_at=filed,
                    withdrawn=dossier.status == DossierStatus.WITHDRAWN.value,
                    legal_due_at=due,
                    legal_days=None if due is None else days(due - filed),
                    answered_at=answered,
                    actual_days=None if answered is None else days(answered - filed),
                    on_time=None if answered is None or due is None else answered <= due,
                )
            )


def refresh_consultations(
    session: Session, ids: Sequence[uuid.UUID], *, now: dt.datetime, roll_up: bool = True
) -> int:
    """Derive the facts of the consultations ``ids`` (a fixed number of batched reads, then
    the calendar arithmetic of each one), and the rollups with them unless ``roll_up`` is
    false (the caller then rebuilds them)."""
    consultations = list(session.scalars(select(Consultation).where(Consultation.id.in_(ids))))
    context = _dossier_context(session, [c.dossier_id for c in consultations])
    waiting: dict[uuid.UUID, list[tuple[dt.datetime, dt.datetime | None]]] = defaultdict(list)
    for request in session.scalars(
        select(InformationRequest).where(InformationRequest.consultation_id.in_(ids))
    ):
        assert request.consultation_id is not None
        waiting[request.consultation_id].append((request.requested_at, request.answered_at))
    clocks: dict[tuple[uuid.UUID, str], Clock] = {}
    for clock in session.scalars(
        select(Clock).where(
            Clock.consultation_id.in_(ids),
            Clock.kind.in_(
                (ClockKind.CONSULTATION_DEADLINE.value, ClockKind.CONSULTATION_TARGET.value)
            ),
        )
    ):
        assert clock.consultation_id is not None
        clocks[(clock.consultation_id, clock.kind)] = clock
    pauses: dict[uuid.UUID, list[ClockPause]] = defaultdict(list)
    for pause in session.scalars(
        select(ClockPause).where(ClockPause.clock_id.in_([c.id for c in clocks.values()]))
    ):
        pauses[pause.clock_id].append(pause)
    replaced = list(
        session.scalars(select(ConsultationFact).where(ConsultationFact.consultation_id.in_(ids)))
    )
    removed = [rollups.snapshot(fact, rollups.FACT_COLUMNS) for fact in replaced]
    cycles = {(c.dossier_id, c.cycle) for c in consultations}
    cycles |= {(f.dossier_id, f.cycle) for f in replaced}
    cycles_before = rollups.cycle_facts(session, cycles) if roll_up else []
    for fact in replaced:
        session.expunge(fact)
    session.execute(delete(ConsultationFact).where(ConsultationFact.consultation_id.in_(ids)))
    added = []
    for consultation in consultations:
        dossier, arrondissement = context[consultation.dossier_id]
        legal = clocks.get((consultation.id, ClockKind.CONSULTATION_DEADLINE.value))
        target = clocks.get((consultation.id, ClockKind.CONSULTATION_TARGET.value))
        outcome = _OUTCOMES.get(consultation.status, Outcome.OPEN)
        finished_at = consultation.answered_at
        if outcome is Outcome.CANCELLED:
            finished_at = legal.stopped_at if legal is not None and legal.stopped_at else now
        risk_at = None
        if target is not None:
            facts = facts_of(session, target, pauses=pauses[target.id])
            risk_at = rung_instant(facts, project(facts), AT_RISK_FRACTION)
        calendar = (
            facts_of(session, legal, pauses=pauses[legal.id]).calendar
            if legal is not None
            else None
        )
        history = ConsultationHistory(
            outcome=outcome,
            sent_at=consultation.sent_at,
            finished_at=finished_at if outcome is not Outcome.OPEN else None,
            waiting=waiting[consultation.id],
            legal_due_at=legal.due_at if legal is not None else None,
            target_due_at=target.due_at if target is not None else None,
            target_risk_at=risk_at,
        )
        derived = derive(history, calendar or _fallback_calendar(session), now=now)
        fact = ConsultationFact(
            consultation_id=consultation.id,
            source_version=consultation.version,
            dossier_id=consultation.dossier_id,
            administration_code=consultation.administration_code,
            consultation_type_code=consultation.consultation_type_code,
            cycle=consultation.cycle,
            arrondissement_code=arrondissement,
            procedures=procedures_key(dossier.procedures),
            outcome=outcome.value,
            sent_at=consultation.sent_at,
            finished_at=history.finished_at,
            legal_due_at=history.legal_due_at,
            target_due_at=history.target_due_at,
            target_risk_at=risk_at,
            refreshed_at=now,
            **vars(derived),
        )
        session.add(fact)
        added.append(fact)
    session.flush()
    if roll_up:
        rollups.apply(
            session,
            removed=removed,
            added=added,
            cycles_before=cycles_before,
            cycles_after=rollups.cycle_facts(session, cycles),
        )
    # A consultation of an administration its dossier's facts do not name yet (one consulted
    # further, without the dossier changing): that dossier's facts are derived again.
    named = {
        dossier_id: codes
        for dossier_id, codes in session.execute(
            select(DossierFact.dossier_id, DossierFact.administrations).where(
                DossierFact.dossier_id.in_({c.dossier_id for c in consultations})
            )
        )
    }
    behind = sorted(
        {
            c.dossier_id
            for c in consultations
            if c.dossier_id in named and f",{c.administration_code}," not in named[c.dossier_id]
        }
    )
    if behind:
        refresh_dossiers(session, behind, now=now, roll_up=roll_up)
    return len(consultations)


def _fallback_calendar(session: Session) -> WorkingCalendar:
    """The metropolitan calendar, for a consultation without a deadline clock (none in
    practice: its clock is created with it)."""
    return calendar_version(session, "FR")


def queue_weekly_pack(session: Session, *, week: Week, now: dt.datetime) -> list[uuid.UUID]:
    """Queue the review pack of ``week`` for every active manager: one e-mail each, the PDF
    built and attached at delivery, under a key of the week and the recipient, so that a
    re-run queues nothing new (and a manager added since gets theirs). Returns the ids of
    the managers newly served."""
    check_week(week, now=now)
    managers = session.scalars(
        select(User.id)
        .where(User.role == Role.MANAGER.value, User.active.is_(True))
        .order_by(User.email)
    )
    queued = []
    for manager_id in managers:
        message = enqueue(
            session,
            notification(
                Template.WEEKLY_PACK,
                dossier_id=None,
                user_ids=[manager_id],
                context={"week": str(week)},
                attachments=[{"kind": "weekly_pack", "week": str(week)}],
                digest=False,
                dedupe_key=f"weekly-pack:{week}:{manager_id}",
            ),
            now=now,
        )
        if message in session.new:
            queued.append(manager_id)
    return queued
