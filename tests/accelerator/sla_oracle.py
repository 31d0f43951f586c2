"""An independent reference ("oracle") for the deadline semantics of docs/domain.md.

Written from docs/domain.md only (the clock semantics and the "Calendars" section): it neither
imports nor mirrors the engine (``accelerator.sla``). It is deliberately simple and slow:

* its own Easter computation (Gauss's algorithm, with both of Gauss's exceptions), cross-checked
  against a literal table of Easter Sundays;
* its own holiday lists per calendar code (it does not read the seed ``calendars.json``);
* day units walk the calendar one day at a time; months use plain year/month arithmetic;
* business hours clip each working interval of each local day against the window (and a
  minute-by-minute walk, :func:`minute_walk_add_business_hours`, exists to check the clipping);
* every comparison between instants is made in UTC (two datetimes sharing one ``ZoneInfo``
  compare and subtract by WALL time in Python, which is wrong across a DST night).

Semantics, as read from docs/domain.md (one reading is chosen where the text is silent, marked
"READING"):

* ``hours``: elapsed UTC hours.
* ``business_hours``: time inside Monday–Friday 09:00–12:00 and 14:00–17:00 local wall time,
  holidays excluded. A start outside working time counts from the next working instant; the
  deadline is the FIRST instant at which the budget is used up (it can be 12:00 or 17:00).
  READING: a budget of 0 is used up at the start itself, so ``add(a, 0) == a``.
* ``business_days`` (Mon–Fri minus holidays), ``working_days`` (Mon–Sat minus holidays),
  ``calendar_days`` (every day), ``months`` (same day number N months later, clamped to the
  month's last day): the start's LOCAL date is not counted; the deadline is the end of the last
  day, i.e. 00:00 of the following day in the calendar zone.
  READING: for an amount of 0 the last day is the start day itself (the deadline is the end of
  the start day), so day-unit results are always a local midnight.
* prorogation: a last day that is a Saturday, Sunday or holiday moves to the next day that is
  none of these (the next business day).
* ``between(start, end, unit)``: hours units give float hours (elapsed, or working time inside
  [start, end]); day units count the counted days D with local_date(start) < D and
  end-of-D <= end; months give the largest n >= 0 with add(start, n months) <= end (0 if none).
"""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

UTC = dt.UTC
ONE_DAY = dt.timedelta(days=1)
ONE_MINUTE = dt.timedelta(minutes=1)

HOURS = "hours"
BUSINESS_HOURS = "business_hours"
BUSINESS_DAYS = "business_days"
WORKING_DAYS = "working_days"
CALENDAR_DAYS = "calendar_days"
MONTHS = "months"
DAY_UNITS = (BUSINESS_DAYS, WORKING_DAYS, CALENDAR_DAYS)
ALL_UNITS = (HOURS, BUSINESS_HOURS, BUSINESS_DAYS, WORKING_DAYS, CALENDAR_DAYS, MONTHS)

#: Calendar code -> IANA time zone.
ZONES: dict[str, str] = {
    "FR": "Europe/Paris",
    "FR-57": "Europe/Paris",
    "FR-67": "Europe/Paris",
    "FR-68": "Europe/Paris",
    "FR-971": "America/Guadeloupe",
    "FR-972": "America/Martinique",
    "FR-973": "America/Cayenne",
    "FR-974": "Indian/Reunion",
    "FR-976": "Indian/Mayotte",
}

#: Working intervals, Monday (1) to Friday (5), local wall time, as (hour, minute) pairs.
WORKING_INTERVALS: tuple[tuple[tuple[int, int], tuple[int, int]], ...] = (
    ((9, 0), (12, 0)),
    ((14, 0), (17, 0)),
)
WORKING_WEEKDAYS = (1, 2, 3, 4, 5)  # ISO weekdays

#: Easter Sundays from published tables (Gregorian computus), to check :func:`easter_sunday`.
KNOWN_EASTER_SUNDAYS: dict[int, dt.date] = {
    2023: dt.date(2023, 4, 9),
    2024: dt.date(2024, 3, 31),
    2025: dt.date(2025, 4, 20),
    2026: dt.date(2026, 4, 5),
    2027: dt.date(2027, 3, 28),
    2028: dt.date(2028, 4, 16),
    2029: dt.date(2029, 4, 1),
    2030: dt.date(2030, 4, 21),
    2031: dt.date(2031, 4, 13),
    2032: dt.date(2032, 3, 28),
}

#: Metropolitan fixed holidays (month, day).
_METROPOLITAN_FIXED = {
    (1, 1): "Jour de l'an",
    (5, 1): "Fête du travail",
    (5, 8): "8 mai 1945",
    (7, 14): "Fête nationale",
    (8, 15): "Assomption",
    (11, 1): "Toussaint",
    (11, 11): "11 novembre 1918",
    (12, 25): "Noël",
}
#: Metropolitan holidays relative to Easter Sunday (days).
_METROPOLITAN_EASTER = {1: "Lundi de Pâques", 39: "Ascension", 50: "Lundi de Pentecôte"}
#: Alsace-Moselle additions.
_ALSACE_MOSELLE_FIXED = {(12, 26): "Saint-Étienne"}
_ALSACE_MOSELLE_EASTER = {-2: "Vendredi saint"}
#: Overseas abolition-of-slavery day.
_ABOLITION = {
    "FR-971": (5, 27),
    "FR-972": (5, 22),
    "FR-973": (6, 10),
    "FR-974": (12, 20),
    "FR-976": (4, 27),
}


def easter_sunday(year: int) -> dt.date:
    """Gregorian Easter Sunday by Gauss's algorithm (with its two exceptions)."""
    a = year % 19
    b = year % 4
    c = year % 7
    k = year // 100
    p = (13 + 8 * k) // 25
    q = k // 4
    m = (15 - p + k - q) % 30
    n = (4 + k - q) % 7
    d = (19 * a + m) % 30
    e = (2 * b + 4 * c + 6 * d + n) % 7
    if d == 29 and e == 6:
        return dt.date(year, 4, 19)
    if d == 28 and e == 6 and (11 * m + 11) % 30 < 19:
        return dt.date(year, 4, 18)
    if 22 + d + e <= 31:
        return dt.date(year, 3, 22 + d + e)
    return dt.date(year, 4, d + e - 9)


def holidays(code: str, year: int) -> dict[dt.date, str]:
    """Holidays of one calendar in one year: date -> name."""
    if code not in ZONES:
        raise KeyError(code)
    easter = easter_sunday(year)
    fixed = dict(_METROPOLITAN_FIXED)
    relative = dict(_METROPOLITAN_EASTER)
    if code in ("FR-57", "FR-67", "FR-68"):
        fixed.update(_ALSACE_MOSELLE_FIXED)
        relative.update(_ALSACE_MOSELLE_EASTER)
    if code in _ABOLITION:
        fixed[_ABOLITION[code]] = "Abolition de l'esclavage"
    result = {dt.date(year, month, day): name for (month, day), name in fixed.items()}
    for offset, name in relative.items():
        result[easter + dt.timedelta(days=offset)] = name
    return result


def zone(code: str) -> ZoneInfo:
    return ZoneInfo(ZONES[code])


@functools.cache
def _holiday_dates(code: str, year: int) -> frozenset[dt.date]:
    return frozenset(holidays(code, year))


def is_holiday(day: dt.date, code: str) -> bool:
    return day in _holiday_dates(code, day.year)


def is_business_day(day: dt.date, code: str) -> bool:
    """Jour ouvré: Monday to Friday and not a holiday."""
    return day.isoweekday() <= 5 and not is_holiday(day, code)


def is_counted_day(day: dt.date, unit: str, code: str) -> bool:
    """Whether ``day`` counts for a day unit."""
    unit = _unit(unit)
    if unit == CALENDAR_DAYS:
        return True
    if unit == BUSINESS_DAYS:
        return day.isoweekday() <= 5 and not is_holiday(day, code)
    if unit == WORKING_DAYS:
        return day.isoweekday() <= 6 and not is_holiday(day, code)
    raise ValueError(f"not a day unit: {unit}")


def local_date(instant: dt.datetime, code: str) -> dt.date:
    return _aware(instant).astimezone(zone(code)).date()


def end_of_day(day: dt.date, code: str) -> dt.datetime:
    """The end of ``day`` (24:00), written as 00:00 of the next day in the calendar zone."""
    return dt.datetime.combine(day + ONE_DAY, dt.time(0, 0), tzinfo=zone(code))


def working_intervals(day: dt.date, code: str) -> list[tuple[dt.datetime, dt.datetime]]:
    """The working intervals of a local day, as NAIVE local wall datetimes."""
    if day.isoweekday() not in WORKING_WEEKDAYS or is_holiday(day, code):
        return []
    return [
        (
            dt.datetime.combine(day, dt.time(*start)),
            dt.datetime.combine(day, dt.time(*end)),
        )
        for start, end in WORKING_INTERVALS
    ]


def is_working_instant(instant: dt.datetime, code: str) -> bool:
    """Inside a working interval, its end included (where a business-hours deadline may land)."""
    wall = _wall(instant, code)
    return any(lo <= wall <= hi for lo, hi in working_intervals(wall.date(), code))


# --------------------------------------------------------------------------------------------
# add


def oracle_add(
    start: dt.datetime, amount: int, unit: str, code: str, prorogation: bool = False
) -> dt.datetime:
    """The deadline ``amount`` ``unit`` after ``start`` on calendar ``code`` (in its zone)."""
    unit = _unit(unit)
    start = _aware(start)
    if amount < 0:
        raise ValueError("negative amount")
    tz = zone(code)
    if unit == HOURS:
        return (start.astimezone(UTC) + dt.timedelta(hours=amount)).astimezone(tz)
    if unit == BUSINESS_HOURS:
        return _add_business_hours(start, amount, code)
    if unit in DAY_UNITS:
        day = local_date(start, code)
        counted = 0
        while counted < amount:
            day += ONE_DAY
            if is_counted_day(day, unit, code):
                counted += 1
    elif unit == MONTHS:
        origin = local_date(start, code)
        index = origin.year * 12 + (origin.month - 1) + amount
        year, month0 = divmod(index, 12)
        day = dt.date(year, month0 + 1, min(origin.day, _days_in_month(year, month0 + 1)))
    else:
        raise ValueError(f"unknown unit: {unit}")
    if prorogation:
        while not is_business_day(day, code):
            day += ONE_DAY
    return end_of_day(day, code)


def _add_business_hours(start: dt.datetime, amount: int, code: str) -> dt.datetime:
    if amount == 0:
        return start.astimezone(zone(code))
    remaining = dt.timedelta(hours=amount)
    cursor = _wall(start, code)
    day = cursor.date()
    while True:
        for lo, hi in working_intervals(day, code):
            begin = max(lo, cursor)
            if begin >= hi:
                continue
            available = hi - begin
            if remaining <= available:
                return _from_wall(begin + remaining, code)
            remaining -= available
        day += ONE_DAY


def minute_walk_add_business_hours(start: dt.datetime, amount: int, code: str) -> dt.datetime:
    """Business hours by walking minute by minute (whole-minute starts only). Slow: used to
    check the interval clipping of :func:`oracle_add`, not the engine."""
    wall = _wall(start, code)
    if wall.second or wall.microsecond:
        raise ValueError("the minute walk needs a whole-minute start")
    if amount == 0:
        return _aware(start).astimezone(zone(code))
    budget = amount * 60
    used = 0
    while used < budget:
        if _is_working_minute(wall, code):
            used += 1
        wall += ONE_MINUTE
    return _from_wall(wall, code)


def minute_walk_between_business_hours(start: dt.datetime, end: dt.datetime, code: str) -> float:
    """Working minutes in [start, end) by walking (whole-minute instants only), in hours."""
    wall, last = _wall(start, code), _wall(end, code)
    minutes = 0
    while wall < last:
        if _is_working_minute(wall, code):
            minutes += 1
        wall += ONE_MINUTE
    return minutes / 60


def _is_working_minute(wall: dt.datetime, code: str) -> bool:
    """Whether the minute [wall, wall + 1 min) lies in a working interval."""
    if wall.isoweekday() not in WORKING_WEEKDAYS or is_holiday(wall.date(), code):
        return False
    minute_of_day = wall.hour * 60 + wall.minute
    return any(
        h1 * 60 + m1 <= minute_of_day < h2 * 60 + m2 for (h1, m1), (h2, m2) in WORKING_INTERVALS
    )


# --------------------------------------------------------------------------------------------
# between


def oracle_between(start: dt.datetime, end: dt.datetime, unit: str, code: str) -> float | int:
    """How much of ``unit`` lies between ``start`` and ``end`` (see the module docstring)."""
    unit = _unit(unit)
    start, end = _aware(start), _aware(end)
    if unit == HOURS:
        return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 3600
    if unit == BUSINESS_HOURS:
        lo_wall, hi_wall = _wall(start, code), _wall(end, code)
        total = dt.timedelta(0)
        day = lo_wall.date()
        while day <= hi_wall.date():
            for lo, hi in working_intervals(day, code):
                clipped_lo, clipped_hi = max(lo, lo_wall), min(hi, hi_wall)
                if clipped_hi > clipped_lo:
                    total += clipped_hi - clipped_lo
            day += ONE_DAY
        return total.total_seconds() / 3600
    if unit in DAY_UNITS:
        end_utc = end.astimezone(UTC)
        count = 0
        day = local_date(start, code) + ONE_DAY
        while end_of_day(day, code).astimezone(UTC) <= end_utc:
            if is_counted_day(day, unit, code):
                count += 1
            day += ONE_DAY
        return count
    if unit == MONTHS:
        end_utc = end.astimezone(UTC)
        n = 0
        while oracle_add(start, n + 1, MONTHS, code).astimezone(UTC) <= end_utc:
            n += 1
        return n
    raise ValueError(f"unknown unit: {unit}")


# --------------------------------------------------------------------------------------------
# helpers


def _unit(unit: object) -> str:
    value = getattr(unit, "value", unit)
    if value not in ALL_UNITS:
        raise ValueError(f"unknown unit: {unit!r}")
    return str(value)


def _aware(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("naive datetime")
    return instant


def _wall(instant: dt.datetime, code: str) -> dt.datetime:
    """Local wall time in the calendar zone, naive."""
    return _aware(instant).astimezone(zone(code)).replace(tzinfo=None)


def _from_wall(wall: dt.datetime, code: str) -> dt.datetime:
    """An aware instant from a local wall time that must exist exactly once (working hours)."""
    tz = zone(code)
    result = wall.replace(tzinfo=tz)
    back = result.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    other = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if back != wall or other != result.astimezone(UTC):
        raise AssertionError(f"wall time {wall} is not unique in {tz.key}")
    return result.astimezone(UTC).astimezone(tz)


def _days_in_month(year: int, month: int) -> int:
    first_of_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return (first_of_next - ONE_DAY).day
