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
from functools import cached_property, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from accelerator.shared.text import t

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
    _years: dict[int, dict[dt.date, str]] = field(default_factory=dict, repr=False)
    _tables: dict[int, YearTable] = field(default_factory=dict, repr=False)
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

    @cached_property
    def rules(self) -> CalendarRules:
        """What decides when this calendar works: the key of the year tables it shares."""
        return CalendarRules(
            timezone=self.timezone,
            weekly=tuple(self.weekly.get(weekday, ()) for weekday in range(1, 8)),
            holiday_rules=self.holiday_rules,
            whit_monday_worked=self.whit_monday_worked,
            overrides=tuple(sorted(self.overrides.items())),
        )

    def year_table(self, year: int) -> YearTable:
        """Working time of ``year``, shared by every calendar with the same rules."""
        table = self._tables.get(year)
        if table is None:
            table = self._tables[year] = _year_table(self.rules, year)
        return table

    def working_time(self, first: dt.date, last: dt.date) -> dt.timedelta:
        """Working time of the whole days from ``first`` to ``last`` included (zero if
        ``last`` is earlier), summed from the year tables: a few integer operations per year
        instead of a walk over every day."""
        total = 0
        ordinal, end = first.toordinal(), last.toordinal() + 1
        while ordinal < end:
            table = self.year_table(dt.date.fromordinal(ordinal).year)
            stop = min(end, table.end)
            weeks, rest = divmod(stop - ordinal, 7)
            weekday = (ordinal - 1) % 7  # ordinal 1, 0001-01-01, is a Monday
            total += weeks * table.prefix[7] + table.prefix[weekday + rest] - table.prefix[weekday]
            low = bisect.bisect_left(table.days, ordinal)
            high = bisect.bisect_left(table.days, stop)
            for index in range(low, high):
                total += table.times[index] - table.week[(table.days[index] - 1) % 7]
            ordinal = stop
        return total * MICROSECOND

    def count_counted_days(self, first: dt.date, last: dt.date, *, working: bool = False) -> int:
        """How many jours ouvrés (or ouvrables) lie from ``first`` to ``last`` included.

        Counted in closed form: the weekdays of the range, less the holidays that fall on
        them, corrected by the overrides; a few operations per year, not a walk.
        """
        if last < first:
            return 0
        last_weekday = 6 if working else 5
        days = (last - first).days + 1
        weeks, rest = divmod(days, 7)
        total = weeks * last_weekday
        total += sum(
            (first + dt.timedelta(days=7 * weeks + offset)).isoweekday() <= last_weekday
            for offset in range(rest)
        )
        for year in range(first.year, last.year + 1):
            total -= sum(
                1
                for day in self.holidays(year)
                if first <= day <= last
                and day.isoweekday() <= last_weekday
                and day not in self.overrides
            )
        for day, override in self.overrides.items():
            if first <= day <= last:
                # Counted above as its weekday (its holiday, if any, was not subtracted).
                total += bool(override.intervals) - (day.isoweekday() <= last_weekday)
        return total

    def day_budget_ends(
        self,
        day: dt.date,
        budget: dt.timedelta,
        *,
        idle_days: int,
        max_idle_days: int,
        horizon: dt.date | None = None,
    ) -> tuple[dt.date, dt.timedelta] | None:
        """The first day from ``day`` by whose end ``budget`` (> 0) of working time is used up,
        with what is left of the budget when that day begins; None past ``horizon``.

        Sums the year tables: an ordinary stretch between two irregular days (holiday,
        override, clock change) costs a few integer operations whatever its length. None when
        no working time is found for more than ``max_idle_days`` days in a row (``idle_days``
        of them just before ``day``); only a calendar without weekly hours can be that empty.
        """
        left = budget // MICROSECOND
        ordinal = day.toordinal()
        table = self.year_table(day.year)
        index = bisect.bisect_left(table.days, ordinal)
        week = table.prefix[7]
        last_worked = ordinal - 1 - idle_days
        while True:
            irregular = table.days[index] if index < len(table.days) else table.end
            if ordinal < irregular:
                # An ordinary stretch, up to the next irregular day or the end of the year.
                weeks, rest = divmod(irregular - ordinal, 7)
                weekday = (ordinal - 1) % 7  # ordinal 1, 0001-01-01, is a Monday
                stretch = weeks * week + table.prefix[weekday + rest] - table.prefix[weekday]
                if stretch >= left:
                    # Whole weeks that hold less than what is left, then fewer than 7 days.
                    weeks = (left - 1) // week
                    ordinal += 7 * weeks
                    left -= weeks * week
                    while table.week[(ordinal - 1) % 7] < left:
                        left -= table.week[(ordinal - 1) % 7]
                        ordinal += 1
                    return dt.date.fromordinal(ordinal), left * MICROSECOND
                left -= stretch
                ordinal = irregular
            if not week and ordinal - 1 - last_worked > max_idle_days:
                return None
            if index == len(table.days):
                if horizon is not None and ordinal > horizon.toordinal():
                    return None
                table = self.year_table(dt.date.fromordinal(ordinal).year)
                index = 0
                continue
            time = table.times[index]
            if time:
                if time >= left:
                    return dt.date.fromordinal(ordinal), left * MICROSECOND
                left -= time
                last_worked = ordinal
            ordinal += 1
            index += 1

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
            return t("calendar.day.holiday", holiday=holiday)
        return {6: "samedi", 7: "dimanche"}.get(day.isoweekday(), t("calendar.day.business"))

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
            raise ValueError(t("calendar.intervals_invalid", items=items))
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


#: Working time is counted in whole microseconds, the resolution of ``datetime``.
MICROSECOND = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class CalendarRules:
    """What decides when a calendar works (not its code): the key of the shared year tables.

    Two calendars with equal rules (a calendar version rebuilt from the database) share their
    tables; a different zone, weekly hour, holiday rule or override makes other tables.
    """

    timezone: str
    #: Working intervals from Monday (index 0) to Sunday.
    weekly: tuple[tuple[Interval, ...], ...]
    holiday_rules: tuple[HolidayRule, ...]
    whit_monday_worked: bool
    #: Overrides sorted by date.
    overrides: tuple[tuple[dt.date, Override], ...]


@dataclass(frozen=True)
class YearTable:
    """Working time of one calendar year, in microseconds: the ordinary week, and the days
    whose working time differs from it (holidays, overrides, clock changes)."""

    #: Ordinal of the next year's January 1st.
    end: int
    #: Working time from Monday (index 0) to Sunday.
    week: tuple[int, ...]
    #: ``prefix[i]``: working time of the first ``i`` days of two weeks from a Monday.
    prefix: tuple[int, ...]
    #: Ordinals of the days whose working time differs from the week's, ascending.
    days: tuple[int, ...]
    #: Their working time (exact UTC time on a clock-change day).
    times: tuple[int, ...]


@lru_cache(maxsize=4096)
def _year_table(rules: CalendarRules, year: int) -> YearTable:
    """The working time of ``year`` under ``rules`` (rules are values: cached per process)."""
    zone = zone_named(rules.timezone)
    week = tuple(_length(intervals) for intervals in rules.weekly)
    # The precedence of ``WorkingCalendar.local_intervals``: override, holiday, week.
    intervals: dict[dt.date, tuple[Interval, ...]] = {
        day: ()
        for day in _holidays(rules.holiday_rules, year, rules.whit_monday_worked)
        if day.year == year
    }
    intervals.update(
        (day, override.intervals) for day, override in rules.overrides if day.year == year
    )
    times = {day: _length(items) for day, items in intervals.items()}
    for day in _clock_change_days(rules.timezone, year):
        # The local length of an interval is not its UTC length across a clock change.
        times[day] = sum(
            (
                dt.datetime.combine(day, end, tzinfo=zone).astimezone(dt.UTC)
                - dt.datetime.combine(day, start, tzinfo=zone).astimezone(dt.UTC)
            )
            // MICROSECOND
            for start, end in intervals.get(day, rules.weekly[day.weekday()])
        )
    irregular = sorted(
        (day.toordinal(), time) for day, time in times.items() if time != week[day.weekday()]
    )
    return YearTable(
        end=dt.date(year + 1, 1, 1).toordinal(),
        week=week,
        prefix=tuple(itertools.accumulate(week + week, initial=0)),
        days=tuple(ordinal for ordinal, _ in irregular),
        times=tuple(time for _, time in irregular),
    )


def _length(intervals: tuple[Interval, ...]) -> int:
    """Local working time of ``intervals``, in microseconds."""
    return sum(
        (dt.datetime.combine(dt.date.min, end) - dt.datetime.combine(dt.date.min, start))
        // MICROSECOND
        for start, end in intervals
    )


@lru_cache(maxsize=1024)
def _clock_change_days(timezone: str, year: int) -> tuple[dt.date, ...]:
    """Days of ``year`` during which the UTC offset of ``timezone`` changes (DST).

    Compares the offsets at the first midnight of each month and bisects the months where
    they differ: assumes at most one change per month, true of every French zone.
    """
    zone = zone_named(timezone)

    def offset(ordinal: int) -> dt.timedelta | None:
        day = dt.date.fromordinal(ordinal)
        return dt.datetime.combine(day, dt.time(0), tzinfo=zone).utcoffset()

    bounds = [dt.date(year, month, 1).toordinal() for month in range(1, 13)]
    bounds.append(dt.date(year + 1, 1, 1).toordinal())
    offsets = [offset(ordinal) for ordinal in bounds]
    found = []
    for month in range(12):
        if offsets[month] == offsets[month + 1]:
            continue
        low, high, before = bounds[month], bounds[month + 1], offsets[month]
        while high - low > 1:
            middle = (low + high) // 2
            if offset(middle) == before:
                low = middle
            else:
                high = middle
        found.append(dt.date.fromordinal(low))
    return tuple(found)
