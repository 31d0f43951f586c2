"""The deadline calculator behind ``accelerator deadline`` and ``GET /api/v1/deadline``."""

from __future__ import annotations

from accelerator.sla.calendars import WorkingCalendar
from accelerator.sla.durations import add, between, parse_duration, parse_unit
from accelerator.sla.explain import explain
from accelerator.sla.instants import parse_instant
from accelerator.sla.schemas import BetweenOut, DeadlineOut


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
