"""Start and stop clocks; a clock's deadline is derived from its anchor and budget."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.catalogue.queries import get_calendar
from accelerator.sla.definitions import ClockKind, ClockState
from accelerator.sla.durations import Duration, add
from accelerator.sla.models import Clock


def start_clock(
    session: Session,
    *,
    key: str,
    kind: ClockKind,
    dossier_id: uuid.UUID,
    calendar_code: str,
    anchor_at: dt.datetime,
    budget: Duration,
    consultation_id: uuid.UUID | None = None,
) -> tuple[Clock, bool]:
    """Start the clock named ``key`` unless it exists; returns it and whether it is new."""
    existing = session.scalar(select(Clock).where(Clock.key == key))
    if existing is not None:
        return existing, False
    calendar = get_calendar(session, calendar_code)
    clock = Clock(
        key=key,
        kind=kind.value,
        dossier_id=dossier_id,
        consultation_id=consultation_id,
        calendar_code=calendar_code,
        anchor_at=anchor_at,
        budget_amount=budget.amount,
        budget_unit=budget.unit.value,
        due_at=add(anchor_at, budget, calendar),
        state=ClockState.RUNNING.value,
    )
    session.add(clock)
    session.flush()
    return clock, True


def stop_clock(session: Session, *, key: str, now: dt.datetime) -> Clock | None:
    """Stop the clock ``key`` if it runs; returns it (None if it never started)."""
    clock = session.scalar(select(Clock).where(Clock.key == key))
    if clock is not None and clock.state != ClockState.STOPPED:
        clock.state = ClockState.STOPPED.value
        clock.stopped_at = now
    return clock


def take_charge_key(dossier_id: uuid.UUID) -> str:
    """Key of a dossier's take-in-charge clock."""
    return f"{ClockKind.TAKE_CHARGE}:{dossier_id}"


def consultation_key(consultation_id: uuid.UUID) -> str:
    """Key of a consultation's deadline clock."""
    return f"{ClockKind.CONSULTATION_DEADLINE}:{consultation_id}"
