"""The deadline calculator behind ``accelerator deadline`` and ``GET /api/v1/deadline``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.sla.actions import facts_of
from accelerator.sla.calendars import WorkingCalendar, zone_named
from accelerator.sla.clocks import project, timeline
from accelerator.sla.definitions import KIND_LABELS, RUNG_LABELS, ClockKind, ClockState
from accelerator.sla.durations import (
    Duration,
    add,
    between,
    make_duration,
    parse_duration,
    parse_unit,
)
from accelerator.sla.explain import explain, for_holder
from accelerator.sla.instants import local_iso, parse_instant
from accelerator.sla.models import Clock, ClockPause, ClockRung
from accelerator.sla.schemas import (
    BetweenOut,
    BudgetLeftOut,
    ClockDetailOut,
    ClockOut,
    DeadlineOut,
    PauseOut,
    RungOut,
    SegmentOut,
    TimelineOut,
)


def compute_deadline(
    calendar: WorkingCalendar, *, start: str, amount_and_unit: str, prorogation: bool = False
) -> DeadlineOut:
    """The deadline of ``amount_and_unit`` from ``start`` in ``calendar``, explained."""
    instant = parse_instant(start, calendar)
    duration = parse_duration(amount_and_unit)
    deadline = add(instant, duration, calendar, prorogation=prorogation)
    return DeadlineOut(
        calendar=calendar.code,
        timezone=calendar.timezone,
        start=instant.isoformat(),
        add=str(duration),
        prorogation=prorogation,
        deadline=deadline.isoformat(),
        explanation=explain(instant, duration, calendar, prorogation=prorogation),
    )


def compute_between(calendar: WorkingCalendar, *, start: str, end: str, unit: str) -> BetweenOut:
    """The amount of ``unit`` between two instants in ``calendar``."""
    chosen = parse_unit(unit)
    first, second = parse_instant(start, calendar), parse_instant(end, calendar)
    return BetweenOut(
        calendar=calendar.code,
        start=first.isoformat(),
        end=second.isoformat(),
        unit=chosen.value,
        amount=between(first, second, chosen, calendar),
    )


def clock_detail(session: Session, clock: Clock) -> ClockDetailOut:
    """Everything about one clock, times in its calendar's zone."""
    facts = facts_of(session, clock)
    projection = project(facts)
    zone = facts.calendar.timezone
    pauses = session.scalars(
        select(ClockPause).where(ClockPause.clock_id == clock.id).order_by(ClockPause.started_at)
    )
    rungs = session.scalars(
        select(ClockRung).where(ClockRung.clock_id == clock.id).order_by(ClockRung.fraction)
    )
    return ClockDetailOut(
        left_on_resume=budget_left_view(projection.left_on_resume),
        id=str(clock.id),
        kind=clock.kind,
        label=KIND_LABELS.get(ClockKind(clock.kind), clock.kind),
        dossier_id=str(clock.dossier_id),
        consultation_id=str(clock.consultation_id) if clock.consultation_id else None,
        calendar=clock.calendar_code,
        calendar_version=clock.calendar_version,
        definition=clock.definition_code,
        definition_version=clock.definition_version,
        started_at=_iso(clock.anchor_at, zone) or "",
        budget=facts.budget.label(),
        prorogation=clock.prorogation,
        pause_effect=clock.pause_effect,
        due_at=_iso(clock.due_at, zone),
        state=clock.state,
        stopped_at=_iso(clock.stopped_at, zone),
        pauses=[
            PauseOut(
                reason=p.reason,
                started_at=_iso(p.started_at, zone) or "",
                ended_at=_iso(p.ended_at, zone),
            )
            for p in pauses
        ],
        rungs=[
            RungOut(
                name=r.name,
                label=RUNG_LABELS.get(r.name, r.name),
                fraction=r.fraction,
                due_at=_iso(r.due_at, zone),
                fired_at=_iso(r.fired_at, zone),
            )
            for r in rungs
        ],
        explanation=list(projection.steps),
    )


def clock_timeline(session: Session, clock: Clock, *, now: dt.datetime) -> TimelineOut:
    """The clock's segments and a plain-French account of its deadline."""
    facts = facts_of(session, clock)
    projection = project(facts)
    zone = facts.calendar.timezone
    return TimelineOut(
        clock_id=str(clock.id),
        due_at=_iso(clock.due_at, zone),
        state=clock.state,
        segments=[
            SegmentOut(
                kind=s.kind,
                start=_iso(s.start, zone) or "",
                end=_iso(s.end, zone) or "",
                label=s.label,
            )
            for s in timeline(facts, projection, now=now)
        ],
        explanation=list(projection.steps),
        for_holder=for_holder(facts, projection),
    )


def _iso(instant: dt.datetime | None, zone: str) -> str | None:
    return None if instant is None else instant.astimezone(zone_named(zone)).isoformat()


def clock_view(k: Clock, timezone: str) -> ClockOut:
    """A clock as shown to users, times in its calendar's zone."""
    return ClockOut(
        id=str(k.id),
        kind=k.kind,
        label=KIND_LABELS.get(ClockKind(k.kind), k.kind),
        consultation_id=str(k.consultation_id) if k.consultation_id else None,
        calendar=k.calendar_code,
        started_at=local_iso(k.anchor_at, timezone) or "",
        budget=make_duration(k.budget_amount, k.budget_unit).label(),
        due_at=local_iso(k.due_at, timezone),
        state=k.state,
        stopped_at=local_iso(k.stopped_at, timezone),
        left_on_resume=_left_on_resume(k),
    )


def _left_on_resume(k: Clock) -> BudgetLeftOut | None:
    if k.state != ClockState.PAUSED or k.left_amount is None or k.left_unit is None:
        return None
    return budget_left_view(make_duration(k.left_amount, k.left_unit))


def budget_left_view(left: Duration | None) -> BudgetLeftOut | None:
    """A paused clock's budget on resumption, as shown."""
    if left is None:
        return None
    return BudgetLeftOut(amount=left.amount, unit=left.unit.value, label=left.label())
