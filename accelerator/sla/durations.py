"""Durations with an explicit unit, and deadline arithmetic over a working calendar.

Day and month units: the start day is not counted and the deadline expires at the END of the
last day, i.e. at 00:00 of the next day in the calendar's zone (SLA.md). Hours are elapsed
wall-clock hours computed in UTC, so a DST night has 23 or 25 of them.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from accelerator.errors import InvalidInput
from accelerator.sla.calendars import WorkingCalendar


class Unit(StrEnum):
    """The only units a budget may be expressed in; a bare "day" is ambiguous and refused."""

    HOURS = "hours"
    BUSINESS_HOURS = "business_hours"
    BUSINESS_DAYS = "business_days"
    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"
    MONTHS = "months"


UNIT_LABELS: dict[Unit, str] = {
    Unit.HOURS: "heures",
    Unit.BUSINESS_HOURS: "heures ouvrées",
    Unit.BUSINESS_DAYS: "jours ouvrés",
    Unit.WORKING_DAYS: "jours ouvrables",
    Unit.CALENDAR_DAYS: "jours calendaires",
    Unit.MONTHS: "mois",
}


@dataclass(frozen=True)
class Duration:
    """An amount of one unit, e.g. ``Duration(2, Unit.MONTHS)``."""

    amount: int
    unit: Unit

    def __str__(self) -> str:
        return f"{self.amount} {self.unit.value}"

    def label(self) -> str:
        """French wording, e.g. « 2 mois »."""
        return f"{self.amount} {UNIT_LABELS[self.unit]}"


_DURATION = re.compile(r"^\s*(-?\d+)\s+([a-z_]+)\s*$")


def parse_duration(text: str) -> Duration:
    """Parse ``"AMOUNT UNIT"``; refuse ambiguous units and negative amounts."""
    match = _DURATION.match(text)
    if match is None:
        raise InvalidInput(
            f"Durée illisible : « {text} » (attendu « MONTANT UNITÉ », ex. « 2 months »)."
        )
    amount, unit_text = int(match.group(1)), match.group(2)
    return make_duration(amount, unit_text)


def make_duration(amount: int, unit_text: str) -> Duration:
    """A checked ``Duration`` from an amount and a unit name."""
    try:
        unit = Unit(unit_text)
    except ValueError:
        known = ", ".join(u.value for u in Unit)
        raise InvalidInput(
            f"Unité ambiguë ou inconnue : « {unit_text} » (unités admises : {known})."
        ) from None
    if amount < 0:
        raise InvalidInput(f"Une durée ne peut pas être négative : {amount} {unit_text}.")
    return Duration(amount, unit)


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day number ``months`` later; a missing day becomes the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = _stdlib_calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


def last_day(start: dt.datetime, duration: Duration, calendar: WorkingCalendar) -> dt.date:
    """The last counted day of a day or month budget (the start day itself is not counted)."""
    day = calendar.local_date(start)
    if duration.unit is Unit.MONTHS:
        return add_months(day, duration.amount)
    if duration.unit is Unit.CALENDAR_DAYS:
        return day + dt.timedelta(days=duration.amount)
    counts = {
        Unit.BUSINESS_DAYS: calendar.is_business_day,
        Unit.WORKING_DAYS: calendar.is_working_day,
    }.get(duration.unit)
    if counts is None:
        raise InvalidInput(f"L'unité {duration.unit.value} ne se compte pas en jours.")
    remaining = duration.amount
    while remaining > 0:
        day += dt.timedelta(days=1)
        if counts(day):
            remaining -= 1
    return day


def prorogate(day: dt.date, calendar: WorkingCalendar) -> dt.date:
    """Move a last day that is a Saturday, Sunday or holiday to the next business day."""
    while not calendar.is_business_day(day):
        day += dt.timedelta(days=1)
    return day


def add(
    start: dt.datetime,
    duration: Duration,
    calendar: WorkingCalendar,
    *,
    prorogation: bool = False,
) -> dt.datetime:
    """The instant at which ``duration`` counted from ``start`` in ``calendar`` expires."""
    if start.tzinfo is None:
        raise InvalidInput("L'instant de départ doit porter un fuseau horaire.")
    if duration.unit is Unit.HOURS:
        return (start.astimezone(dt.UTC) + dt.timedelta(hours=duration.amount)).astimezone(
            calendar.zone
        )
    if duration.unit is Unit.BUSINESS_HOURS:
        raise InvalidInput("Les heures ouvrées ne sont pas encore prises en charge.")
    end = last_day(start, duration, calendar)
    if prorogation:
        end = prorogate(end, calendar)
    return calendar.local_midnight(end + dt.timedelta(days=1))
