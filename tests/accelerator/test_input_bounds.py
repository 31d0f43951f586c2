"""What people type into the deadline calculator is bounded and refused in one French line;
the range-wide ``between`` sums year tables instead of walking days."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelerator.catalogue.queries import seed_calendars
from accelerator.shared.errors import InvalidInput
from accelerator.sla.calendars import Override, WorkingCalendar
from accelerator.sla.durations import (
    MAX_AMOUNTS,
    Duration,
    Unit,
    add,
    between,
    business_seconds,
    make_duration,
    parse_duration,
)
from accelerator.sla.instants import parse_instant
from accelerator.sla.queries import compute_between, compute_deadline

CALENDARS = seed_calendars()
FR = CALENDARS["FR"]
ONE_DAY = dt.timedelta(days=1)


@pytest.mark.parametrize(
    "text",
    [
        "-1 months",
        "-0000000000001 hours",
        "12345678901234567890 hours",
        "100000 months",
        "1201 months",
        "876601 hours",
        "36526 business_days",
        "1.5 months",
        "1e9 months",
        "NaN months",
        "inf hours",
        "２ months",
        "٣ business_days",
        "2 Months",
        "2 day",
        "2",
        "months",
        "",
        " " * 100_000 + "2 months",
        "2" + " " * 100_000 + "months",
        "2 months\n3 hours",
        "2\x00 months",
    ],
)
def test_bad_durations_are_refused_in_one_french_line(text: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_duration(text)
    assert "\n" not in error.value.message and len(error.value.message) < 300


@pytest.mark.parametrize(
    ("amount", "unit"),
    [(-1, "hours"), (10**20, "months"), (True, "hours"), (1.5, "hours"), (10**6, "hours")],
)
def test_make_duration_bounds_amounts_from_code_too(amount: object, unit: str) -> None:
    with pytest.raises(InvalidInput):
        make_duration(amount, unit)  # type: ignore[arg-type]


def test_the_largest_amounts_are_accepted_and_computed() -> None:
    start = parse_instant("2200-12-31T23:59:59+00:00", FR)
    for unit, amount in MAX_AMOUNTS.items():
        assert parse_duration(f" {amount} {unit.value} ") == Duration(amount, unit)
        assert add(start, Duration(amount, unit), FR).year < 3000
    assert parse_duration("0 months") == Duration(0, Unit.MONTHS)


@pytest.mark.parametrize(
    "text",
    [
        "9999-12-31T23:59:59+00:00",
        "9999-12-31T23:00:00-05:00",
        "0001-01-01T00:30:00+01:00",
        "0001-01-01T00:00:00",
        "1899-12-31T23:59:59+00:00",
        "1900-01-01T00:30:00+01:00",  # 1899 in UTC
        "2201-01-01T00:00:00+00:00",
        "2200-12-31T23:30:00-01:00",  # 2201 in UTC
        "2026-06-09T10:00:00+25:00",
        "2026-06-09T10:00:00+24:00",
        "２０２６-06-09T10:00:00+02:00",
        "2026-06-09T10:00:00+02:00" + " " * 100_000,
        "2026-02-30T10:00:00",
        "now",
        "",
        "\x00",
        "2026-06-09T10:00:00+02:00\n2026",
    ],
)
def test_bad_instants_are_refused_in_one_french_line(text: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_instant(text, FR)
    assert "\n" not in error.value.message and len(error.value.message) < 300


def test_naive_and_edge_instants_within_the_range_are_read() -> None:
    assert parse_instant("1900-01-01T12:00", FR).tzinfo is not None
    assert parse_instant("2200-12-31T23:59:59+00:00", FR).year == 2200


def test_arithmetic_errors_from_code_become_invalid_input() -> None:
    # Instants and amounts that skipped the parsers still get a refusal, not a crash.
    late = dt.datetime(9999, 12, 31, 12, tzinfo=dt.UTC)
    for duration in (Duration(10, Unit.MONTHS), Duration(10, Unit.CALENDAR_DAYS)):
        with pytest.raises(InvalidInput):
            add(late, duration, FR)
    with pytest.raises(InvalidInput):
        add(late, Duration(100, Unit.HOURS), FR)


def test_between_with_end_before_start_is_negative() -> None:
    first = parse_instant("2026-06-09T10:00:00+02:00", FR)
    second = parse_instant("2026-06-12T00:00:00+02:00", FR)
    assert between(second, first, Unit.BUSINESS_DAYS, FR) == -2


@pytest.mark.parametrize("unit", [u.value for u in Unit])
def test_between_over_the_whole_range_answers_well_under_a_second(unit: str) -> None:
    calendar = WorkingCalendar.from_spec("FR", FR.timezone, {"holidays": []})
    for chosen in (FR, CALENDARS["FR-67"], calendar):
        began = time.perf_counter()
        compute_between(
            chosen, start="1900-01-01T00:00:00+00:00", end="2200-12-31T23:00:00+00:00", unit=unit
        )
        assert time.perf_counter() - began < 0.5


def test_longest_deadlines_answer_well_under_a_second() -> None:
    for unit, amount in MAX_AMOUNTS.items():
        began = time.perf_counter()
        answer = compute_deadline(
            FR, start="2200-12-31T23:00:00+00:00", amount_and_unit=f"{amount} {unit.value}"
        )
        assert time.perf_counter() - began < 1.0
        assert len(answer.explanation) < 10


def test_a_sparse_calendar_refuses_a_deadline_beyond_the_horizon() -> None:
    sparse = WorkingCalendar.from_spec(
        "SPARSE", "Europe/Paris", {"weekly": {"1": [["09:00", "09:01"]]}}
    )
    began = time.perf_counter()
    with pytest.raises(InvalidInput, match="au-delà de l'an 3000"):
        compute_deadline(
            sparse, start="2026-01-01T00:00:00+01:00", amount_and_unit="876600 business_hours"
        )
    assert time.perf_counter() - began < 2


# --- the fast sums agree with a walk over every day -------------------------------------------


def _walk_business_seconds(
    start: dt.datetime, end: dt.datetime, calendar: WorkingCalendar
) -> float:
    """The former day-by-day walk, kept as the reference."""
    begin_utc, end_utc = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    day, last = calendar.local_date(start), calendar.local_date(end)
    total = 0.0
    while day <= last:
        for span_start, span_end in calendar.spans(day):
            overlap = min(span_end, end_utc) - max(span_start, begin_utc)
            if overlap > dt.timedelta(0):
                total += overlap.total_seconds()
        day += ONE_DAY
    return total


def _with_overrides(calendar: WorkingCalendar) -> WorkingCalendar:
    return WorkingCalendar(
        code=calendar.code + "-X",
        timezone=calendar.timezone,
        weekly=calendar.weekly,
        holiday_rules=calendar.holiday_rules,
        overrides={
            dt.date(2026, 5, 15): Override("Pont", ()),
            dt.date(2026, 5, 16): Override("Samedi ouvert", ((dt.time(9), dt.time(12)),)),
            dt.date(2026, 5, 14): Override("Ascension ouverte", ((dt.time(9), dt.time(10)),)),
            dt.date(2026, 3, 29): Override("Dimanche ouvert", ((dt.time(1), dt.time(4)),)),
        },
    )


ALL = [*CALENDARS.values(), *(_with_overrides(c) for c in CALENDARS.values())]
instants = st.datetimes(
    min_value=dt.datetime(2025, 12, 1),  # noqa: DTZ001
    max_value=dt.datetime(2027, 2, 1),  # noqa: DTZ001
    timezones=st.just(dt.UTC),
)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(ALL) - 1), instants, instants)
def test_year_table_sums_agree_with_the_day_walk(
    which: int, first: dt.datetime, second: dt.datetime
) -> None:
    calendar = ALL[which]
    start, end = min(first, second), max(first, second)
    assert business_seconds(start, end, calendar) == pytest.approx(
        _walk_business_seconds(start, end, calendar), abs=1e-6
    )
    for working in (False, True):
        counts = calendar.is_working_day if working else calendar.is_business_day
        day, last = calendar.local_date(start), calendar.local_date(end)
        walked = sum(counts(day + n * ONE_DAY) for n in range((last - day).days + 1))
        assert calendar.count_counted_days(day, last, working=working) == walked
