"""Durations with an explicit unit, and deadline arithmetic over a working calendar.

Day and month units: the start day is not counted and the deadline expires at the END of the
last day, i.e. at 00:00 of the next day in the calendar's zone (docs/domain.md). Hours are elapsed
wall-clock hours computed in UTC, so a DST night has 23 or 25 of them.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from accelerator.shared.errors import InvalidInput
from accelerator.shared.text import t
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
    Unit.HOURS: t("sla.unit.hours"),
    Unit.BUSINESS_HOURS: t("sla.unit.business_hours"),
    Unit.BUSINESS_DAYS: t("sla.unit.business_days"),
    Unit.WORKING_DAYS: t("sla.unit.working_days"),
    Unit.CALENDAR_DAYS: t("sla.unit.calendar_days"),
    Unit.MONTHS: t("sla.unit.months"),
}


UNIT_SINGULAR: dict[Unit, str] = {
    Unit.HOURS: t("sla.unit.hour"),
    Unit.BUSINESS_HOURS: t("sla.unit.business_hour"),
    Unit.BUSINESS_DAYS: t("sla.unit.business_day"),
    Unit.WORKING_DAYS: t("sla.unit.working_day"),
    Unit.CALENDAR_DAYS: t("sla.unit.calendar_day"),
    Unit.MONTHS: t("sla.unit.month"),
}


@dataclass(frozen=True)
class Duration:
    """An amount of one unit, e.g. ``Duration(2, Unit.MONTHS)``."""

    amount: int
    unit: Unit

    def __str__(self) -> str:
        return f"{self.amount} {self.unit.value}"

    def label(self) -> str:
        """French wording, e.g. « 2 mois », « 1 jour ouvré »."""
        words = UNIT_LABELS[self.unit] if self.amount > 1 else UNIT_SINGULAR[self.unit]
        return f"{self.amount} {words}"


ONE_DAY = dt.timedelta(days=1)
#: A calendar with no working time for this many days in a row cannot hold a business budget.
MAX_IDLE_DAYS = 366

#: The largest amount of each unit: what 100 years hold (a business hour counted as an hour,
#: a month as 1/12 of a year). Every deadline then stays far inside what ``datetime`` can
#: represent, and is computed in bounded time.
MAX_AMOUNTS: dict[Unit, int] = {
    Unit.HOURS: 876_600,
    Unit.BUSINESS_HOURS: 876_600,
    Unit.BUSINESS_DAYS: 36_525,
    Unit.WORKING_DAYS: 36_525,
    Unit.CALENDAR_DAYS: 36_525,
    Unit.MONTHS: 1_200,
}
#: No deadline is computed beyond this year (a calendar with very few working hours a week
#: would otherwise walk thousands of years before finding one).
LATEST_DEADLINE_YEAR = 3000
MAX_DURATION_LENGTH = 64

# ASCII only: ``\d`` would otherwise take full-width and other Unicode digits.
_DURATION = re.compile(r"^\s*(-?\d{1,12})\s+([a-z_]{1,32})\s*$", re.ASCII)
_UNIT = re.compile(r"^[a-z_]{1,32}$", re.ASCII)
_HORIZON = dt.date(LATEST_DEADLINE_YEAR, 12, 31)


def parse_duration(text: str) -> Duration:
    """Parse ``"AMOUNT UNIT"`` (ASCII digits, a known unit); refuse ambiguous units and
    amounts that are negative or beyond ``MAX_AMOUNTS``."""
    match = _DURATION.match(text) if len(text) <= MAX_DURATION_LENGTH else None
    if match is None:
        shown = f" : « {text.strip()} »" if len(text) <= MAX_DURATION_LENGTH else ""
        if not text.isprintable():
            shown = ""
        raise InvalidInput(t("sla.duration_unreadable", shown=shown))
    amount, unit_text = int(match.group(1)), match.group(2)
    return make_duration(amount, unit_text)


def parse_unit(text: str) -> Unit:
    """A unit by name; an ambiguous or unknown one (a bare "day") is refused."""
    cleaned = text.strip()
    try:
        if len(text) > MAX_DURATION_LENGTH or not _UNIT.match(cleaned):
            raise ValueError(cleaned)
        return Unit(cleaned)
    except ValueError:
        known = ", ".join(u.value for u in Unit)
        shown = f" « {cleaned} »" if _UNIT.match(cleaned) else ""
        raise InvalidInput(t("sla.unit_unknown", shown=shown, known=known)) from None


def make_duration(amount: int, unit_text: str) -> Duration:
    """A checked ``Duration`` from an amount and a unit name: 0 to ``MAX_AMOUNTS[unit]``."""
    unit = parse_unit(unit_text)
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidInput(t("sla.amount_not_integer"))
    if amount < 0:
        raise InvalidInput(t("sla.amount_negative", amount=amount, unit=unit.value))
    if amount > MAX_AMOUNTS[unit]:
        raise InvalidInput(t("sla.amount_too_large", max_amount=MAX_AMOUNTS[unit], unit=unit.value))
    return Duration(amount, unit)


def half_of(duration: Duration) -> Duration:
    """Half a budget in a unit that keeps it exact: an odd number of months becomes days
    (a month counted as 30 days), an odd number of days or hours is rounded up."""
    if duration.unit is Unit.MONTHS and duration.amount % 2:
        return Duration(duration.amount * 15, Unit.CALENDAR_DAYS)
    return Duration(-(-duration.amount // 2), duration.unit)


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day number ``months`` later; a missing day becomes the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = _stdlib_calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


def _day_predicate(unit: Unit, calendar: WorkingCalendar) -> Callable[[dt.date], bool]:
    if unit is Unit.BUSINESS_DAYS:
        return calendar.is_business_day
    if unit is Unit.WORKING_DAYS:
        return calendar.is_working_day
    if unit is Unit.CALENDAR_DAYS:
        return lambda _day: True
    raise InvalidInput(t("sla.unit_not_days", unit=unit.value))


def last_day(start: dt.datetime, duration: Duration, calendar: WorkingCalendar) -> dt.date:
    """The last counted day of a day or month budget (the start day itself is not counted)."""
    day = calendar.local_date(start)
    if duration.unit is Unit.MONTHS:
        return add_months(day, duration.amount)
    if duration.unit is Unit.CALENDAR_DAYS:
        return day + dt.timedelta(days=duration.amount)
    if duration.unit not in (Unit.BUSINESS_DAYS, Unit.WORKING_DAYS):
        raise InvalidInput(t("sla.unit_not_days", unit=duration.unit.value))
    if duration.amount == 0:
        return day
    return calendar.nth_counted_day(
        day, duration.amount, working=duration.unit is Unit.WORKING_DAYS
    )


def prorogate(day: dt.date, calendar: WorkingCalendar) -> dt.date:
    """Move a last day that is a Saturday, Sunday or holiday to the next business day."""
    while not calendar.is_business_day(day):
        day += ONE_DAY
    return day


def add_business_time(
    start: dt.datetime, amount: dt.timedelta, calendar: WorkingCalendar
) -> dt.datetime:
    """The first instant at which ``amount`` of working time from ``start`` is used up (UTC).

    Exact UTC instants are computed only for the first day and the day on which the budget
    runs out; the days between are summed from the calendar's year tables.
    """
    remaining = amount
    instant = start.astimezone(dt.UTC)
    if not remaining:
        return instant
    day = calendar.local_date(start)
    spans = calendar.spans(day)
    for begin, end in spans:
        if end <= instant:
            continue
        available = end - max(begin, instant)
        if available >= remaining:
            return max(begin, instant) + remaining
        remaining -= available
    idle_days = 0 if spans else 1
    while True:
        found = calendar.day_budget_ends(
            day + ONE_DAY,
            remaining,
            idle_days=idle_days,
            max_idle_days=MAX_IDLE_DAYS,
            horizon=_HORIZON,
        )
        if found is None:
            if any(calendar.weekly.values()):
                raise InvalidInput(
                    t(
                        "sla.deadline_too_far",
                        latest_year=LATEST_DEADLINE_YEAR,
                        calendar=calendar.code,
                    )
                )
            raise InvalidInput(
                t("sla.calendar_without_hours", calendar=calendar.code, max_idle_days=MAX_IDLE_DAYS)
            )
        day, remaining = found
        spans = calendar.spans(day)
        for begin, end in spans:
            if end - begin >= remaining:
                return begin + remaining
            remaining -= end - begin
        # Not reached while a day's spans hold the time its year table gives it.
        idle_days = 0 if spans else 1


def add(
    start: dt.datetime,
    duration: Duration,
    calendar: WorkingCalendar,
    *,
    prorogation: bool = False,
) -> dt.datetime:
    """The instant at which ``duration`` counted from ``start`` in ``calendar`` expires;
    ``InvalidInput`` when it cannot be represented."""
    if start.tzinfo is None:
        raise InvalidInput(t("sla.start_needs_timezone"))
    try:
        return _add(start, duration, calendar, prorogation=prorogation)
    except (OverflowError, ValueError):
        # Only reachable from amounts or instants that skipped the bounds of parse_duration
        # and check_instant (code, not people): still a refusal, never a crash.
        raise InvalidInput(
            t("sla.deadline_out_of_range", duration=duration, start=start.isoformat())
        ) from None


def _add(
    start: dt.datetime, duration: Duration, calendar: WorkingCalendar, *, prorogation: bool
) -> dt.datetime:
    zone = calendar.zone
    if duration.unit is Unit.HOURS:
        return (start.astimezone(dt.UTC) + dt.timedelta(hours=duration.amount)).astimezone(zone)
    if duration.unit is Unit.BUSINESS_HOURS:
        return add_business_time(start, dt.timedelta(hours=duration.amount), calendar).astimezone(
            zone
        )
    end = last_day(start, duration, calendar)
    if prorogation:
        end = prorogate(end, calendar)
    return calendar.local_midnight(end + ONE_DAY)


def business_seconds(start: dt.datetime, end: dt.datetime, calendar: WorkingCalendar) -> float:
    """Working time between two instants, in seconds.

    Exact spans for the first and last days only; the whole days between are summed from
    the calendar's year tables, so a range of centuries costs a few operations per year.
    """
    begin_utc, end_utc = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    first, last = calendar.local_date(start), calendar.local_date(end)
    total = dt.timedelta(0)
    for day in {first, last}:
        for span_start, span_end in calendar.spans(day):
            overlap = min(span_end, end_utc) - max(span_start, begin_utc)
            if overlap > dt.timedelta(0):
                total += overlap
    if last > first + ONE_DAY:
        total += calendar.working_time(first + ONE_DAY, last - ONE_DAY)
    return total.total_seconds()


def between(
    start: dt.datetime, end: dt.datetime, unit: Unit, calendar: WorkingCalendar
) -> int | float:
    """How much of ``unit`` lies between two instants (negative when ``end`` is earlier).

    Day units count the counted days after the start day whose end (24:00 local) is reached by
    ``end``; months, the largest N such that N months from ``start`` have expired by ``end``;
    so that ``between(a, add(a, d)) == d``. Costs a few operations per year of the range.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput(t("sla.instants_need_timezone"))
    try:
        return _between(start, end, unit, calendar)
    except (OverflowError, ValueError):
        raise InvalidInput(
            t("sla.instants_out_of_range", start=start.isoformat(), end=end.isoformat())
        ) from None


def _between(
    start: dt.datetime, end: dt.datetime, unit: Unit, calendar: WorkingCalendar
) -> int | float:
    # Aware datetimes sharing a tzinfo compare and subtract as WALL times in Python: a DST
    # night would count 24 hours. Work in UTC.
    start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    if end < start:
        return -_between(end, start, unit, calendar)
    if unit is Unit.HOURS:
        return _number((end - start).total_seconds() / 3600)
    if unit is Unit.BUSINESS_HOURS:
        return _number(business_seconds(start, end, calendar) / 3600)
    if unit is Unit.MONTHS:
        first = calendar.local_date(start)
        months = (calendar.local_date(end).year - first.year) * 12 + (
            calendar.local_date(end).month - first.month
        )
        while months > 0 and add(start, Duration(months, unit), calendar) > end:
            months -= 1
        return months
    _day_predicate(unit, calendar)  # refuses a unit that is not counted in days
    day = calendar.local_date(start) + ONE_DAY
    # The last day whose end has been reached by ``end``.
    last = calendar.local_date(end) - ONE_DAY
    if calendar.local_midnight(last + ONE_DAY) > end:
        last -= ONE_DAY
    if last < day:
        return 0
    if unit is Unit.CALENDAR_DAYS:
        return (last - day).days + 1
    return calendar.count_counted_days(day, last, working=unit is Unit.WORKING_DAYS)


def _number(value: float) -> int | float:
    rounded = round(value, 9)
    return int(rounded) if rounded == int(rounded) else rounded
