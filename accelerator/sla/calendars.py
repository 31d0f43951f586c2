"""Working calendars as pure values: time zone, working days, holiday rules (no database).

Holidays are RULES (fixed dates and offsets from Easter), not lists of dates, so any year
works; a holiday falling on a weekend has no substitute day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo


def easter_sunday(year: int) -> dt.date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


@dataclass(frozen=True)
class HolidayRule:
    """A holiday: a fixed ``MM-DD`` date or an offset in days from Easter Sunday."""

    name: str
    fixed: str | None = None
    easter_offset: int | None = None

    def date_in(self, year: int) -> dt.date:
        """The date of this holiday in ``year``."""
        if self.fixed is not None:
            month, day = (int(part) for part in self.fixed.split("-"))
            return dt.date(year, month, day)
        assert self.easter_offset is not None
        return easter_sunday(year) + dt.timedelta(days=self.easter_offset)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HolidayRule:
        """Build from the catalogue's JSON form."""
        return cls(name=data["name"], fixed=data.get("fixed"), easter_offset=data.get("easter"))


@dataclass(frozen=True)
class WorkingCalendar:
    """A calendar: IANA zone, weekly working intervals, holiday rules, per-date overrides."""

    code: str
    timezone: str
    #: Working intervals per ISO weekday (1 = Monday), as (start, end) local times.
    weekly: dict[int, tuple[tuple[dt.time, dt.time], ...]]
    holiday_rules: tuple[HolidayRule, ...]
    #: Exceptional closures (a bridge day) by date, with a name.
    closures: dict[dt.date, str] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone."""
        return zone_named(self.timezone)

    def holidays(self, year: int) -> dict[dt.date, str]:
        """Holidays of ``year`` by date (the first rule wins if two coincide)."""
        return _holidays(self.holiday_rules, year)

    def holiday_name(self, day: dt.date) -> str | None:
        """The name of the holiday or closure on ``day``, if any."""
        return self.closures.get(day) or self.holidays(day.year).get(day)

    def is_business_day(self, day: dt.date) -> bool:
        """A jour ouvré: Monday to Friday, not a holiday nor a closure."""
        return day.isoweekday() <= 5 and self.holiday_name(day) is None

    def is_working_day(self, day: dt.date) -> bool:
        """A jour ouvrable: Monday to Saturday, not a holiday nor a closure."""
        return day.isoweekday() <= 6 and self.holiday_name(day) is None

    def local_midnight(self, day: dt.date) -> dt.datetime:
        """00:00 of ``day`` in the calendar's zone, as an aware datetime."""
        return dt.datetime.combine(day, dt.time(0), tzinfo=self.zone)

    def local_date(self, instant: dt.datetime) -> dt.date:
        """The calendar date of ``instant`` in the calendar's zone."""
        return instant.astimezone(self.zone).date()

    @classmethod
    def from_spec(cls, code: str, timezone: str, spec: dict[str, Any]) -> WorkingCalendar:
        """Build from the catalogue's JSON ``spec`` of a calendar."""
        weekly: dict[int, tuple[tuple[dt.time, dt.time], ...]] = {}
        for weekday, intervals in spec.get("weekly", DEFAULT_WEEKLY).items():
            weekly[int(weekday)] = tuple(
                (dt.time.fromisoformat(start), dt.time.fromisoformat(end))
                for start, end in intervals
            )
        rules = tuple(HolidayRule.from_json(rule) for rule in spec.get("holidays", []))
        closures = {
            dt.date.fromisoformat(item["date"]): item["name"] for item in spec.get("closures", [])
        }
        return cls(
            code=code, timezone=timezone, weekly=weekly, holiday_rules=rules, closures=closures
        )


DEFAULT_WEEKLY: dict[str, list[list[str]]] = {
    str(weekday): [["09:00", "12:00"], ["14:00", "17:00"]] for weekday in range(1, 6)
}


@lru_cache(maxsize=64)
def zone_named(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (cached)."""
    return ZoneInfo(name)


@lru_cache(maxsize=4096)
def _holidays(rules: tuple[HolidayRule, ...], year: int) -> dict[dt.date, str]:
    found: dict[dt.date, str] = {}
    for rule in rules:
        found.setdefault(rule.date_in(year), rule.name)
    return found
