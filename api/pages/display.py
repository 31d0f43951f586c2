"""How the pages show instants, deadlines and countdowns: one way, in the right zone, in French.

Pure functions (``now`` is passed in): the templates receive what these return, never a raw
instant to format themselves. Deadlines of days and months end at 24:00 local time, stored as
00:00 of the next day: they are shown as the last day they include.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from babel.dates import get_month_names

from accelerator.shared.text import t
from accelerator.sla.calendars import zone_named
from accelerator.sla.durations import Unit
from accelerator.sla.schemas import BudgetLeftOut

LOCALE = "fr_FR"
#: Under this many days a deadline is shown as close (warning colour).
CLOSE_DAYS = 7
#: Under this a take-in-charge countdown is shown as close.
CLOSE_COUNTDOWN = dt.timedelta(hours=4)
#: Past this, an overdue take-in-charge is counted in days.
LONG_OVERDUE = dt.timedelta(hours=48)


class Level(StrEnum):
    """The DSFR badge colours the pages use."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    SUCCESS = "success"
    NEW = "new"


@dataclass(frozen=True)
class Badge:
    """A short status text and its colour (``fr-badge--<level>``)."""

    text: str
    level: Level


#: French month names, from Babel's locale data once (formatting each date through Babel's
#: pattern machinery costs tens of microseconds, and a list page shows hundreds).
MONTHS = get_month_names("wide", locale=LOCALE)


def instant(value: dt.datetime | None, zone: str | None = None) -> str:
    """``value`` as « 12 juin 2026 à 16:05 » in ``zone`` (by default: in the offset it
    carries, as the domain's views give it, already local); an empty text for none."""
    if value is None:
        return ""
    local = value.astimezone(zone_named(zone)) if zone else value
    return t(
        "pages.date.instant", day=day(local.date()), time=f"{local.hour:02d}:{local.minute:02d}"
    )


def day(value: dt.date) -> str:
    """« 12 juin 2026 » (« 1er » is not used: Babel's « d MMMM y »)."""
    return f"{value.day} {MONTHS[value.month]} {value.year}"


def last_day(due_at: dt.datetime, zone: str) -> dt.date:
    """The last local day a deadline includes (a deadline at 00:00 ends the day before)."""
    return (due_at.astimezone(zone_named(zone)) - dt.timedelta(microseconds=1)).date()


def deadline(due_at: dt.datetime | None, zone: str = "Europe/Paris") -> str:
    """A deadline as people read it: « 11 juin 2026 » when it ends a day, else its instant."""
    if due_at is None:
        return ""
    local = due_at.astimezone(zone_named(zone))
    if local.time() == dt.time(0, 0):
        return t("pages.date.end_of_day", date=day(last_day(due_at, zone)))
    return instant(due_at, zone)


def deadline_badge(
    due_at: dt.datetime | None,
    *,
    now: dt.datetime,
    zone: str,
    paused: bool = False,
    left: BudgetLeftOut | None = None,
) -> Badge | None:
    """« aujourd'hui », « demain », « dans N jours », late in red, or paused: « N j. après
    complément » (what will count from the holder's answer, ``left``), « en pause » if unknown.

    Counted in local days between today and the last day the deadline includes."""
    if paused:
        return paused_badge(left)
    if due_at is None:
        return None
    today = now.astimezone(zone_named(zone)).date()
    last = last_day(due_at, zone)
    if due_at <= now:
        days = (today - last).days
        text = t("pages.deadline.late_days", days=days) if days > 0 else t("pages.deadline.late")
        return Badge(text, Level.ERROR)
    days = (last - today).days
    if days == 0:
        return Badge(t("pages.deadline.today"), Level.WARNING)
    if days == 1:
        return Badge(t("pages.deadline.tomorrow"), Level.WARNING)
    return Badge(
        t("pages.deadline.in_days", days=days), Level.WARNING if days < CLOSE_DAYS else Level.INFO
    )


def paused_badge(left: BudgetLeftOut | None) -> Badge:
    """A paused deadline: how much of it will run once the holder has answered."""
    if left is None:
        return Badge(t("pages.deadline.paused"), Level.INFO)
    if Unit(left.unit) in (Unit.HOURS, Unit.BUSINESS_HOURS):
        return Badge(t("pages.deadline.paused_hours", hours=left.amount), Level.INFO)
    return Badge(t("pages.deadline.paused_days", days=left.amount), Level.INFO)


def countdown(due_at: dt.datetime | None, *, now: dt.datetime) -> Badge | None:
    """The time left before a take-in-charge deadline (« reste 5 h 12 min »), or how late."""
    if due_at is None:
        return None
    left = due_at - now
    minutes = int(abs(left).total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if left <= -LONG_OVERDUE:
        days = int(-left.total_seconds() // 86400)
        return Badge(t("pages.countdown.late_days", days=days), Level.ERROR)
    if left <= dt.timedelta(0):
        return Badge(t("pages.countdown.late", hours=hours, minutes=minutes), Level.ERROR)
    level = Level.WARNING if left < CLOSE_COUNTDOWN else Level.INFO
    return Badge(t("pages.countdown.left", hours=hours, minutes=minutes), level)
