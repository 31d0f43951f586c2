"""Deadline badges and countdowns: local days, the end-of-day convention, late and paused."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from api.pages import display
from api.pages.display import Level

PARIS = ZoneInfo("Europe/Paris")
# Tuesday 9 June 2026, 10:00 in Paris.
NOW = dt.datetime(2026, 6, 9, 10, tzinfo=PARIS)


def _badge(due: dt.datetime, **kwargs: object) -> tuple[str, Level]:
    badge = display.deadline_badge(due, now=NOW, zone="Europe/Paris", **kwargs)  # type: ignore[arg-type]
    assert badge is not None
    return badge.text, badge.level


def test_a_deadline_at_midnight_counts_for_the_day_it_ends() -> None:
    # 00:00 on 10 June ends 9 June: today.
    assert _badge(dt.datetime(2026, 6, 10, tzinfo=PARIS)) == ("aujourd'hui", Level.WARNING)
    assert _badge(dt.datetime(2026, 6, 11, tzinfo=PARIS)) == ("demain", Level.WARNING)
    assert _badge(dt.datetime(2026, 6, 9, 18, tzinfo=PARIS)) == ("aujourd'hui", Level.WARNING)
    assert display.deadline(dt.datetime(2026, 6, 10, tzinfo=PARIS), "Europe/Paris") == (
        "9 juin 2026 (fin de journée)"
    )


def test_days_ahead_turn_to_warning_under_a_week() -> None:
    assert _badge(dt.datetime(2026, 6, 15, tzinfo=PARIS)) == ("dans 5 jours", Level.WARNING)
    assert _badge(dt.datetime(2026, 6, 17, tzinfo=PARIS)) == ("dans 7 jours", Level.INFO)


def test_late_is_red_and_counts_the_days_since_the_last_day() -> None:
    assert _badge(dt.datetime(2026, 6, 9, 9, tzinfo=PARIS)) == ("en retard", Level.ERROR)
    assert _badge(dt.datetime(2026, 6, 9, tzinfo=PARIS)) == ("en retard de 1 j.", Level.ERROR)
    assert _badge(dt.datetime(2026, 6, 1, tzinfo=PARIS)) == ("en retard de 9 j.", Level.ERROR)


def test_a_paused_deadline_is_shown_paused() -> None:
    assert _badge(dt.datetime(2026, 6, 1, tzinfo=PARIS), paused=True)[1] is Level.INFO
    assert "pause" in _badge(dt.datetime(2026, 6, 1, tzinfo=PARIS), paused=True)[0]
    assert display.deadline_badge(None, now=NOW, zone="Europe/Paris") is None


def test_the_local_day_is_the_calendars_not_the_servers() -> None:
    # 23:30 UTC on 9 June is already 10 June in Paris (and 10 June 03:30 in Réunion).
    late_evening = dt.datetime(2026, 6, 9, 21, 30, tzinfo=dt.UTC)
    due = dt.datetime(2026, 6, 11, tzinfo=PARIS)
    badge = display.deadline_badge(due, now=late_evening, zone="Europe/Paris")
    assert badge is not None and badge.text == "demain"
    assert display.instant(late_evening, "Indian/Reunion") == "10 juin 2026 à 01:30"


def test_the_take_in_charge_countdown() -> None:
    due = NOW + dt.timedelta(hours=5, minutes=7)
    left = display.countdown(due, now=NOW)
    assert left is not None and (left.text, left.level) == ("reste 5 h 07", Level.INFO)
    close = display.countdown(NOW + dt.timedelta(hours=3), now=NOW)
    assert close is not None and close.level is Level.WARNING
    late = display.countdown(NOW - dt.timedelta(hours=2), now=NOW)
    assert late is not None and (late.text, late.level) == ("dépassé de 2 h 00", Level.ERROR)
    long = display.countdown(NOW - dt.timedelta(hours=50), now=NOW)
    assert long is not None and long.text == "dépassé de 2 j."


def test_a_paused_deadline_says_what_will_count_from_the_holders_answer() -> None:
    from accelerator.sla.schemas import BudgetLeftOut

    due = dt.datetime(2026, 6, 1, tzinfo=PARIS)
    days = BudgetLeftOut(amount=12, unit="business_days", label="12 jours ouvrés")
    assert _badge(due, paused=True, left=days) == ("12 j. après complément", Level.INFO)
    months = BudgetLeftOut(amount=84, unit="calendar_days", label="84 jours")
    assert _badge(None, paused=True, left=months) == ("84 j. après complément", Level.INFO)  # type: ignore[arg-type]
    hours = BudgetLeftOut(amount=19, unit="hours", label="19 heures")
    assert _badge(due, paused=True, left=hours) == ("19 h après complément", Level.INFO)
    # Unknown (a clock paused before the figure was kept): paused, without a figure.
    assert _badge(due, paused=True, left=None)[0] == "en pause (complément attendu)"


def test_instants_and_days_read_as_babel_formats_them_in_each_zone() -> None:
    from babel.dates import format_date, format_datetime

    start = dt.datetime(2026, 1, 1, 0, 7, tzinfo=dt.UTC)
    for zone in ("Europe/Paris", "America/Cayenne", "Indian/Reunion", "Pacific/Noumea"):
        for step in range(0, 366 * 24, 7):  # every 7 hours of a year, both DST changes
            value = start + dt.timedelta(hours=step)
            expected = format_datetime(
                value, "d MMMM y 'à' HH:mm", locale="fr_FR", tzinfo=ZoneInfo(zone)
            )
            assert display.instant(value, zone) == expected
            assert display.day(value.date()) == format_date(
                value.date(), "d MMMM y", locale="fr_FR"
            )
    # Without a zone: in the offset the value carries.
    assert display.instant(dt.datetime(2026, 6, 9, 10, 5, tzinfo=PARIS)) == "9 juin 2026 à 10:05"


def test_the_managers_page_tells_its_instant_in_the_prefectures_zone() -> None:
    from accelerator.shared.config import Settings

    settings = Settings(demo=True)
    at = dt.datetime(2026, 12, 3, 7, 52, tzinfo=dt.UTC)
    assert display.instant(at, settings.prefecture_timezone) == "3 décembre 2026 à 08:52"
    cayenne = Settings(demo=True, prefecture_timezone="America/Cayenne")
    assert display.instant(at, cayenne.prefecture_timezone) == "3 décembre 2026 à 04:52"
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="fuseau horaire connu"):
        Settings(demo=True, prefecture_timezone="Mars/Olympus")
