"""How a deadline was derived, in plain French (shown to agents and holders)."""

from __future__ import annotations

import datetime as dt

from accelerator.shared.text import t
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
    return t(
        "sla.explain.instant", day=day_label(local.date()), local=local, timezone=calendar.timezone
    )


def explain(
    start: dt.datetime, duration: Duration, calendar: WorkingCalendar, *, prorogation: bool = False
) -> list[str]:
    """The steps from ``start`` to the deadline, one sentence each."""
    deadline = add(start, duration, calendar, prorogation=prorogation)
    lines = [
        t("sla.explain.start", start=instant_label(start, calendar)),
        t("sla.explain.duration", duration=duration.label()),
    ]
    if duration.unit is Unit.HOURS:
        lines.append(t("sla.explain.hours"))
    elif duration.unit is Unit.BUSINESS_HOURS:
        lines.append(t("sla.explain.business_hours", calendar=calendar.code))
        lines.extend(
            _skipped_days(calendar.local_date(start), deadline, calendar, Unit.BUSINESS_DAYS)
        )
    else:
        lines.append(t("sla.explain.days"))
        end = last_day(start, duration, calendar)
        if duration.unit is Unit.MONTHS:
            first = calendar.local_date(start)
            if end.day != first.day:
                lines.append(
                    t(
                        "sla.explain.month_end",
                        day=first.day,
                        month=MONTHS_FR[end.month - 1],
                        year=end.year,
                    )
                )
            assert end == add_months(first, duration.amount)
        elif duration.unit is not Unit.CALENDAR_DAYS:
            lines.extend(_skipped_days(calendar.local_date(start), end, calendar, duration.unit))
        lines.append(t("sla.explain.last_day", day=day_label(end)))
        if prorogation:
            moved = prorogate(end, calendar)
            if moved != end:
                lines.append(
                    t(
                        "sla.explain.prorogued",
                        day=day_label(end),
                        why=calendar.describe_day(end),
                        moved=day_label(moved),
                    )
                )
    lines.append(t("sla.deadline", deadline=deadline.isoformat()))
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
        shown.append(t("sla.explain.more_days", count=len(skipped) - MAX_LISTED))
    return [t("sla.explain.skipped_days") + " ; ".join(shown) + "."]


def for_holder(facts: ClockFacts, projection: Projection) -> str:
    """« Comment votre délai a été calculé », in plain French for the holder."""
    calendar = facts.calendar
    start = facts.anchor.astimezone(calendar.zone)
    parts = [
        t(
            "sla.holder.started",
            budget=facts.budget.label(),
            day=day_label(start.date()),
            start=start,
        )
    ]
    if facts.budget.unit in (Unit.BUSINESS_DAYS, Unit.WORKING_DAYS, Unit.BUSINESS_HOURS):
        parts.append(t("sla.holder.business_days"))
    elif facts.budget.unit is not Unit.HOURS:
        parts.append(t("sla.holder.calendar_days"))
    for window in projection.windows:
        reasons = ", ".join(window.reasons)
        begin = window.start.astimezone(calendar.zone)
        if window.end is None:
            parts.append(t("sla.holder.paused_since", day=day_label(begin.date()), reasons=reasons))
            continue
        end = window.end.astimezone(calendar.zone)
        effect = (
            t("sla.holder.restarted")
            if facts.pause_effect is PauseEffect.INTERRUPTION
            else t("sla.holder.resumed")
        )
        parts.append(
            t(
                "sla.holder.paused",
                start=day_label(begin.date()),
                end=day_label(end.date()),
                reasons=reasons,
                effect=effect,
            )
        )
    if projection.deadline is not None:
        deadline = projection.deadline.astimezone(calendar.zone)
        if deadline.time() == dt.time(0):
            last = deadline.date() - ONE_DAY
            parts.append(t("sla.holder.expires_midnight", day=day_label(last)))
        else:
            parts.append(
                t("sla.holder.expires_at", day=day_label(deadline.date()), deadline=deadline)
            )
    return " ".join(parts)
