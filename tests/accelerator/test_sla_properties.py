"""Laws of deadline arithmetic, checked on the engine with Hypothesis.

Instants are always compared in UTC: two datetimes sharing one ``ZoneInfo`` compare by WALL
time in Python, which would hide (or invent) errors around a DST night. The oracle module is used
only to classify days (business day, counted day), never to compute a deadline here.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import accelerator
from accelerator.sla.calendars import WorkingCalendar
from accelerator.sla.durations import Duration, Unit, add, between

from . import sla_oracle as oracle

UTC = dt.UTC
MICROSECOND = dt.timedelta(microseconds=1)
SEED_FILE = Path(accelerator.__file__).parent / "catalogue" / "seed" / "calendars.json"
CALENDARS: dict[str, WorkingCalendar] = {
    row["code"]: WorkingCalendar.from_spec(row["code"], row["timezone"], row["spec"])
    for row in json.loads(SEED_FILE.read_text(encoding="utf-8"))
}
CODES = ("FR", "FR-67", "FR-57", "FR-974", "FR-972", "FR-973")
DAY_UNITS = (Unit.BUSINESS_DAYS, Unit.WORKING_DAYS, Unit.CALENDAR_DAYS)
MAX_AMOUNT = {
    Unit.HOURS: 2000,
    Unit.BUSINESS_HOURS: 400,
    Unit.BUSINESS_DAYS: 60,
    Unit.WORKING_DAYS: 60,
    Unit.CALENDAR_DAYS: 60,
    Unit.MONTHS: 24,
}
EDGE_TIMES = [
    dt.time(0, 0),
    dt.time(2, 30),
    dt.time(8, 59, 59, 999999),
    dt.time(9, 0),
    dt.time(11, 59),
    dt.time(12, 0),
    dt.time(13, 0),
    dt.time(14, 0),
    dt.time(16, 30),
    dt.time(17, 0),
    dt.time(23, 59, 59, 999999),
]
PROPERTY = settings(max_examples=300, deadline=None)


def u(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(UTC)


def plus(start: dt.datetime, amount: int, unit: Unit, code: str, prorogation: bool = False):
    return add(start, Duration(amount=amount, unit=unit), CALENDARS[code], prorogation=prorogation)


@st.composite
def starts(draw: st.DrawFn, code: str) -> dt.datetime:
    """Any instant 2024-2030, or a local edge time (working-interval edges, DST night, midnight)
    on any day, written in the calendar's zone or in UTC."""
    tz = oracle.zone(code)
    if draw(st.booleans()):
        instant = draw(
            st.datetimes(
                # Hypothesis wants naive bounds; ``timezones`` makes the values aware.
                min_value=dt.datetime(2024, 1, 1),  # noqa: DTZ001
                max_value=dt.datetime(2030, 12, 31, 23, 59),  # noqa: DTZ001
                timezones=st.just(UTC),
            )
        )
    else:
        day = draw(st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2030, 12, 31)))
        wall = draw(st.sampled_from(EDGE_TIMES))
        fold = draw(st.integers(0, 1))
        instant = u(dt.datetime.combine(day, wall, tzinfo=tz).replace(fold=fold))
    return instant.astimezone(draw(st.sampled_from([tz, UTC])))


@st.composite
def cases(draw: st.DrawFn, units: tuple[Unit, ...]) -> tuple[str, dt.datetime, Unit]:
    code = draw(st.sampled_from(CODES))
    return code, draw(starts(code)), draw(st.sampled_from(units))


def _amount(unit: Unit) -> st.SearchStrategy[int]:
    return st.integers(0, MAX_AMOUNT[unit])


# --- between inverts add --------------------------------------------------------------------


@PROPERTY
@given(
    case=cases(
        (Unit.HOURS, Unit.BUSINESS_HOURS, *DAY_UNITS, Unit.MONTHS),
    ),
    data=st.data(),
)
def test_between_inverts_add(case: tuple[str, dt.datetime, Unit], data: st.DataObject) -> None:
    code, start, unit = case
    amount = data.draw(_amount(unit))
    deadline = plus(start, amount, unit, code)
    measured = between(start, deadline, unit, CALENDARS[code])
    if unit in (Unit.HOURS, Unit.BUSINESS_HOURS):
        assert abs(measured - amount) <= 1e-9
    else:
        assert measured == amount


# --- monotonicity ---------------------------------------------------------------------------


@PROPERTY
@given(
    case=cases((Unit.HOURS, Unit.BUSINESS_HOURS, *DAY_UNITS, Unit.MONTHS)),
    data=st.data(),
    prorogation=st.booleans(),
)
def test_add_is_monotonic_in_the_amount(
    case: tuple[str, dt.datetime, Unit], data: st.DataObject, prorogation: bool
) -> None:
    code, start, unit = case
    if unit in (Unit.HOURS, Unit.BUSINESS_HOURS):
        prorogation = False
    x = data.draw(_amount(unit))
    y = data.draw(_amount(unit))
    low, high = sorted((x, y))
    first = u(plus(start, low, unit, code, prorogation))
    second = u(plus(start, high, unit, code, prorogation))
    if low < high and not prorogation:
        assert first < second  # each extra unit adds time
    else:
        assert first <= second  # prorogation can send two last days to the same business day


@PROPERTY
@given(case=cases((Unit.BUSINESS_HOURS, *DAY_UNITS, Unit.MONTHS)), data=st.data())
def test_between_is_monotonic_in_the_end(
    case: tuple[str, dt.datetime, Unit], data: st.DataObject
) -> None:
    code, start, unit = case
    spans = sorted(data.draw(st.integers(0, 400 * 86400)) for _ in range(2))
    near, far = (u(start) + dt.timedelta(seconds=s) for s in spans)
    calendar = CALENDARS[code]
    assert 0 <= between(start, near, unit, calendar) <= between(start, far, unit, calendar)


# --- additivity -----------------------------------------------------------------------------


@PROPERTY
@given(
    case=cases((Unit.BUSINESS_HOURS,)),
    x=st.integers(0, 200),
    y=st.integers(0, 200),
)
def test_business_hours_are_additive(case: tuple[str, dt.datetime, Unit], x: int, y: int) -> None:
    """Business hours chain exactly: add(add(a, x), y) == add(a, x + y), including when add(a, x)
    lands on the end of an interval (12:00 or 17:00), because the second add starts counting
    from the next working instant, just as the single add would continue."""
    code, start, unit = case
    chained = plus(plus(start, x, unit, code), y, unit, code)
    assert u(chained) == u(plus(start, x + y, unit, code))


@PROPERTY
@given(
    case=cases(DAY_UNITS),
    x=st.integers(1, 40),
    y=st.integers(0, 40),
)
def test_day_units_are_additive_from_the_last_counted_day(
    case: tuple[str, dt.datetime, Unit], x: int, y: int
) -> None:
    """Which additivity holds for day units.

    add(a, x) is the END of the x-th counted day D_x, written as 00:00 of D_x + 1. Chaining from
    that midnight does NOT continue the count: its local date D_x + 1 is the new "start day" and
    is not counted, even when it is a business day. So add(add(a, x), y) == add(a, x + y) is
    FALSE in general (Mon + 1 business day = end of Tue = Wed 00:00; + 1 more from Wed 00:00 =
    end of Thu, whereas Mon + 2 = end of Wed).

    What holds exactly, for x >= 1, is chaining from an instant ON the last counted day, e.g.
    one microsecond before the deadline:   add(add(a, x) - 1 µs, y) == add(a, x + y).
    And the naive chain overshoots by exactly the day it skips, for y >= 1:
        add(add(a, x), y) == add(a, x + y + k), k = 1 if D_x + 1 is a counted day, else 0.
    """
    code, start, unit = case
    first = plus(start, x, unit, code)
    assert u(plus(first - MICROSECOND, y, unit, code)) == u(plus(start, x + y, unit, code))
    if y >= 1:
        skipped = oracle.local_date(first, code)  # D_x + 1
        k = 1 if oracle.is_counted_day(skipped, unit, code) else 0
        assert u(plus(first, y, unit, code)) == u(plus(start, x + y + k, unit, code))


@PROPERTY
@given(case=cases((Unit.HOURS,)), x=st.integers(0, 1000), y=st.integers(0, 1000))
def test_hours_are_elapsed_utc_time(case: tuple[str, dt.datetime, Unit], x: int, y: int) -> None:
    code, start, unit = case
    deadline = plus(start, x, unit, code)
    assert u(deadline) - u(start) == dt.timedelta(hours=x)
    assert deadline.utcoffset() == u(deadline).astimezone(oracle.zone(code)).utcoffset()
    assert u(plus(deadline, y, unit, code)) == u(plus(start, x + y, unit, code))


# --- where results land ---------------------------------------------------------------------


@PROPERTY
@given(case=cases((Unit.BUSINESS_HOURS,)), amount=st.integers(1, 400))
def test_business_hours_land_inside_or_at_the_end_of_a_working_interval(
    case: tuple[str, dt.datetime, Unit], amount: int
) -> None:
    code, start, unit = case
    deadline = plus(start, amount, unit, code)
    assert u(deadline) > u(start)
    local = u(deadline).astimezone(oracle.zone(code))
    assert deadline.utcoffset() == local.utcoffset()  # written in the calendar's zone
    assert oracle.is_business_day(local.date(), code), local
    wall = local.time()
    # Never AT 09:00 or 14:00: the budget is used up at the previous interval's end.
    assert dt.time(9) < wall <= dt.time(12) or dt.time(14) < wall <= dt.time(17), local


@PROPERTY
@given(case=cases((*DAY_UNITS, Unit.MONTHS)), data=st.data(), prorogation=st.booleans())
def test_day_and_month_deadlines_are_local_midnights(
    case: tuple[str, dt.datetime, Unit], data: st.DataObject, prorogation: bool
) -> None:
    code, start, unit = case
    amount = data.draw(_amount(unit))
    deadline = plus(start, amount, unit, code, prorogation)
    local = u(deadline).astimezone(oracle.zone(code))
    assert local.time() == dt.time(0, 0), local
    assert deadline.utcoffset() == local.utcoffset(), deadline  # written in the calendar's zone
    assert local.date() > oracle.local_date(start, code)  # the start day is never the deadline
    if unit is Unit.MONTHS:
        origin = oracle.local_date(start, code)
        last_day = local.date() - dt.timedelta(days=1)
        if not prorogation:
            months = (last_day.year - origin.year) * 12 + last_day.month - origin.month
            assert months == amount
            assert last_day.day == origin.day or (
                last_day.day < origin.day and (last_day + dt.timedelta(days=1)).day == 1
            )


@PROPERTY
@given(case=cases((*DAY_UNITS, Unit.MONTHS)), data=st.data())
def test_prorogation_moves_the_last_day_to_the_first_business_day(
    case: tuple[str, dt.datetime, Unit], data: st.DataObject
) -> None:
    code, start, unit = case
    amount = data.draw(_amount(unit))
    plain = plus(start, amount, unit, code)
    moved = plus(start, amount, unit, code, prorogation=True)
    plain_last = oracle.local_date(plain, code) - dt.timedelta(days=1)
    moved_last = oracle.local_date(moved, code) - dt.timedelta(days=1)
    assert oracle.is_business_day(moved_last, code)
    assert moved_last >= plain_last
    day = plain_last
    while day < moved_last:  # every day skipped is a Saturday, Sunday or holiday
        assert not oracle.is_business_day(day, code), day
        day += dt.timedelta(days=1)
