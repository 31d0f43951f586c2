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
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.consultations.actions import apply_tacit_opinion
from accelerator.dossiers.models import Dossier
from accelerator.history.actions import record
from accelerator.identity.actor import Actor
from accelerator.notifications.actions import Template, notify
from accelerator.sla.actions import refresh
from accelerator.sla.definitions import RUNG_LABELS, ClockKind, ClockState, RungName
from accelerator.sla.models import Clock, ClockRung


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


def fire_due_rungs(session: Session, clock: Clock, *, now: dt.datetime) -> list[Fired]:
    """Fire the due rungs of a locked clock in order; each at most once."""
    refresh(session, clock)
    rungs = session.scalars(
        select(ClockRung)
        .where(ClockRung.clock_id == clock.id, ClockRung.fired_at.is_(None))
        .order_by(ClockRung.fraction, ClockRung.name)
    )
    fired: list[Fired] = []
    for rung in rungs:
        if rung.due_at is None or rung.due_at > now or clock.state != ClockState.RUNNING:
            break
        rung.fired_at = now
        fired.append(Fired(clock.id, rung.name, rung.due_at))
        _consequences(session, clock, rung, now=now)
    refresh(session, clock)
    return fired


def _consequences(session: Session, clock: Clock, rung: ClockRung, *, now: dt.datetime) -> None:
    dossier = session.get_one(Dossier, clock.dossier_id)
    label = RUNG_LABELS.get(rung.name, rung.name)
    record(
        session,
        dossier_id=dossier.id,
        consultation_id=clock.consultation_id,
        actor=Actor.flow("sweep"),
        at=now,
        entity="clock",
        event=f"rung_{rung.name}",
        message=f"{clock.kind} : {label} (échéance prévue le {rung.due_at:%d/%m/%Y %H:%M} UTC).",
        details={"clock_id": str(clock.id), "fraction": rung.fraction},
    )
    template = {
        RungName.REMINDER_50.value: Template.REMINDER,
        RungName.REMINDER_75.value: Template.REMINDER,
        RungName.BREACH.value: Template.BREACH,
    }.get(rung.name, Template.ESCALATION)
    administration = None
    if clock.consultation_id is not None:
        from accelerator.consultations.models import Consultation

        administration = session.get_one(Consultation, clock.consultation_id).administration_code
    notify(
        session,
        template=template,
        now=now,
        dossier_id=dossier.id,
        user_ids=[dossier.referent_id] if dossier.referent_id else [],
        administration=administration,
        context={"clock_id": str(clock.id), "rung": rung.name, "kind": clock.kind},
        dedupe_key=f"rung:{rung.id}",
    )
    if (
        rung.name == RungName.BREACH
        and clock.kind == ClockKind.CONSULTATION_DEADLINE
        and clock.consultation_id is not None
        and clock.due_at is not None
    ):
        apply_tacit_opinion(session, consultation_id=clock.consultation_id, at=clock.due_at)


def sweep_batch(session: Session, *, now: dt.datetime, limit: int = 500) -> list[Fired]:
    """Claim one batch of clocks and fire their due rungs (the caller commits)."""
    fired: list[Fired] = []
    for clock in claim_due_clocks(session, now=now, limit=limit):
        # Actions lock a dossier before its clocks; the sweep holds a clock already, so it
        # never WAITS for a dossier (no deadlock): a busy one is left for the next sweep.
        dossier = session.scalar(
            select(Dossier.id)
            .where(Dossier.id == clock.dossier_id)
            .with_for_update(skip_locked=True)
        )
        if dossier is None:
            continue
        fired.extend(fire_due_rungs(session, clock, now=now))
    return fired
