"""The sweep: fire every rung that is due, each at most once, in order.

Clocks with a due rung are claimed in batches with ``FOR UPDATE SKIP LOCKED`` (SQLite
serialises writers instead), so two sweeps running at once never fire the same rung; all due
rungs of one clock are fired by the sweep that holds it, in order, so a catch-up after downtime
fires 50 %, then 75 %, then the breach. A rung's instant is re-read from the clock's current
facts: one that an extension pushed into the future is not fired.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.assignment.actions import offer_to_next_referent
from accelerator.consultations.actions import apply_tacit_opinion
from accelerator.consultations.models import Consultation
from accelerator.dossiers.models import Dossier
from accelerator.history.actions import record
from accelerator.history.actor import Actor
from accelerator.notifications.actions import Template, notification
from accelerator.outbox.actions import enqueue
from accelerator.shared.text import t
from accelerator.sla.actions import refresh
from accelerator.sla.definitions import RUNG_LABELS, ClockKind, ClockState, OnBreach, RungName
from accelerator.sla.models import Clock, ClockPause, ClockRung, DeadlineDefinition


@dataclass(frozen=True)
class Fired:
    """One rung fired by a sweep."""

    clock_id: uuid.UUID
    rung: str
    due_at: dt.datetime


def claim_due_clocks(session: Session, *, now: dt.datetime, limit: int) -> list[Clock]:
    """Lock up to ``limit`` running clocks with a due rung, earliest first."""
    return list(
        session.scalars(
            select(Clock)
            .where(Clock.next_rung_at <= now, Clock.state == ClockState.RUNNING.value)
            .order_by(Clock.next_rung_at, Clock.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def fire_due_rungs(
    session: Session,
    clock: Clock,
    *,
    now: dt.datetime,
    pauses: Sequence[ClockPause] | None = None,
    rungs: Sequence[ClockRung] | None = None,
    context: _BatchContext | None = None,
) -> list[Fired]:
    """Fire the due rungs of a locked clock in order; each at most once."""
    if rungs is None:
        rungs = list(session.scalars(select(ClockRung).where(ClockRung.clock_id == clock.id)))
    context = context or _BatchContext.load(session, [clock])
    refresh(session, clock, pauses=pauses, rungs=rungs)
    fired: list[Fired] = []
    for rung in sorted(rungs, key=lambda r: (r.fraction, r.name)):
        if rung.fired_at is not None:
            continue
        if rung.due_at is None or rung.due_at > now or clock.state != ClockState.RUNNING:
            break
        rung.fired_at = now
        fired.append(Fired(clock.id, rung.name, rung.due_at))
        _consequences(session, clock, rung, now=now, context=context)
    refresh(session, clock, pauses=pauses, rungs=rungs)
    return fired


@dataclass
class _BatchContext:
    """What the consequences of a batch need, loaded with one query per table."""

    referents: dict[uuid.UUID, uuid.UUID | None]
    administrations: dict[uuid.UUID, str]

    @classmethod
    def load(cls, session: Session, clocks: Sequence[Clock]) -> _BatchContext:
        dossier_ids = {c.dossier_id for c in clocks}
        consultation_ids = {c.consultation_id for c in clocks if c.consultation_id}
        referents = dict(
            session.execute(
                select(Dossier.id, Dossier.referent_id).where(Dossier.id.in_(dossier_ids))
            ).all()
        )
        administrations = (
            dict(
                session.execute(
                    select(Consultation.id, Consultation.administration_code).where(
                        Consultation.id.in_(consultation_ids)
                    )
                ).all()
            )
            if consultation_ids
            else {}
        )
        return cls(referents, administrations)


def _consequences(
    session: Session, clock: Clock, rung: ClockRung, *, now: dt.datetime, context: _BatchContext
) -> None:
    label = RUNG_LABELS.get(rung.name, rung.name)
    record(
        session, dossier_id=clock.dossier_id, consultation_id=clock.consultation_id,
        actor=Actor.flow("sweep"), at=now, entity="clock", event=f"rung_{rung.name}",
        message=t("sweep.rung_reached", kind=clock.kind, label=label, due_at=rung.due_at),
        details={"clock_id": str(clock.id), "fraction": rung.fraction},
    )  # fmt: skip
    template = {
        RungName.REMINDER_50.value: Template.REMINDER,
        RungName.REMINDER_75.value: Template.REMINDER,
        RungName.BREACH.value: Template.BREACH,
    }.get(rung.name, Template.ESCALATION)
    referent = context.referents.get(clock.dossier_id)
    administration = (
        context.administrations.get(clock.consultation_id) if clock.consultation_id else None
    )
    # A rung fires once (its clock is locked): the message is new, no look-up needed.
    enqueue(
        session,
        notification(
            template,
            dossier_id=clock.dossier_id,
            user_ids=[referent] if referent else [],
            administration=administration,
            context={"clock_id": str(clock.id), "rung": rung.name, "kind": clock.kind},
            dedupe_key=f"rung:{rung.id}",
        ),
        now=now,
        new=True,
    )
    if (
        rung.name == RungName.BREACH
        and clock.kind == ClockKind.TAKE_CHARGE
        and _on_breach(session, clock) == OnBreach.REOFFER
    ):
        offer_to_next_referent(session, dossier_id=clock.dossier_id, now=now)
    if (
        rung.name == RungName.BREACH
        and clock.kind == ClockKind.CONSULTATION_DEADLINE
        and clock.consultation_id is not None
        and clock.due_at is not None
    ):
        apply_tacit_opinion(session, consultation_id=clock.consultation_id, at=clock.due_at)


def _on_breach(session: Session, clock: Clock) -> str | None:
    definition = session.get(DeadlineDefinition, (clock.definition_code, clock.definition_version))
    return None if definition is None else definition.on_breach


def sweep_batch(session: Session, *, now: dt.datetime, limit: int = 500) -> list[Fired]:
    """Claim one batch of clocks and fire their due rungs (the caller commits).

    Rungs, pauses, referents and administrations of the whole batch are loaded with one query
    each; history rows and outbox messages are written in bulk at the end.
    """
    claimed = claim_due_clocks(session, now=now, limit=limit)
    if not claimed:
        return []
    # Actions lock a dossier before its clocks; the sweep holds clocks already, so it never
    # WAITS for a dossier (no deadlock): clocks of a busy dossier are left for the next sweep.
    free = set(
        session.scalars(
            select(Dossier.id)
            .where(Dossier.id.in_({c.dossier_id for c in claimed}))
            .with_for_update(skip_locked=True)
        )
    )
    clocks = [c for c in claimed if c.dossier_id in free]
    ids = [c.id for c in clocks]
    rungs: dict[uuid.UUID, list[ClockRung]] = defaultdict(list)
    for rung in session.scalars(select(ClockRung).where(ClockRung.clock_id.in_(ids))):
        rungs[rung.clock_id].append(rung)
    pauses: dict[uuid.UUID, list[ClockPause]] = defaultdict(list)
    for pause in session.scalars(select(ClockPause).where(ClockPause.clock_id.in_(ids))):
        pauses[pause.clock_id].append(pause)
    context = _BatchContext.load(session, clocks)
    fired: list[Fired] = []
    for clock in clocks:
        fired.extend(
            fire_due_rungs(
                session, clock, now=now, pauses=pauses[clock.id], rungs=rungs[clock.id],
                context=context,
            )
        )  # fmt: skip
    return fired
