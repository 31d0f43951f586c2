"""What one consultation's history means for the figures, as pure functions.

Definitions (docs/api.md, "Metrics"):

- The administration HOLDS a consultation from its sending to its end (opinion, tacit
  opinion at the deadline, or cancellation), except while it waits for the holder: the union
  of the information requests relayed for that consultation, from the request to the holder's
  answer (overlapping requests count once). Held time is measured twice: in elapsed days
  (24 h each) and in business days (only the time that falls on jours ouvrés of the
  administration's calendar counts, a partial day by its fraction: a consultation sent on
  Friday at noon and answered on Monday at noon held the item 3 days, 1 business day).
- A week is an ISO week in the reporting zone (``2026-W23``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from zoneinfo import ZoneInfo

from accelerator.sla.calendars import WorkingCalendar
from accelerator.sla.clocks import PauseFact, merge_pauses
from accelerator.sla.durations import ONE_DAY

#: The zone in which weeks and the period's days are cut (the préfecture's).
REPORTING_ZONE = ZoneInfo("Europe/Paris")
DAY_SECONDS = 86_400.0


class Outcome(StrEnum):
    """Where a consultation stands for the figures."""

    OPEN = "open"
    ANSWERED = "answered"
    TACIT = "tacit"
    CANCELLED = "cancelled"


def iso_week(instant: dt.datetime, zone: ZoneInfo = REPORTING_ZONE) -> str:
    """The ISO week of ``instant`` in ``zone``: ``2026-W05``."""
    year, week, _ = instant.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


def iso_day(instant: dt.datetime, zone: ZoneInfo = REPORTING_ZONE) -> str:
    """The day of ``instant`` in ``zone``: ``2026-01-30`` (ISO order: it sorts as it runs)."""
    return instant.astimezone(zone).date().isoformat()


def iso_weeks(start: dt.datetime, end: dt.datetime, zone: ZoneInfo = REPORTING_ZONE) -> list[str]:
    """The ISO weeks ``[start, end)`` touches in ``zone``, in order (none if it is empty)."""
    if end <= start:
        return []
    day = start.astimezone(zone).date()
    monday = day - dt.timedelta(days=day.weekday())
    last = (end - dt.timedelta(microseconds=1)).astimezone(zone).date()
    weeks = []
    while monday <= last:
        year, week, _ = monday.isocalendar()
        weeks.append(f"{year}-W{week:02d}")
        monday += dt.timedelta(days=7)
    return weeks


def procedures_key(procedures: Iterable[str]) -> str:
    """A dossier's procedures as one searchable text: ``,PC,ICPE_E,``."""
    return "," + ",".join(sorted(set(procedures))) + ","


def days(delta: dt.timedelta) -> float:
    """A duration in days of 24 hours."""
    return delta.total_seconds() / DAY_SECONDS


def business_days_in(start: dt.datetime, end: dt.datetime, calendar: WorkingCalendar) -> float:
    """The part of ``[start, end]`` that falls on business days, in days (a whole business
    day counts 1, a partial one its fraction of its 23, 24 or 25 hours; weekends, holidays
    and closures count 0)."""
    start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    if end <= start:
        return 0.0
    first, last = calendar.local_date(start), calendar.local_date(end)

    def share(day: dt.date) -> float:
        if not calendar.is_business_day(day):
            return 0.0
        # In UTC: aware datetimes of one zone subtract as wall times (a DST day has 24 h).
        begin = calendar.local_midnight(day).astimezone(dt.UTC)
        finish = calendar.local_midnight(day + ONE_DAY).astimezone(dt.UTC)
        covered = min(end, finish) - max(start, begin)
        return max(covered.total_seconds(), 0.0) / (finish - begin).total_seconds()

    if first == last:
        return share(first)
    return share(first) + share(last) + calendar.count_counted_days(first + ONE_DAY, last - ONE_DAY)


@dataclass(frozen=True)
class Held:
    """How a consultation's time splits between the administration and the holder."""

    #: Waiting-for-holder time in windows closed by ``end`` (days).
    waiting_days: float
    #: Start of the waiting window still open at ``end`` (None: not waiting).
    waiting_since: dt.datetime | None
    #: The stretches the administration held the item.
    segments: tuple[tuple[dt.datetime, dt.datetime], ...]


def held(
    sent_at: dt.datetime,
    end: dt.datetime,
    waiting: Sequence[tuple[dt.datetime, dt.datetime | None]],
    *,
    finished: bool,
) -> Held:
    """The held stretches of ``[sent_at, end]`` once the waiting windows are taken out.

    A window still open ends at ``end`` if the consultation is finished (an opinion given
    while waiting ends the wait), else it is reported as ``waiting_since``.
    """
    sent_at, end = sent_at.astimezone(dt.UTC), end.astimezone(dt.UTC)
    windows = merge_pauses(
        [PauseFact("waiting", start, stop) for start, stop in waiting],
        until=end if finished else None,
    )
    segments: list[tuple[dt.datetime, dt.datetime]] = []
    cursor, waited, since = sent_at, 0.0, None
    for window in windows:
        start = max(window.start, sent_at)
        if start >= end:
            break
        if window.end is None:
            since = start
            stop = end
        else:
            stop = min(window.end, end)
            if stop <= cursor:
                continue
            waited += days(stop - max(start, cursor))
        if start > cursor:
            segments.append((cursor, start))
        cursor = max(cursor, stop)
    if cursor < end:
        segments.append((cursor, end))
    return Held(waited, since, tuple(segments))


@dataclass(frozen=True)
class ConsultationHistory:
    """What the source rows say about one consultation."""

    outcome: Outcome
    sent_at: dt.datetime
    #: The opinion (tacit included) or cancellation instant; None while open.
    finished_at: dt.datetime | None
    waiting: Sequence[tuple[dt.datetime, dt.datetime | None]]
    legal_due_at: dt.datetime | None
    target_due_at: dt.datetime | None
    target_risk_at: dt.datetime | None


@dataclass(frozen=True)
class Derived:
    """The figures' facts of one consultation (``models.ConsultationFact``'s columns)."""

    sent_week: str
    finished_week: str | None
    sent_day: str
    finished_day: str | None
    held_days: float | None
    held_business_days: float | None
    elapsed_days: float | None
    waiting_days: float
    waiting_since: dt.datetime | None
    on_time_legal: bool | None
    on_time_target: bool | None
    lateness_days: float | None
    lateness_business_days: float | None


def _utc(instant: dt.datetime | None) -> dt.datetime | None:
    return None if instant is None else instant.astimezone(dt.UTC)


def derive(history: ConsultationHistory, calendar: WorkingCalendar, *, now: dt.datetime) -> Derived:
    """The facts of one consultation as of ``now``, in its administration's ``calendar``."""
    # In UTC: two datetimes of one zone subtract as wall times (a DST night would count 24 h).
    history = replace(
        history,
        sent_at=history.sent_at.astimezone(dt.UTC),
        finished_at=_utc(history.finished_at),
        legal_due_at=_utc(history.legal_due_at),
        target_due_at=_utc(history.target_due_at),
    )
    finished = history.finished_at
    end = finished or now
    split = held(history.sent_at, end, history.waiting, finished=finished is not None)
    judged = history.outcome in (Outcome.ANSWERED, Outcome.TACIT) and finished is not None
    held_days = held_business = elapsed = None
    on_time_legal = on_time_target = None
    late = late_business = None
    if finished is not None:
        held_days = sum(days(b - a) for a, b in split.segments)
        held_business = sum(business_days_in(a, b, calendar) for a, b in split.segments)
        elapsed = days(finished - history.sent_at)
    if judged and finished is not None:
        legal, target = history.legal_due_at, history.target_due_at
        on_time_legal = (
            history.outcome is Outcome.ANSWERED and legal is not None and finished <= legal
        )
        on_time_target = target is not None and finished <= target
        if target is not None and finished > target:
            late = days(finished - target)
            late_business = business_days_in(target, finished, calendar)
    return Derived(
        sent_week=iso_week(history.sent_at),
        finished_week=iso_week(finished) if finished is not None else None,
        sent_day=iso_day(history.sent_at),
        finished_day=iso_day(finished) if finished is not None else None,
        held_days=held_days,
        held_business_days=held_business,
        elapsed_days=elapsed,
        waiting_days=split.waiting_days,
        waiting_since=split.waiting_since,
        on_time_legal=on_time_legal,
        on_time_target=on_time_target,
        lateness_days=late,
        lateness_business_days=late_business,
    )
