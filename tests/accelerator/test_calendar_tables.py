"""Year tables: shared between calendars with the same rules only, and exactly the working
time a day-by-day walk over the calendar's spans finds (clock-change days included)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelerator.catalogue.actions import SEED_DIR
from accelerator.shared.errors import InvalidInput
from accelerator.sla.calendars import MICROSECOND, WorkingCalendar
from accelerator.sla.durations import ONE_DAY, Duration, Unit, add, add_business_time

UTC = dt.UTC
PARIS = ZoneInfo("Europe/Paris")
FR_SEED = next(
    c for c in json.loads((SEED_DIR / "calendars.json").read_text()) if c["code"] == "FR"
)
BRIDGE = {"date": "2026-05-15", "name": "Pont de l'Ascension", "intervals": []}


def fr_with(**changes: Any) -> WorkingCalendar:
    """A fresh FR calendar built from the seed spec, with some spec keys replaced."""
    spec = copy.deepcopy(FR_SEED["spec"])
    timezone = changes.pop("timezone", FR_SEED["timezone"])
    spec.update(changes)
    return WorkingCalendar.from_spec("FR", timezone, spec)


def test_a_fresh_calendar_with_the_same_rules_reuses_the_year_tables() -> None:
    first, second = fr_with(), fr_with()
    assert first is not second
    assert second.year_table(2026) is first.year_table(2026)


@pytest.mark.parametrize(
    "changes",
    [
        {"overrides": [BRIDGE]},
        {"overrides": [{**BRIDGE, "intervals": [["09:00", "12:00"]]}]},
        {"weekly": {str(day): [["08:00", "12:00"], ["14:00", "17:00"]] for day in range(1, 6)}},
        {"whit_monday_worked": True},
        {"timezone": "Indian/Reunion"},
        {"holidays": [*FR_SEED["spec"]["holidays"], {"name": "Saint-Étienne", "fixed": "12-26"}]},
    ],
    ids=["closure", "short-day", "weekly-hours", "solidarity-day", "zone", "holiday-rule"],
)
def test_a_calendar_with_other_rules_never_gets_the_tables_of_another(
    changes: dict[str, Any],
) -> None:
    plain, other = fr_with(), fr_with(**changes)
    start = dt.datetime(2025, 6, 2, 9, tzinfo=PARIS)  # 3000 h reach 2027
    budget = Duration(3000, Unit.BUSINESS_HOURS)
    plain_deadline = add(start, budget, plain)  # fills the shared tables of the plain rules
    assert other.year_table(2026) is not plain.year_table(2026)
    assert add(start, budget, other) != plain_deadline
    assert add(start, budget, fr_with()) == plain_deadline


def test_a_bridge_day_moves_a_long_business_hours_deadline_after_a_plain_calendar_ran() -> None:
    start = dt.datetime(2026, 5, 13, 17, tzinfo=PARIS)  # Wednesday; Thursday 14 is Ascension
    budget = Duration(12, Unit.BUSINESS_HOURS)
    assert add(start, budget, fr_with()) == dt.datetime(2026, 5, 18, 17, tzinfo=PARIS)
    bridged = add(start, budget, fr_with(overrides=[BRIDGE]))
    assert bridged == dt.datetime(2026, 5, 19, 17, tzinfo=PARIS)


NIGHTS = {str(day): [["01:00", "04:00"]] for day in range(1, 8)}


def test_working_time_across_the_spring_clock_change_is_elapsed_time() -> None:
    nights = fr_with(weekly=NIGHTS, holidays=[])
    # Sunday 29 March 2026, 01:00 CET to 04:00 CEST holds 2 hours; Monday 30 the other one.
    start = dt.datetime(2026, 3, 28, 4, tzinfo=PARIS)
    deadline = add(start, Duration(3, Unit.BUSINESS_HOURS), nights)
    assert deadline == dt.datetime(2026, 3, 30, 2, tzinfo=PARIS)
    assert add(start, Duration(2, Unit.BUSINESS_HOURS), nights).astimezone(UTC) == dt.datetime(
        2026, 3, 29, 2, tzinfo=UTC
    )


def test_working_time_across_the_autumn_clock_change_is_elapsed_time() -> None:
    nights = fr_with(weekly=NIGHTS, holidays=[])
    # Sunday 25 October 2026, 01:00 CEST to 04:00 CET holds 4 hours.
    start = dt.datetime(2026, 10, 24, 4, tzinfo=PARIS)
    assert add(start, Duration(4, Unit.BUSINESS_HOURS), nights).astimezone(UTC) == dt.datetime(
        2026, 10, 25, 3, tzinfo=UTC
    )
    deadline = add(start, Duration(5, Unit.BUSINESS_HOURS), nights)
    assert deadline == dt.datetime(2026, 10, 26, 2, tzinfo=PARIS)


def test_a_calendar_without_weekly_hours_counts_an_opening_within_a_year() -> None:
    opening = {"date": "2026-11-02", "name": "Permanence", "intervals": [["09:00", "12:00"]]}
    empty = fr_with(weekly={}, overrides=[opening])
    start = dt.datetime(2026, 1, 5, 9, tzinfo=PARIS)
    assert add(start, Duration(2, Unit.BUSINESS_HOURS), empty) == dt.datetime(
        2026, 11, 2, 11, tzinfo=PARIS
    )
    with pytest.raises(InvalidInput, match="aucune heure ouvrée"):
        add(start, Duration(4, Unit.BUSINESS_HOURS), empty)


def test_a_calendar_without_weekly_hours_refuses_an_opening_after_a_year_idle() -> None:
    opening = {"date": "2027-03-01", "name": "Permanence", "intervals": [["09:00", "12:00"]]}
    empty = fr_with(weekly={}, overrides=[opening])
    with pytest.raises(InvalidInput, match="aucune heure ouvrée"):
        add(dt.datetime(2026, 1, 5, 9, tzinfo=PARIS), Duration(1, Unit.BUSINESS_HOURS), empty)


# --- the tables against a walk over every day's spans ---------------------------------------


SEEDED = {
    row["code"]: WorkingCalendar.from_spec(row["code"], row["timezone"], row["spec"])
    for row in json.loads((SEED_DIR / "calendars.json").read_text())
}
#: Night work on the clock-change days themselves, closures and a short day among them.
DST_OVERRIDES = [
    {"date": "2026-03-29", "name": "Nuit courte", "intervals": [["01:30", "03:30"]]},
    {"date": "2026-10-25", "name": "Fermeture", "intervals": []},
    {"date": "2027-10-31", "name": "Nuit longue", "intervals": [["00:00", "23:45"]]},
]


@pytest.mark.parametrize(
    "calendar",
    [
        *SEEDED.values(),
        fr_with(weekly=NIGHTS),
        fr_with(weekly=NIGHTS, overrides=DST_OVERRIDES),
        fr_with(weekly=NIGHTS, timezone="America/Miquelon"),
        fr_with(weekly={"7": [["00:00", "23:59"]]}, timezone="Australia/Sydney"),
    ],
    ids=[*SEEDED, "nights", "nights-overrides", "nights-miquelon", "sundays-sydney"],
)
def test_year_tables_hold_the_utc_working_time_of_every_day(calendar: WorkingCalendar) -> None:
    day = dt.date(2024, 1, 1)
    while day.year <= 2030:
        table = calendar.year_table(day.year)
        ordinal = day.toordinal()
        time = (
            table.times[table.days.index(ordinal)]
            if ordinal in table.days
            else table.week[day.weekday()]
        )
        spans = sum((end - begin for begin, end in calendar.spans(day)), dt.timedelta(0))
        assert time == spans // MICROSECOND, day
        day += ONE_DAY


def walk(start: dt.datetime, amount: dt.timedelta, calendar: WorkingCalendar) -> dt.datetime:
    """Business time added day by day over exact UTC spans: slow, no table involved."""
    instant, remaining, day = start.astimezone(UTC), amount, calendar.local_date(start)
    if not remaining:
        return instant
    while True:
        for begin, end in calendar.spans(day):
            if end <= instant:
                continue
            available = end - max(begin, instant)
            if available >= remaining:
                return max(begin, instant) + remaining
            remaining -= available
        day += ONE_DAY


QUARTERS = st.integers(0, 24 * 4 - 1)


@st.composite
def intervals(draw: st.DrawFn) -> list[list[str]]:
    """Up to three sorted, disjoint local intervals on a quarter-hour grid (night ones too)."""
    points = sorted(draw(st.sets(QUARTERS, max_size=6)))
    points = points[: len(points) // 2 * 2]
    text = [f"{p // 4:02d}:{p % 4 * 15:02d}" for p in points]
    return [[text[i], text[i + 1]] for i in range(0, len(text), 2)]


@st.composite
def calendars(draw: st.DrawFn) -> WorkingCalendar:
    """FR with random weekly hours, overrides (closures, openings, short days), zone."""
    changes: dict[str, Any] = {
        "timezone": draw(st.sampled_from(["Europe/Paris", "Indian/Reunion", "America/Miquelon"]))
    }
    if draw(st.booleans()):
        weekly = draw(st.dictionaries(st.integers(1, 7), intervals(), min_size=1))
        if any(weekly.values()):
            changes["weekly"] = {str(day): items for day, items in weekly.items()}
    days = st.dates(min_value=dt.date(2025, 12, 1), max_value=dt.date(2028, 12, 31))
    overrides = draw(st.dictionaries(days, intervals(), max_size=40))
    changes["overrides"] = [
        {"date": day.isoformat(), "name": "exception", "intervals": items}
        for day, items in overrides.items()
    ]
    changes["whit_monday_worked"] = draw(st.booleans())
    return fr_with(**changes)


@settings(max_examples=300, deadline=None)
@given(
    calendar=calendars(),
    start=st.datetimes(
        min_value=dt.datetime(2025, 12, 1),  # noqa: DTZ001
        max_value=dt.datetime(2027, 6, 30),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    seconds=st.integers(0, 3000 * 3600),
)
def test_business_time_from_the_tables_equals_a_walk_over_every_day(
    calendar: WorkingCalendar, start: dt.datetime, seconds: int
) -> None:
    week = sum(
        (
            dt.datetime.combine(dt.date.min, end) - dt.datetime.combine(dt.date.min, begin)
            for items in calendar.weekly.values()
            for begin, end in items
        ),
        dt.timedelta(0),
    )
    amount = min(dt.timedelta(seconds=seconds), 120 * week)  # at most about two years
    assert add_business_time(start, amount, calendar) == walk(start, amount, calendar)
