"""Clock projection as a pure function: facts (anchor, budget, pauses, stop) → deadline,
rung instants and an explainable timeline.

Pause effects (chosen per deadline definition):
- suspension: on resumption the clock goes on with the time that was left when it paused
  (counted in the clock's unit; months are counted in calendar days once paused);
- interruption: on resumption the whole budget starts again from the resumption instant.
Overlapping pauses count once (their union is what pauses the clock); a pause that begins
after the deadline changes nothing (the outcome is already acquired).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from accelerator.shared.text import t
from accelerator.sla.calendars import WorkingCalendar
from accelerator.sla.durations import (
    ONE_DAY,
    Duration,
    Unit,
    add,
    add_business_time,
    between,
    business_seconds,
)


class PauseEffect(StrEnum):
    """What a request for missing documents does to a clock."""

    SUSPENSION = "suspension"
    INTERRUPTION = "interruption"


@dataclass(frozen=True)
class PauseFact:
    """One reason a clock was paused."""

    reason: str
    started_at: dt.datetime
    ended_at: dt.datetime | None


@dataclass(frozen=True)
class ClockFacts:
    """Everything a clock's deadline derives from."""

    anchor: dt.datetime
    budget: Duration
    calendar: WorkingCalendar
    prorogation: bool = False
    pause_effect: PauseEffect | None = None
    pauses: Sequence[PauseFact] = ()
    stopped_at: dt.datetime | None = None


@dataclass(frozen=True)
class Window:
    """A merged pause window and the reasons that held it."""

    start: dt.datetime
    end: dt.datetime | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Projection:
    """What the facts imply."""

    #: None while paused (the deadline is unknown until the clock resumes).
    deadline: dt.datetime | None
    #: Where the current budget is counted from (after the last interruption).
    counting_from: dt.datetime
    paused: bool
    windows: tuple[Window, ...]
    #: Explanation steps in French.
    steps: tuple[str, ...] = field(default=())
    #: While paused: the budget that will count from the resumption (what was left when it
    #: paused, or the whole budget after an interruption). Hours are rounded up: it is shown,
    #: never used to compute a deadline.
    left_on_resume: Duration | None = None


def merge_pauses(pauses: Sequence[PauseFact], *, until: dt.datetime | None) -> list[Window]:
    """Union of pause intervals (overlaps count once); open pauses end at ``until`` if given."""
    items = sorted(
        (p.started_at.astimezone(dt.UTC), _end(p.ended_at, until), p.reason) for p in pauses
    )
    windows: list[Window] = []
    for start, end, reason in items:
        if windows and (windows[-1].end is None or start <= windows[-1].end):
            last = windows[-1]
            merged_end = None if last.end is None or end is None else max(last.end, end)
            reasons = last.reasons if reason in last.reasons else (*last.reasons, reason)
            windows[-1] = Window(last.start, merged_end, reasons)
        else:
            windows.append(Window(start, end, (reason,)))
    return windows


def _end(ended_at: dt.datetime | None, until: dt.datetime | None) -> dt.datetime | None:
    if ended_at is not None:
        return ended_at.astimezone(dt.UTC)
    return None if until is None else until.astimezone(dt.UTC)


def _days_left(facts: ClockFacts, deadline: dt.datetime, paused_at: dt.datetime) -> Duration:
    """What a suspension at ``paused_at`` keeps of a budget counted in days (months are
    counted in calendar days once paused)."""
    unit = Unit.CALENDAR_DAYS if facts.budget.unit is Unit.MONTHS else facts.budget.unit
    return Duration(int(between(paused_at, deadline, unit, facts.calendar)), unit)


def _resume(
    facts: ClockFacts, deadline: dt.datetime, paused_at: dt.datetime, resumed_at: dt.datetime
) -> dt.datetime:
    """The deadline after a suspension from ``paused_at`` to ``resumed_at``."""
    budget, calendar = facts.budget, facts.calendar
    if budget.unit is Unit.HOURS:
        return deadline + (resumed_at - paused_at)
    if budget.unit is Unit.BUSINESS_HOURS:
        left = dt.timedelta(seconds=business_seconds(paused_at, deadline, calendar))
        return add_business_time(resumed_at, left, calendar)
    left_days = _days_left(facts, deadline, paused_at)
    return add(resumed_at, left_days, calendar, prorogation=facts.prorogation)


def _left_on_resume(facts: ClockFacts, deadline: dt.datetime, paused_at: dt.datetime) -> Duration:
    """The budget that will count from the resumption of a pause that began at ``paused_at``
    (hours rounded up: for display)."""
    if facts.pause_effect is PauseEffect.INTERRUPTION:
        return facts.budget
    if facts.budget.unit is Unit.HOURS:
        seconds = (deadline - paused_at).total_seconds()
        return Duration(math.ceil(max(0.0, seconds) / 3600), Unit.HOURS)
    if facts.budget.unit is Unit.BUSINESS_HOURS:
        seconds = business_seconds(paused_at, deadline, facts.calendar)
        return Duration(math.ceil(max(0.0, seconds) / 3600), Unit.BUSINESS_HOURS)
    return _days_left(facts, deadline, paused_at)


def project(facts: ClockFacts) -> Projection:
    """The deadline implied by the facts, and the pause windows that shaped it."""
    calendar = facts.calendar
    counting_from = facts.anchor.astimezone(dt.UTC)
    deadline = add(counting_from, facts.budget, calendar, prorogation=facts.prorogation)
    windows = merge_pauses(facts.pauses, until=facts.stopped_at)
    steps = [
        t(
            "sla.projection.budget",
            budget=facts.budget.label(),
            start=_local(counting_from, calendar),
        )
    ]
    effective: list[Window] = []
    for window in windows:
        if window.start >= deadline.astimezone(dt.UTC) or facts.pause_effect is None:
            continue
        effective.append(window)
        reasons = ", ".join(window.reasons)
        if window.end is None:
            steps.append(
                t(
                    "sla.projection.paused_since",
                    start=_local(window.start, calendar),
                    reasons=reasons,
                )
            )
            left = _left_on_resume(facts, deadline.astimezone(dt.UTC), window.start)
            return Projection(None, counting_from, True, tuple(effective), tuple(steps), left)
        if facts.pause_effect is PauseEffect.INTERRUPTION:
            counting_from = window.end
            deadline = add(counting_from, facts.budget, calendar, prorogation=facts.prorogation)
            steps.append(
                t(
                    "sla.projection.interrupted",
                    start=_local(window.start, calendar),
                    end=_local(window.end, calendar),
                    reasons=reasons,
                )
            )
        else:
            deadline = _resume(facts, deadline.astimezone(dt.UTC), window.start, window.end)
            steps.append(
                t(
                    "sla.projection.suspended",
                    start=_local(window.start, calendar),
                    end=_local(window.end, calendar),
                    reasons=reasons,
                )
            )
    deadline = deadline.astimezone(calendar.zone)
    steps.append(t("sla.deadline", deadline=deadline.isoformat()))
    return Projection(deadline, counting_from, False, tuple(effective), tuple(steps))


def rung_instant(facts: ClockFacts, projection: Projection, fraction: float) -> dt.datetime | None:
    """When ``fraction`` of the budget is used, counting only time the clock ran.

    Business units consume working time only; others consume elapsed time. Unknown while
    the clock is paused.
    """
    if projection.deadline is None:
        return None
    deadline = projection.deadline.astimezone(dt.UTC)
    if fraction >= 1:
        # A rung past the deadline is measured in elapsed time after it.
        extra = (deadline - projection.counting_from) * (fraction - 1)
        return deadline + extra
    running = _running_segments(projection.counting_from, deadline, projection.windows)
    working = facts.budget.unit in (Unit.BUSINESS_HOURS, Unit.BUSINESS_DAYS, Unit.WORKING_DAYS)
    calendar = facts.calendar

    def measure(start: dt.datetime, end: dt.datetime) -> float:
        if working:
            return business_seconds(start, end, calendar)
        return (end - start).total_seconds()

    target = fraction * sum(measure(s, e) for s, e in running)
    for start, end in running:
        length = measure(start, end)
        if target <= length:
            if working:
                return min(end, add_business_time(start, dt.timedelta(seconds=target), calendar))
            return start + dt.timedelta(seconds=target)
        target -= length
    return deadline


def _running_segments(
    start: dt.datetime, end: dt.datetime, windows: Sequence[Window]
) -> list[tuple[dt.datetime, dt.datetime]]:
    segments, cursor = [], start
    for window in windows:
        if window.end is None or window.end <= cursor or window.start >= end:
            continue
        if window.start > cursor:
            segments.append((cursor, window.start))
        cursor = max(cursor, window.end)
    if cursor < end:
        segments.append((cursor, end))
    return segments


def _local(instant: dt.datetime, calendar: WorkingCalendar) -> str:
    return instant.astimezone(calendar.zone).strftime("%d/%m/%Y %H:%M")


@dataclass(frozen=True)
class Segment:
    """One stretch of a clock's timeline."""

    kind: str  # running | paused | outside_working_hours | holiday | closed | stopped
    start: dt.datetime
    end: dt.datetime
    label: str


def timeline(facts: ClockFacts, projection: Projection, *, now: dt.datetime) -> list[Segment]:
    """Running, paused (reason), outside working hours, holiday (name) segments to ``now``
    (or to the stop), for business-unit clocks; elapsed-time clocks only run or pause."""
    end = (facts.stopped_at or now).astimezone(dt.UTC)
    if projection.deadline is not None:
        end = min(end, max(projection.deadline.astimezone(dt.UTC), facts.anchor))
    start = facts.anchor.astimezone(dt.UTC)
    segments: list[Segment] = []
    cursor = start
    for window in projection.windows:
        window_end = end if window.end is None else min(window.end, end)
        if window.start >= end:
            break
        if window.start > cursor:
            segments.extend(_running(facts, cursor, window.start))
        segments.append(
            Segment("paused", window.start, window_end, "en pause : " + ", ".join(window.reasons))
        )
        cursor = max(cursor, window_end)
    if cursor < end:
        segments.extend(_running(facts, cursor, end))
    return segments


def _running(facts: ClockFacts, start: dt.datetime, end: dt.datetime) -> list[Segment]:
    """Split running time into working / non-working stretches for business units."""
    if facts.budget.unit not in (Unit.BUSINESS_HOURS, Unit.BUSINESS_DAYS, Unit.WORKING_DAYS):
        return [Segment("running", start, end, t("sla.segment.running"))]
    calendar = facts.calendar
    result: list[Segment] = []
    day = calendar.local_date(start)
    cursor = start
    while cursor < end:
        next_midnight = calendar.local_midnight(day + ONE_DAY).astimezone(dt.UTC)
        day_end = min(next_midnight, end)
        holiday = calendar.holiday_name(day) or calendar.closure_name(day)
        if holiday is None and day.isoweekday() >= 6:
            holiday = t("sla.segment.weekend")
        spans = (
            calendar.spans(day)
            if facts.budget.unit is Unit.BUSINESS_HOURS
            else (
                ((cursor, day_end),)
                if calendar.is_business_day(day)
                or (facts.budget.unit is Unit.WORKING_DAYS and calendar.is_working_day(day))
                else ()
            )
        )
        for span_start, span_end in spans:
            s, e = max(span_start, cursor), min(span_end, day_end)
            if e <= s:
                continue
            if s > cursor:
                result.append(_idle(cursor, s, holiday))
            result.append(Segment("running", s, e, t("sla.segment.running")))
            cursor = e
        if cursor < day_end:
            result.append(_idle(cursor, day_end, holiday))
            cursor = day_end
        day += ONE_DAY
    return _merge_same(result)


def _idle(start: dt.datetime, end: dt.datetime, holiday: str | None) -> Segment:
    if holiday:
        return Segment("holiday", start, end, t("sla.segment.holiday", holiday=holiday))
    return Segment("outside_working_hours", start, end, t("sla.segment.outside_hours"))


def _merge_same(segments: list[Segment]) -> list[Segment]:
    merged: list[Segment] = []
    for segment in segments:
        if merged and merged[-1].kind == segment.kind and merged[-1].label == segment.label:
            merged[-1] = Segment(segment.kind, merged[-1].start, segment.end, segment.label)
        else:
            merged.append(segment)
    return merged
