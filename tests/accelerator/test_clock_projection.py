"""Clock projection (pure): suspension vs interruption, overlapping pauses, rungs, timeline."""

from __future__ import annotations

import datetime as dt

import pytest

from accelerator.catalogue.queries import seed_calendars
from accelerator.sla.calendars import WorkingCalendar
from accelerator.sla.clocks import (
    ClockFacts,
    PauseEffect,
    PauseFact,
    project,
    rung_instant,
    timeline,
)
from accelerator.sla.durations import Duration, Unit, add
from tests.factories import paris


@pytest.fixture(scope="module")
def fr() -> WorkingCalendar:
    return seed_calendars()["FR"]


def facts(
    fr: WorkingCalendar,
    effect: PauseEffect | None,
    pauses: list[PauseFact],
    stopped_at: dt.datetime | None = None,
) -> ClockFacts:
    return ClockFacts(
        anchor=paris(2026, 3, 2, 10), budget=Duration(3, Unit.MONTHS), calendar=fr,
        pause_effect=effect, pauses=pauses, stopped_at=stopped_at,
    )  # fmt: skip


REQUEST = PauseFact("pièces manquantes", paris(2026, 3, 10, 10), paris(2026, 3, 20, 15))


def test_suspension_and_interruption_on_the_same_facts(fr: WorkingCalendar) -> None:
    # 3 months from Monday 2 March 2026: last day 2 June, deadline 3 June 00:00.
    assert project(facts(fr, None, [])).deadline == paris(2026, 6, 3)
    # Interruption: the full 3 months start again on 20 March → last day 20 June.
    interrupted = project(facts(fr, PauseEffect.INTERRUPTION, [REQUEST]))
    assert interrupted.deadline == paris(2026, 6, 21)
    assert interrupted.counting_from == paris(2026, 3, 20, 15)
    # Suspension: on 10 March, the days left were 11 March..2 June = 84 days;
    # 84 days after 20 March → 12 June, deadline 13 June 00:00.
    suspended = project(facts(fr, PauseEffect.SUSPENSION, [REQUEST]))
    assert suspended.deadline == paris(2026, 6, 13)


def test_overlapping_pauses_count_once(fr: WorkingCalendar) -> None:
    overlapping = [
        PauseFact("pièces", paris(2026, 3, 10, 10), paris(2026, 3, 20, 15)),
        PauseFact("avis ABF", paris(2026, 3, 15, 9), paris(2026, 3, 25, 9)),
    ]
    union = [PauseFact("union", paris(2026, 3, 10, 10), paris(2026, 3, 25, 9))]
    for effect in PauseEffect:
        assert (
            project(facts(fr, effect, overlapping)).deadline
            == project(facts(fr, effect, union)).deadline
        )
    [window] = project(facts(fr, PauseEffect.SUSPENSION, overlapping)).windows
    assert window.reasons == ("pièces", "avis ABF")


def test_the_clock_resumes_when_its_last_pause_ends(fr: WorkingCalendar) -> None:
    still_open = [REQUEST, PauseFact("autre", paris(2026, 3, 15, 9), None)]
    projection = project(facts(fr, PauseEffect.SUSPENSION, still_open))
    assert projection.paused and projection.deadline is None


def test_stopping_while_paused_books_the_last_pause(fr: WorkingCalendar) -> None:
    open_pause = [PauseFact("pièces", paris(2026, 3, 10, 10), None)]
    stopped = facts(fr, PauseEffect.SUSPENSION, open_pause, stopped_at=paris(2026, 3, 20, 15))
    projection = project(stopped)
    assert not projection.paused
    assert projection.windows[0].end == paris(2026, 3, 20, 15)
    assert projection.deadline == paris(2026, 6, 13)


def test_a_pause_after_the_deadline_changes_nothing(fr: WorkingCalendar) -> None:
    late = [PauseFact("trop tard", paris(2026, 7, 1, 10), paris(2026, 7, 5, 10))]
    assert project(facts(fr, PauseEffect.INTERRUPTION, late)).deadline == paris(2026, 6, 3)


def test_a_pause_spanning_a_weekend_in_business_hours(fr: WorkingCalendar) -> None:
    # 20 business hours from Monday 1 June 2026 10:00 → Thursday 4 June 12:00.
    budget = Duration(20, Unit.BUSINESS_HOURS)
    plain = ClockFacts(paris(2026, 6, 1, 10), budget, fr, pause_effect=PauseEffect.SUSPENSION)
    assert project(plain).deadline == paris(2026, 6, 4, 12)
    # Paused Wednesday 15:00 to Monday 10:00: 15 hours used, 5 left → Monday 8 June 17:00.
    weekend = [PauseFact("pièces", paris(2026, 6, 3, 15), paris(2026, 6, 8, 10))]
    paused = ClockFacts(
        paris(2026, 6, 1, 10), budget, fr, pause_effect=PauseEffect.SUSPENSION, pauses=weekend
    )
    assert project(paused).deadline == paris(2026, 6, 8, 17)
    kinds = [s.kind for s in timeline(paused, project(paused), now=paris(2026, 6, 9))]
    assert kinds[:2] == ["running", "outside_working_hours"]
    assert "paused" in kinds


def test_rungs_count_only_running_time(fr: WorkingCalendar) -> None:
    # 10 business hours from Monday 1 June 2026 09:00: Monday 6 h, Tuesday 9-12 and 14-15
    # → Tuesday 15:00; half (5 h) = Monday 16:00.
    budget = Duration(10, Unit.BUSINESS_HOURS)
    plain = ClockFacts(paris(2026, 6, 1, 9), budget, fr)
    projection = project(plain)
    assert projection.deadline == paris(2026, 6, 2, 15)
    assert rung_instant(plain, projection, 0.5) == paris(2026, 6, 1, 16)
    assert rung_instant(plain, projection, 1.0) == paris(2026, 6, 2, 15)
    # Suspended Monday 10:00-16:00: 1 h used, 9 h left from 16:00 → Wednesday 11:00.
    # Half-time (5 h of running time): 1 h before the pause, 4 h after → Tuesday 12:00.
    paused = ClockFacts(
        paris(2026, 6, 1, 9), budget, fr, pause_effect=PauseEffect.SUSPENSION,
        pauses=[PauseFact("pièces", paris(2026, 6, 1, 10), paris(2026, 6, 1, 16))],
    )  # fmt: skip
    moved = project(paused)
    assert moved.deadline == paris(2026, 6, 3, 11)
    assert rung_instant(paused, moved, 0.5) == paris(2026, 6, 2, 12)


def test_the_timeline_names_holidays(fr: WorkingCalendar) -> None:
    clock = ClockFacts(paris(2026, 4, 30, 16), Duration(4, Unit.BUSINESS_HOURS), fr)
    projection = project(clock)
    # Thursday 30 April 16-17, Friday 1 May is a holiday, weekend, Monday 4 May 09-12.
    assert projection.deadline == paris(2026, 5, 4, 12)
    labels = [s.label for s in timeline(clock, projection, now=paris(2026, 5, 10))]
    assert "jour non ouvré : Fête du Travail" in labels
    assert "jour non ouvré : fin de semaine" in labels


@pytest.mark.parametrize(
    "budget",
    [
        Duration(3, Unit.MONTHS),
        Duration(2, Unit.MONTHS),
        Duration(15, Unit.BUSINESS_DAYS),
        Duration(40, Unit.CALENDAR_DAYS),
        Duration(10, Unit.WORKING_DAYS),
    ],
)
@pytest.mark.parametrize("paused_on", [3, 10, 13, 27])
def test_a_paused_clock_says_what_will_count_from_the_answer(
    fr: WorkingCalendar, budget: Duration, paused_on: int
) -> None:
    paused_at = paris(2026, 3, paused_on, 16)
    for resumed_at in (paris(2026, 4, 7, 9), paris(2026, 4, 30, 17)):

        def clock(ended: dt.datetime | None, effect: PauseEffect) -> ClockFacts:
            return ClockFacts(
                anchor=paris(2026, 3, 2, 10), budget=budget, calendar=fr, pause_effect=effect,
                pauses=[PauseFact("pièces", paused_at, ended)],
            )  # fmt: skip

        paused = project(clock(None, PauseEffect.SUSPENSION))
        unpaused = add(paris(2026, 3, 2, 10), budget, fr)
        if paused_at >= unpaused:
            # A request after the deadline pauses nothing: nothing to say.
            assert not paused.paused and paused.left_on_resume is None
            continue
        # Suspension: what is left when it paused, in days (months in calendar days once
        # paused), is exactly what the deadline counts from the resumption.
        assert paused.paused and paused.deadline is None and paused.left_on_resume is not None
        resumed = project(clock(resumed_at, PauseEffect.SUSPENSION))
        assert resumed.left_on_resume is None
        expected_unit = Unit.CALENDAR_DAYS if budget.unit is Unit.MONTHS else budget.unit
        assert paused.left_on_resume.unit is expected_unit
        assert resumed.deadline == add(resumed_at, paused.left_on_resume, fr)
        # Interruption: the whole budget.
        interrupted = project(clock(None, PauseEffect.INTERRUPTION))
        assert interrupted.left_on_resume == budget
        assert project(clock(resumed_at, PauseEffect.INTERRUPTION)).deadline == add(
            resumed_at, budget, fr
        )


def test_the_days_left_of_a_three_month_clock_paused_on_10_march(fr: WorkingCalendar) -> None:
    # As the first test: on 10 March the days left were 11 March..2 June = 84 days.
    paused = project(
        facts(fr, PauseEffect.SUSPENSION, [PauseFact("pièces", REQUEST.started_at, None)])
    )
    assert paused.left_on_resume == Duration(84, Unit.CALENDAR_DAYS)


def test_hours_left_are_rounded_up(fr: WorkingCalendar) -> None:
    pause = PauseFact("pièces", paris(2026, 3, 2, 15, 30), None)
    paused = project(
        ClockFacts(
            anchor=paris(2026, 3, 2, 10),
            budget=Duration(24, Unit.HOURS),
            calendar=fr,
            pause_effect=PauseEffect.SUSPENSION,
            pauses=[pause],
        )
    )
    assert paused.left_on_resume == Duration(19, Unit.HOURS)  # 18 h 30 left
