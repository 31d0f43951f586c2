"""Deadline arithmetic and working calendars, against the worked cases of docs/domain.md."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

import accelerator
from accelerator.shared.errors import InvalidInput
from accelerator.sla.calendars import WorkingCalendar, easter_sunday
from accelerator.sla.durations import Duration, Unit, add, add_months, parse_duration

SEED = Path(accelerator.__file__).parent / "catalogue" / "seed"
PARIS = ZoneInfo("Europe/Paris")
REUNION = ZoneInfo("Indian/Reunion")


def _load_calendars() -> dict[str, WorkingCalendar]:
    rows = json.loads((SEED / "calendars.json").read_text(encoding="utf-8"))
    return {
        row["code"]: WorkingCalendar.from_spec(row["code"], row["timezone"], row["spec"])
        for row in rows
    }


CALENDARS = _load_calendars()


@pytest.fixture
def fr() -> WorkingCalendar:
    return CALENDARS["FR"]


def paris(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


def deadline(start: dt.datetime, text: str, code: str = "FR", *, prorogation: bool = False) -> str:
    return add(start, parse_duration(text), CALENDARS[code], prorogation=prorogation).isoformat()


# --- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2 months", Duration(2, Unit.MONTHS)),
        ("  15 calendar_days ", Duration(15, Unit.CALENDAR_DAYS)),
        ("10 business_days", Duration(10, Unit.BUSINESS_DAYS)),
        ("3 working_days", Duration(3, Unit.WORKING_DAYS)),
        ("24 hours", Duration(24, Unit.HOURS)),
        ("0 calendar_days", Duration(0, Unit.CALENDAR_DAYS)),
    ],
)
def test_parse_duration(text: str, expected: Duration) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["1 day", "1 days", "2 jours", "2 month", "-1 months", "1.5 months", "months", "", "2"],
)
def test_ambiguous_negative_or_unreadable_durations_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_duration(text)


def test_duration_has_a_french_label() -> None:
    assert parse_duration("2 business_days").label() == "2 jours ouvrés"
    assert str(parse_duration("2 months")) == "2 months"


def test_business_hours_skip_lunch_and_nights(fr: WorkingCalendar) -> None:
    # Tuesday 10:00 + 4 business hours: 10-12 (2 h), 14-16 (2 h) → 16:00 the same day.
    assert add(paris(2026, 6, 9, 10), parse_duration("4 business_hours"), fr) == paris(
        2026, 6, 9, 16
    )
    # Tuesday 16:00 + 4: 16-17 (1 h), then Wednesday 09-12 (3 h) → Wednesday 12:00, not 14:00.
    assert add(paris(2026, 6, 9, 16), parse_duration("4 business_hours"), fr) == paris(
        2026, 6, 10, 12
    )


def test_a_naive_start_is_refused(fr: WorkingCalendar) -> None:
    with pytest.raises(InvalidInput):
        add(dt.datetime(2026, 6, 9, 10), parse_duration("2 months"), fr)  # noqa: DTZ001


# --- worked cases from docs/domain.md -----------------------------------------------------------


def test_two_business_days_from_a_tuesday_end_on_thursday_night() -> None:
    assert deadline(paris(2026, 6, 9, 10), "2 business_days") == "2026-06-12T00:00:00+02:00"


def test_one_month_from_january_31_ends_with_february_28() -> None:
    assert deadline(paris(2026, 1, 31, 10), "1 months") == "2026-03-01T00:00:00+01:00"


def test_one_month_from_january_31_of_a_leap_year_ends_with_february_29() -> None:
    assert deadline(paris(2024, 1, 31, 10), "1 months") == "2024-03-01T00:00:00+01:00"


def test_months_across_the_spring_dst_change_end_at_local_midnight() -> None:
    assert deadline(paris(2026, 3, 1, 9), "1 months") == "2026-04-02T00:00:00+02:00"


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2024, 1, 31), 1, dt.date(2024, 2, 29)),
        (dt.date(2026, 3, 31), 1, dt.date(2026, 4, 30)),
        (dt.date(2026, 12, 15), 1, dt.date(2027, 1, 15)),
        (dt.date(2026, 3, 31), 11, dt.date(2027, 2, 28)),
        (dt.date(2026, 8, 31), 18, dt.date(2028, 2, 29)),
        (dt.date(2026, 5, 17), 0, dt.date(2026, 5, 17)),
    ],
)
def test_add_months_keeps_the_day_number_or_takes_the_last_day(
    day: dt.date, months: int, expected: dt.date
) -> None:
    assert add_months(day, months) == expected


def test_zero_calendar_days_end_at_the_end_of_the_start_day() -> None:
    assert deadline(paris(2026, 6, 9, 10), "0 calendar_days") == "2026-06-10T00:00:00+02:00"


# --- hours: elapsed UTC time ----------------------------------------------------------------


def test_24_hours_across_the_spring_dst_night_land_an_hour_later_on_the_clock() -> None:
    start = dt.datetime.fromisoformat("2026-03-28T12:00:00+01:00")
    assert deadline(start, "24 hours") == "2026-03-29T13:00:00+02:00"


def test_24_hours_across_the_autumn_dst_night_land_an_hour_earlier_on_the_clock() -> None:
    start = dt.datetime.fromisoformat("2026-10-24T12:00:00+02:00")
    assert deadline(start, "24 hours") == "2026-10-25T11:00:00+01:00"


def test_hours_are_elapsed_even_when_the_start_carries_the_paris_zone() -> None:
    # Wall-clock arithmetic on a zoned datetime would give 12:00 / 12:00: both are wrong.
    assert deadline(paris(2026, 3, 28, 12), "24 hours") == "2026-03-29T13:00:00+02:00"
    assert deadline(paris(2026, 10, 24, 12), "24 hours") == "2026-10-25T11:00:00+01:00"


def test_hours_are_shown_in_the_calendar_zone() -> None:
    start = dt.datetime.fromisoformat("2026-06-09T08:00:00+00:00")
    assert deadline(start, "3 hours", "FR-974") == "2026-06-09T15:00:00+04:00"


# --- Easter and holidays --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2024, dt.date(2024, 3, 31)),
        (2025, dt.date(2025, 4, 20)),
        (2026, dt.date(2026, 4, 5)),
        (2027, dt.date(2027, 3, 28)),
        (2030, dt.date(2030, 4, 21)),
        (2000, dt.date(2000, 4, 23)),
        (2008, dt.date(2008, 3, 23)),
        (2011, dt.date(2011, 4, 24)),
        (2038, dt.date(2038, 4, 25)),
        (2285, dt.date(2285, 3, 22)),
    ],
)
def test_easter_sunday(year: int, expected: dt.date) -> None:
    assert easter_sunday(year) == expected


@given(st.integers(min_value=1583, max_value=4099))
def test_easter_is_a_sunday_between_march_22_and_april_25(year: int) -> None:
    easter = easter_sunday(year)
    assert easter.isoweekday() == 7
    assert dt.date(year, 3, 22) <= easter <= dt.date(year, 4, 25)


def test_metropolitan_holidays_of_2026(fr: WorkingCalendar) -> None:
    assert set(fr.holidays(2026)) == {
        dt.date(2026, 1, 1),
        dt.date(2026, 4, 6),  # Easter Monday
        dt.date(2026, 5, 1),
        dt.date(2026, 5, 8),
        dt.date(2026, 5, 14),  # Ascension
        dt.date(2026, 5, 25),  # Whit Monday
        dt.date(2026, 7, 14),
        dt.date(2026, 8, 15),
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 11),
        dt.date(2026, 12, 25),
    }


@pytest.mark.parametrize("code", ["FR-57", "FR-67", "FR-68"])
def test_alsace_moselle_adds_good_friday_and_december_26(code: str) -> None:
    local = CALENDARS[code]
    good_friday = dt.date(2026, 4, 3)
    st_stephen = dt.date(2026, 12, 26)
    assert local.holiday_name(good_friday) == "Vendredi saint"
    assert local.holiday_name(st_stephen) == "Saint-Étienne"
    assert not local.is_business_day(good_friday)
    assert set(local.holidays(2026)) == set(CALENDARS["FR"].holidays(2026)) | {
        good_friday,
        st_stephen,
    }


def test_metropolitan_france_works_on_good_friday_and_december_26(fr: WorkingCalendar) -> None:
    assert fr.holiday_name(dt.date(2026, 4, 3)) is None
    assert fr.holiday_name(dt.date(2026, 12, 26)) is None
    assert fr.is_business_day(dt.date(2026, 4, 3))


def test_good_friday_moves_a_business_day_deadline_in_alsace_only() -> None:
    start = paris(2026, 4, 2, 10)  # Thursday before Easter
    assert deadline(start, "1 business_days", "FR") == "2026-04-04T00:00:00+02:00"
    # Good Friday, weekend and Easter Monday are skipped: last day Tuesday 7 April.
    assert deadline(start, "1 business_days", "FR-67") == "2026-04-08T00:00:00+02:00"


def test_a_business_day_count_skips_a_holiday() -> None:
    # Thursday 7 May + 1 business day: Friday 8 May is a holiday → Monday 11 May.
    assert deadline(paris(2026, 5, 7, 10), "1 business_days") == "2026-05-12T00:00:00+02:00"


def test_a_holiday_on_a_weekend_has_no_substitute_day(fr: WorkingCalendar) -> None:
    # 1 November 2026 is a Sunday; Monday 2 November is an ordinary business day.
    assert fr.holiday_name(dt.date(2026, 11, 1)) == "Toussaint"
    assert fr.is_business_day(dt.date(2026, 11, 2))


def test_business_days_started_on_a_saturday_count_from_monday() -> None:
    assert deadline(paris(2026, 6, 13, 10), "1 business_days") == "2026-06-16T00:00:00+02:00"


def test_working_days_count_saturdays_but_business_days_do_not() -> None:
    friday = paris(2026, 6, 12, 10)
    assert deadline(friday, "1 working_days") == "2026-06-14T00:00:00+02:00"
    assert deadline(friday, "1 business_days") == "2026-06-16T00:00:00+02:00"
    # Sundays never count: Friday + 2 working days → Saturday, Monday.
    assert deadline(friday, "2 working_days") == "2026-06-16T00:00:00+02:00"


def test_working_days_skip_holidays(fr: WorkingCalendar) -> None:
    # Friday 1 May is a holiday; Saturday 2 May counts.
    assert deadline(paris(2026, 4, 30, 10), "1 working_days") == "2026-05-03T00:00:00+02:00"
    assert fr.is_working_day(dt.date(2026, 5, 2))
    assert not fr.is_working_day(dt.date(2026, 5, 3))


# --- prorogation ----------------------------------------------------------------------------


def test_prorogation_moves_a_saturday_last_day_to_monday() -> None:
    friday = paris(2026, 6, 12, 10)
    assert deadline(friday, "1 calendar_days") == "2026-06-14T00:00:00+02:00"
    assert deadline(friday, "1 calendar_days", prorogation=True) == "2026-06-16T00:00:00+02:00"


def test_prorogation_moves_a_sunday_last_day_to_monday() -> None:
    friday = paris(2026, 6, 12, 10)
    assert deadline(friday, "2 calendar_days", prorogation=True) == "2026-06-16T00:00:00+02:00"


def test_prorogation_moves_a_holiday_last_day_to_the_next_business_day() -> None:
    # 8 April + 1 month = Friday 8 May (holiday) → Monday 11 May.
    start = paris(2026, 4, 8, 10)
    assert deadline(start, "1 months") == "2026-05-09T00:00:00+02:00"
    assert deadline(start, "1 months", prorogation=True) == "2026-05-12T00:00:00+02:00"


def test_prorogation_skips_a_weekend_followed_by_a_holiday() -> None:
    # 23 April + 1 month = Saturday 23 May; Sunday 24, Whit Monday 25 → Tuesday 26 May.
    start = paris(2026, 4, 23, 10)
    assert deadline(start, "1 months", prorogation=True) == "2026-05-27T00:00:00+02:00"


def test_prorogation_leaves_a_business_last_day_alone() -> None:
    start = paris(2026, 6, 9, 10)
    assert deadline(start, "2 calendar_days", prorogation=True) == "2026-06-12T00:00:00+02:00"


# --- overseas -------------------------------------------------------------------------------


def test_reunion_deadlines_are_printed_in_its_zone() -> None:
    start = dt.datetime(2026, 6, 9, 6, tzinfo=dt.UTC)  # 10:00 in Réunion
    assert deadline(start, "2 business_days", "FR-974") == "2026-06-12T00:00:00+04:00"


def test_reunion_counts_from_its_own_local_date() -> None:
    # 21:00 UTC is already 1:00 on 10 June in Réunion, still 9 June (23:00) in Paris.
    start = dt.datetime(2026, 6, 9, 21, tzinfo=dt.UTC)
    assert deadline(start, "1 calendar_days", "FR-974") == "2026-06-12T00:00:00+04:00"
    assert deadline(start, "1 calendar_days", "FR") == "2026-06-11T00:00:00+02:00"


def test_reunion_observes_december_20_and_metropolitan_france_does_not() -> None:
    reunion = CALENDARS["FR-974"]
    assert reunion.holiday_name(dt.date(2027, 12, 20)) == "Abolition de l'esclavage"
    assert CALENDARS["FR"].holiday_name(dt.date(2027, 12, 20)) is None
    friday = dt.datetime(2027, 12, 17, 10, tzinfo=REUNION)
    # Monday 20 December is a holiday in Réunion only.
    assert deadline(friday, "1 business_days", "FR-974") == "2027-12-22T00:00:00+04:00"
    assert deadline(paris(2027, 12, 17, 10), "1 business_days") == "2027-12-21T00:00:00+01:00"


@pytest.mark.parametrize(
    ("code", "day"),
    [("FR-971", "05-27"), ("FR-972", "05-22"), ("FR-973", "06-10"), ("FR-976", "04-27")],
)
def test_each_overseas_department_has_its_abolition_day(code: str, day: str) -> None:
    date = dt.date.fromisoformat(f"2026-{day}")
    assert CALENDARS[code].holiday_name(date) == "Abolition de l'esclavage"
    assert CALENDARS["FR"].holiday_name(date) is None


# --- properties -----------------------------------------------------------------------------

calendars = st.sampled_from(sorted(CALENDARS))
starts = st.datetimes(
    min_value=dt.datetime(2000, 1, 1),  # noqa: DTZ001
    max_value=dt.datetime(2080, 12, 31),  # noqa: DTZ001
    timezones=st.sampled_from([dt.UTC, PARIS, REUNION, ZoneInfo("America/Cayenne")]),
)
day_units = st.sampled_from([Unit.CALENDAR_DAYS, Unit.BUSINESS_DAYS])


@given(calendars, starts, day_units, st.integers(0, 120), st.integers(0, 120))
def test_add_is_monotonic_in_the_amount(
    code: str, start: dt.datetime, unit: Unit, a: int, b: int
) -> None:
    calendar = CALENDARS[code]
    low, high = sorted((a, b))
    first = add(start, Duration(low, unit), calendar)
    second = add(start, Duration(high, unit), calendar)
    if low == high:
        assert first == second
    else:
        assert first < second


@given(calendars, starts, day_units, st.integers(0, 400), st.booleans())
def test_day_deadlines_fall_at_local_midnight_in_the_calendar_zone(
    code: str, start: dt.datetime, unit: Unit, amount: int, prorogation: bool
) -> None:
    calendar = CALENDARS[code]
    end = add(start, Duration(amount, unit), calendar, prorogation=prorogation)
    local = end.astimezone(ZoneInfo(calendar.timezone))
    assert local.time() == dt.time(0)
    assert str(end.tzinfo) == calendar.timezone
    assert end > start


@given(calendars, starts, st.integers(0, 400))
def test_calendar_days_end_n_plus_one_days_after_the_local_start_date(
    code: str, start: dt.datetime, amount: int
) -> None:
    calendar = CALENDARS[code]
    zone = ZoneInfo(calendar.timezone)
    end = add(start, Duration(amount, Unit.CALENDAR_DAYS), calendar)
    local_start = start.astimezone(zone).date()
    assert end.astimezone(zone).date() - local_start == dt.timedelta(days=amount + 1)


@given(calendars, starts, st.integers(1, 60))
def test_the_last_business_day_is_a_business_day(code: str, start: dt.datetime, n: int) -> None:
    calendar = CALENDARS[code]
    end = add(start, Duration(n, Unit.BUSINESS_DAYS), calendar)
    last = end.astimezone(ZoneInfo(calendar.timezone)).date() - dt.timedelta(days=1)
    assert calendar.is_business_day(last)
