"""How a deadline was derived, in plain French (shown to agents and holders)."""

from __future__ import annotations

import datetime as dt

from accelerator.sla.calendars import WorkingCalendar
from accelerator.sla.clocks import ClockFacts, PauseEffect, Projection
from accelerator.sla.durations import ONE_DAY, Duration, Unit, add, add_months, last_day, prorogate

MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
#: Skipped days named in an explanation; the others are counted (a budget may span a century).
MAX_LISTED = 30
WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


def day_label(day: dt.date) -> str:
    """« mardi 9 juin 2026 »."""
    return f"{WEEKDAYS_FR[day.weekday()]} {day.day} {MONTHS_FR[day.month - 1]} {day.year}"


def instant_label(instant: dt.datetime, calendar: WorkingCalendar) -> str:
    """« mardi 9 juin 2026 à 10:00 (Europe/Paris) »."""
    local = instant.astimezone(calendar.zone)
    return f"{day_label(local.date())} à {local:%H:%M} ({calendar.timezone})"


def explain(
    start: dt.datetime, duration: Duration, calendar: WorkingCalendar, *, prorogation: bool = False
) -> list[str]:
    """The steps from ``start`` to the deadline, one sentence each."""
    deadline = add(start, duration, calendar, prorogation=prorogation)
    lines = [f"Point de départ : {instant_label(start, calendar)}.", f"Délai : {duration.label()}."]
    if duration.unit is Unit.HOURS:
        lines.append("Heures écoulées d'horloge, changements d'heure compris.")
    elif duration.unit is Unit.BUSINESS_HOURS:
        lines.append(
            "Seules comptent les heures ouvrées du calendrier "
            f"{calendar.code} ; un départ hors horaires compte à partir de la reprise suivante."
        )
        lines.extend(
            _skipped_days(calendar.local_date(start), deadline, calendar, Unit.BUSINESS_DAYS)
        )
    else:
        lines.append("Le jour du départ ne compte pas ; le délai expire à la fin du dernier jour.")
        end = last_day(start, duration, calendar)
        if duration.unit is Unit.MONTHS:
            first = calendar.local_date(start)
            if end.day != first.day:
                lines.append(
                    f"Le {first.day} n'existe pas en {MONTHS_FR[end.month - 1]} {end.year} : "
                    f"le délai se termine le dernier jour du mois."
                )
            assert end == add_months(first, duration.amount)
        elif duration.unit is not Unit.CALENDAR_DAYS:
            lines.extend(_skipped_days(calendar.local_date(start), end, calendar, duration.unit))
        lines.append(f"Dernier jour compté : {day_label(end)}.")
        if prorogation:
            moved = prorogate(end, calendar)
            if moved != end:
                lines.append(
                    f"Le {day_label(end)} n'est pas ouvré ({calendar.describe_day(end)}) : "
                    f"délai prorogé au {day_label(moved)}."
                )
    lines.append(f"Échéance : {deadline.isoformat()}.")
    return lines


def _skipped_days(
    first: dt.date, until: dt.date | dt.datetime, calendar: WorkingCalendar, unit: Unit
) -> list[str]:
    last = (
        until
        if isinstance(until, dt.date) and not isinstance(until, dt.datetime)
        else (calendar.local_date(until))
    )
    counted = calendar.is_business_day if unit is Unit.BUSINESS_DAYS else calendar.is_working_day
    last_weekday = 5 if unit is Unit.BUSINESS_DAYS else 6
    # Only holidays and overrides can make a weekday not counted: look at those, not at every
    # day of a range that may span a century.
    candidates = {
        day for year in range(first.year, last.year + 1) for day in calendar.holidays(year)
    } | set(calendar.overrides)
    skipped = [
        day
        for day in sorted(candidates)
        if first < day <= last and day.isoweekday() <= last_weekday and not counted(day)
    ]
    if not skipped:
        return []
    shown = [f"{day_label(day)} ({calendar.describe_day(day)})" for day in skipped[:MAX_LISTED]]
    if len(skipped) > MAX_LISTED:
        shown.append(f"et {len(skipped) - MAX_LISTED} autres")
    return ["Jours non comptés en plus des fins de semaine : " + " ; ".join(shown) + "."]


def for_holder(facts: ClockFacts, projection: Projection) -> str:
    """« Comment votre délai a été calculé », in plain French for the holder."""
    calendar = facts.calendar
    start = facts.anchor.astimezone(calendar.zone)
    parts = [
        f"Le délai de {facts.budget.label()} a commencé le {day_label(start.date())} "
        f"à {start:%H:%M}."
    ]
    if facts.budget.unit in (Unit.BUSINESS_DAYS, Unit.WORKING_DAYS, Unit.BUSINESS_HOURS):
        parts.append("Les week-ends et les jours fériés ne comptent pas.")
    elif facts.budget.unit is not Unit.HOURS:
        parts.append(
            "Le jour de départ ne compte pas ; le délai court jusqu'à minuit du dernier jour."
        )
    for window in projection.windows:
        reasons = ", ".join(window.reasons)
        begin = window.start.astimezone(calendar.zone)
        if window.end is None:
            parts.append(
                f"Il est en pause depuis le {day_label(begin.date())} ({reasons}) : "
                "il reprendra quand les éléments demandés seront reçus."
            )
            continue
        end = window.end.astimezone(calendar.zone)
        effect = (
            "puis est reparti en entier"
            if facts.pause_effect is PauseEffect.INTERRUPTION
            else "puis a repris pour le temps qui restait"
        )
        parts.append(
            f"Il a été mis en pause du {day_label(begin.date())} au {day_label(end.date())} "
            f"({reasons}), {effect}."
        )
    if projection.deadline is not None:
        deadline = projection.deadline.astimezone(calendar.zone)
        if deadline.time() == dt.time(0):
            last = deadline.date() - ONE_DAY
            parts.append(f"Il expire le {day_label(last)} à minuit.")
        else:
            parts.append(f"Il expire le {day_label(deadline.date())} à {deadline:%H:%M}.")
    return " ".join(parts)
