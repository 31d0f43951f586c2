"""Working calendars as pure values: time zone, weekly working intervals, holiday rules and
per-date overrides (no database).

Holidays are RULES (fixed dates and offsets from Easter), not lists of dates, so any year
works; a holiday falling on a weekend has no substitute day. Overrides change one date:
an exceptional closure (a bridge day), an exceptional opening or a short day.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

Interval = tuple[dt.time, dt.time]
#: A working interval of one day as aware UTC instants (start, end).
Span = tuple[dt.datetime, dt.datetime]

WHIT_MONDAY_OFFSET = 50


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
class Override:
    """One date worked differently: no interval is a closure, else an opening or short day."""

    name: str
    intervals: tuple[Interval, ...]


@dataclass(frozen=True, eq=False)
class WorkingCalendar:
    """A calendar: IANA zone, weekly working intervals, holiday rules, per-date overrides."""

    code: str
    timezone: str
    #: Working intervals per ISO weekday (1 = Monday), as (start, end) local times.
    weekly: dict[int, tuple[Interval, ...]]
    holiday_rules: tuple[HolidayRule, ...]
    overrides: dict[dt.date, Override] = field(default_factory=dict)
    #: Whit Monday worked as the solidarity day (then it is not a holiday).
    whit_monday_worked: bool = False
    _spans: dict[dt.date, tuple[Span, ...]] = field(default_factory=dict, repr=False)
    _week: dict[str, dt.timedelta] = field(default_factory=dict, repr=False)
    _years: dict[int, dict[dt.date, str]] = field(default_factory=dict, repr=False)
    _changes: dict[int, frozenset[dt.date]] = field(default_factory=dict, repr=False)
    _unsteady: dict[int, frozenset[dt.date]] = field(default_factory=dict, repr=False)
    _week_times: dict[dt.date, dt.timedelta] = field(default_factory=dict, repr=False)
    _special: dict[int, frozenset[dt.date]] = field(default_factory=dict, repr=False)
    _day_time: dict[dt.date, dt.timedelta] = field(default_factory=dict, repr=False)
    _weekday_time: dict[int, dt.timedelta] = field(default_factory=dict, repr=False)
    _business: dict[dt.date, bool] = field(default_factory=dict, repr=False)
    _counted: dict[str, list[int]] = field(default_factory=dict, repr=False)
    _counted_years: dict[str, list[int]] = field(default_factory=dict, repr=False)

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone."""
        return zone_named(self.timezone)

    def holidays(self, year: int) -> dict[dt.date, str]:
        """Holidays of ``year`` by date (the first rule wins if two coincide)."""
        found = self._years.get(year)
        if found is None:
            found = self._years[year] = _holidays(self.holiday_rules, year, self.whit_monday_worked)
        return found

    def holiday_name(self, day: dt.date) -> str | None:
        """The name of the legal holiday on ``day``, if any."""
        return self.holidays(day.year).get(day)

    def closure_name(self, day: dt.date) -> str | None:
        """The name of an exceptional closure on ``day``, if any."""
        override = self.overrides.get(day)
        return override.name if override is not None and not override.intervals else None

    def is_business_day(self, day: dt.date) -> bool:
        """A jour ouvré: Monday to Friday, not a holiday nor a closure (or exceptionally open)."""
        known = self._business.get(day)
        if known is None:
            override = self.overrides.get(day)
            if override is not None:
                known = bool(override.intervals)
            else:
                known = day.isoweekday() <= 5 and self.holiday_name(day) is None
            self._business[day] = known
        return known

    def nth_counted_day(self, day: dt.date, count: int, *, working: bool = False) -> dt.date:
        """The ``count``-th jour ouvré (or ouvrable) strictly after ``day`` (``count`` >= 1).

        Uses a sorted list of the counted days' ordinals per calendar, extended by whole
        years on demand, so a deadline costs a binary search instead of a walk.
        """
        key = "working" if working else "business"
        ordinals = self._counted.setdefault(key, [])
        years = self._counted_years.setdefault(key, [])
        counts = self.is_working_day if working else self.is_business_day

        def extend(year: int) -> None:
            first = dt.date(year, 1, 1)
            days = (dt.date(year + 1, 1, 1) - first).days
            ordinals.extend(
                o for o in range(first.toordinal(), first.toordinal() + days)
                if counts(dt.date.fromordinal(o))
            )  # fmt: skip
            years.append(year)

        if not years:
            extend(day.year)
        elif day.year < years[0]:
            # Rebuild from the earlier year (rare: deadlines move forward in time).
            start = day.year
            ordinals.clear()
            end = years[-1]
            years.clear()
            for year in range(start, end + 1):
                extend(year)
        while years[-1] < day.year:
            extend(years[-1] + 1)
        index = bisect.bisect_right(ordinals, day.toordinal()) + count - 1
        while index >= len(ordinals):
            extend(years[-1] + 1)
        return dt.date.fromordinal(ordinals[index])

    def is_working_day(self, day: dt.date) -> bool:
        """A jour ouvrable: Monday to Saturday, not a holiday nor a closure."""
        override = self.overrides.get(day)
        if override is not None:
            return bool(override.intervals)
        return day.isoweekday() <= 6 and self.holiday_name(day) is None

    def local_intervals(self, day: dt.date) -> tuple[Interval, ...]:
        """Working intervals of ``day`` in local time (none on holidays and closures)."""
        override = self.overrides.get(day)
        if override is not None:
            return override.intervals
        if self.holiday_name(day) is not None:
            return ()
        return self.weekly.get(day.isoweekday(), ())

    def spans(self, day: dt.date) -> tuple[Span, ...]:
        """Working intervals of ``day`` as aware UTC instants (cached per day)."""
        cached = self._spans.get(day)
        if cached is None:
            zone = self.zone
            cached = tuple(
                (
                    dt.datetime.combine(day, start, tzinfo=zone).astimezone(dt.UTC),
                    dt.datetime.combine(day, end, tzinfo=zone).astimezone(dt.UTC),
                )
                for start, end in self.local_intervals(day)
            )
            self._spans[day] = cached
        return cached

    @property
    def week_working_time(self) -> dt.timedelta:
        """Working time of an ordinary week (no holiday, override nor clock change)."""
        cached = self._week.get("time")
        if cached is None:
            cached = sum(
                (
                    dt.datetime.combine(dt.date.min, end) - dt.datetime.combine(dt.date.min, start)
                    for intervals in self.weekly.values()
                    for start, end in intervals
                ),
                dt.timedelta(0),
            )
            self._week["time"] = cached
        return cached

    def steady_week(self, monday: dt.date) -> bool:
        """Whether the UTC offset is the same for the whole week from ``monday`` (no DST)."""
        unsteady = self._unsteady.get(monday.year)
        if unsteady is None:
            changes = self._clock_changes(monday.year) | self._clock_changes(monday.year + 1)
            unsteady = self._unsteady[monday.year] = frozenset(
                day - dt.timedelta(days=day.weekday()) for day in changes
            )
        return monday not in unsteady

    def _clock_changes(self, year: int) -> frozenset[dt.date]:
        """Days of ``year`` during which the UTC offset changes (DST), found by bisection.

        Assumes at most one change per half-year, true of every French zone (none overseas).
        """
        cached = self._changes.get(year)
        if cached is None:

            def offset(day: dt.date) -> dt.timedelta | None:
                return self.local_midnight(day).utcoffset()

            found = set()
            bounds = (dt.date(year, 1, 1), dt.date(year, 7, 1), dt.date(year + 1, 1, 1))
            for low, high in itertools.pairwise(bounds):
                before = offset(low)
                if before == offset(high):
                    continue
                lo, hi = low.toordinal(), high.toordinal()
                while hi - lo > 1:
                    middle = (lo + hi) // 2
                    if offset(dt.date.fromordinal(middle)) == before:
                        lo = middle
                    else:
                        hi = middle
                found.add(dt.date.fromordinal(lo))
            cached = self._changes[year] = frozenset(found)
        return cached

    def _special_mondays(self, year: int) -> frozenset[dt.date]:
        """Mondays of the weeks (starting in ``year``) that hold a holiday or an override."""
        cached = self._special.get(year)
        if cached is None:
            days = [*self.holidays(year), *self.holidays(year + 1), *self.overrides]
            cached = frozenset(day - dt.timedelta(days=day.weekday()) for day in days)
            self._special[year] = cached
        return cached

    def week_time(self, monday: dt.date) -> dt.timedelta:
        """Working time of the week from ``monday`` (holidays and overrides included)."""
        cached = self._week_times.get(monday)
        if cached is None:
            cached = self.week_working_time
            if monday in self._special_mondays(monday.year) or monday in self._special_mondays(
                monday.year - 1
            ):
                cached = sum(
                    (self.day_working_time(monday + dt.timedelta(days=i)) for i in range(7)),
                    dt.timedelta(0),
                )
            self._week_times[monday] = cached
        return cached

    def day_working_time(self, day: dt.date) -> dt.timedelta:
        """Working time of ``day`` in local hours (exact unless the clock changes that day)."""
        cached = self._day_time.get(day)
        if cached is None:
            ordinary = day not in self.overrides and self.holiday_name(day) is None
            if ordinary and day.isoweekday() in self._weekday_time:
                return self._weekday_time[day.isoweekday()]
            cached = sum(
                (
                    dt.datetime.combine(dt.date.min, end) - dt.datetime.combine(dt.date.min, start)
                    for start, end in self.local_intervals(day)
                ),
                dt.timedelta(0),
            )
            self._day_time[day] = cached
            if ordinary:
                self._weekday_time[day.isoweekday()] = cached
        return cached

    def local_midnight(self, day: dt.date) -> dt.datetime:
        """00:00 of ``day`` in the calendar's zone, as an aware datetime."""
        return dt.datetime.combine(day, dt.time(0), tzinfo=self.zone)

    def local_date(self, instant: dt.datetime) -> dt.date:
        """The calendar date of ``instant`` in the calendar's zone."""
        return instant.astimezone(self.zone).date()

    def describe_day(self, day: dt.date) -> str:
        """Why ``day`` is or is not worked, in French (for explanations)."""
        override = self.overrides.get(day)
        if override is not None:
            return (
                f"{override.name} (ouverture exceptionnelle)"
                if override.intervals
                else f"{override.name} (fermeture exceptionnelle)"
            )
        holiday = self.holiday_name(day)
        if holiday is not None:
            return f"jour férié : {holiday}"
        return {6: "samedi", 7: "dimanche"}.get(day.isoweekday(), "jour ouvré")

    @classmethod
    def from_spec(cls, code: str, timezone: str, spec: dict[str, Any]) -> WorkingCalendar:
        """Build from the catalogue's JSON ``spec`` of a calendar."""
        weekly = {
            int(weekday): _intervals(items)
            for weekday, items in spec.get("weekly", DEFAULT_WEEKLY).items()
        }
        rules = tuple(HolidayRule.from_json(rule) for rule in spec.get("holidays", []))
        overrides = {
            dt.date.fromisoformat(item["date"]): Override(
                item["name"], _intervals(item.get("intervals", []))
            )
            for item in spec.get("overrides", [])
        }
        # Older specs listed closures separately.
        for item in spec.get("closures", []):
            overrides[dt.date.fromisoformat(item["date"])] = Override(item["name"], ())
        return cls(
            code=code,
            timezone=timezone,
            weekly=weekly,
            holiday_rules=rules,
            overrides=overrides,
            whit_monday_worked=bool(spec.get("whit_monday_worked", False)),
        )


def _intervals(items: list[list[str]]) -> tuple[Interval, ...]:
    intervals = tuple(
        (dt.time.fromisoformat(start), dt.time.fromisoformat(end)) for start, end in items
    )
    for index, (start, end) in enumerate(intervals):
        overlaps_next = index + 1 < len(intervals) and intervals[index + 1][0] < end
        if end <= start or overlaps_next:
            raise ValueError(f"intervalles de travail invalides : {items}")
    return intervals


DEFAULT_WEEKLY: dict[str, list[list[str]]] = {
    str(weekday): [["09:00", "12:00"], ["14:00", "17:00"]] for weekday in range(1, 6)
}


@lru_cache(maxsize=64)
def zone_named(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (cached)."""
    return ZoneInfo(name)


@lru_cache(maxsize=4096)
def _holidays(
    rules: tuple[HolidayRule, ...], year: int, whit_monday_worked: bool
) -> dict[dt.date, str]:
    found: dict[dt.date, str] = {}
    for rule in rules:
        if whit_monday_worked and rule.easter_offset == WHIT_MONDAY_OFFSET:
            continue
        found.setdefault(rule.date_in(year), rule.name)
    return found
