"""Each figure of the managers' summary against the hand-computed history of
tests/metrics_dataset.py (its docstring tells the story; each expected value is worked out
beside it). Durations in days; business days count only jours ouvrés (FR calendar)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from accelerator.metrics import figures, queries
from accelerator.metrics.actions import refresh_facts
from accelerator.metrics.facts import business_days_in, held
from accelerator.metrics.schemas import Filters, SummaryOut
from accelerator.sla.actions import calendar_version
from tests.factories import paris
from tests.metrics_dataset import NOW, History, build

approx = pytest.approx


@pytest.fixture
def history(db: Any) -> History:
    return build(db)


def summary(db: Any, **filters: Any) -> SummaryOut:
    with db.transaction(read_only=True) as session:
        return queries.summary(session, Filters(**filters), now=NOW)


def by_code(rows: list[Any]) -> dict[str, Any]:
    return {row.code: row for row in rows}


def test_percentiles_interpolate_linearly_between_closest_ranks() -> None:
    assert figures.percentiles([2, 4], (50,)) == {50: 3.0}
    assert figures.percentiles(list(range(1, 11)), (90,)) == {90: 9.1}
    assert figures.percentiles([], (50, 90)) == {50: None, 90: None}
    assert figures.share(0, 0) is None


def test_business_days_count_only_the_business_part_of_each_day(db: Any) -> None:
    with db.transaction(read_only=True) as session:
        fr = calendar_version(session, "FR")
    # Friday noon → Monday noon: 3 elapsed days, 1 business day (half Friday, half Monday).
    assert business_days_in(paris(2026, 6, 5, 12), paris(2026, 6, 8, 12), fr) == approx(1.0)
    # 14 July (a Tuesday) is a holiday: Monday 13 → Wednesday 15, midnight to midnight.
    assert business_days_in(paris(2026, 7, 13), paris(2026, 7, 16), fr) == approx(2.0)


def test_waiting_windows_are_taken_out_once_even_when_they_overlap() -> None:
    split = held(
        paris(2026, 6, 1, 10),
        paris(2026, 6, 10, 10),
        [(paris(2026, 6, 2, 10), paris(2026, 6, 4, 10)), (paris(2026, 6, 3), None)],
        finished=True,
    )
    # The second request, never answered, ends with the opinion: one window 2/06 → 10/06.
    assert split.waiting_days == approx(8.0)
    assert sum((b - a).total_seconds() for a, b in split.segments) / 86400 == approx(1.0)


def test_take_in_charge_within_24_hours(db: Any, history: History) -> None:
    take = summary(db).take_charge
    # A 1 h, B 48 h (late), C 11 h, D 0.5 h, E 1 h taken; F pending; G past its 24 h.
    assert (take.filed, take.taken, take.within_target) == (7, 5, 4)
    assert (take.late_pending, take.pending) == (1, 1)
    # 4 within / (5 taken + 1 late pending); F (unknown yet) is not counted.
    assert take.share_within_target == approx(0.667)
    # Sorted hours 0.5, 1, 1, 11, 48: the median is a tie; p90 at rank 3.6: 11 + 0.6 × 37.
    assert take.p50_hours == approx(1.0)
    assert take.p90_hours == approx(33.2)


def test_delays_per_administration_exclude_waiting_for_the_holder(
    db: Any, history: History
) -> None:
    rows = by_code(summary(db).administrations)
    assert set(rows) == {"DDT-65", "PREF-65", "SDIS-65", "UDAP-65"}
    ddt = rows["DDT-65"]
    # Sent Mon 1/06 10:00, answered Wed 10/06 10:00 (9 days), 2 days waiting for the holder.
    # Business: 14/24 + 4 + 1 + 1 + 10/24 = 7, less Tue 10:00 → Thu 10:00 (2) = 5.
    assert (ddt.n, ddt.p50_days, ddt.p95_days) == (1, approx(7.0), approx(7.0))
    assert ddt.p50_business_days == approx(5.0)
    udap = rows["UDAP-65"]
    # A: 4 days (4 business); B: 7 days (Thu 9:00 → Thu 9:00: 15/24 + 1 + 3 + 9/24 = 5).
    assert udap.n == 2
    assert (udap.p50_days, udap.p85_days, udap.p90_days, udap.p95_days) == (
        approx(5.5),
        approx(6.55),
        approx(6.7),
        approx(6.85),
    )
    assert (udap.p50_business_days, udap.p90_business_days) == (approx(4.5), approx(4.9))
    sdis = rows["SDIS-65"]
    # A: 7 (5 business); B cycle 1: 7 (5), a tie; B cycle 2 tacit: Mon 15/06 9:00 → 16/07
    # 00:00 = 30.625 days; business 0.625 + 11 (June) + 10 (July, 14th off) = 21.625.
    assert sdis.n == 3
    assert sdis.p50_days == approx(7.0)
    assert sdis.p85_days == approx(7 + 0.7 * 23.625, abs=1e-3)
    assert sdis.p95_days == approx(7 + 0.9 * 23.625, abs=1e-3)
    assert sdis.p95_business_days == approx(5 + 0.9 * 16.625, abs=1e-3)
    # The tacit opinion is neither on time (silence) nor within the target (15 days): it is
    # 15 days (10 business days) past the target's end, 1/07 00:00.
    assert (sdis.on_time_share, sdis.on_time_target_share, sdis.tacit_share) == (
        approx(0.667),
        approx(0.667),
        approx(0.333),
    )
    assert (sdis.breaches, sdis.lateness_p50_days, sdis.lateness_p90_days) == (
        1,
        approx(15.0),
        approx(15.0),
    )
    assert rows["PREF-65"].n == 0 and rows["PREF-65"].p50_days is None


def test_open_work_breached_and_at_risk(db: Any, history: History) -> None:
    rows = by_code(summary(db).administrations)
    # C's DDT: target 15 days after 22/06 → ended 8/07: breached (legal deadline 23/07 ahead).
    assert (rows["DDT-65"].open, rows["DDT-65"].open_breached, rows["DDT-65"].at_risk) == (1, 1, 0)
    assert rows["DDT-65"].open_legal_breached == 0
    # D's SDIS: target ends 24/07 00:00; 75 % of its 15.6 days used on 19/07.
    assert (rows["SDIS-65"].open, rows["SDIS-65"].open_breached, rows["SDIS-65"].at_risk) == (
        1,
        0,
        1,
    )
    # Waiting for the holder: paused, no deadline, neither breached nor at risk.
    for code in ("PREF-65", "UDAP-65"):
        assert (rows[code].open, rows[code].open_breached, rows[code].at_risk) == (1, 0, 0)


def test_gating_administration_and_parallel_gain(db: Any, history: History) -> None:
    result = summary(db)
    gating = by_code(result.gating)
    # A: DDT last (10/06), 2 days after SDIS (8/06). B cycle 1: UDAP and SDIS tie (0 days).
    # B cycle 2 has a single opinion: no "next one", not in the gating figure.
    assert (gating["DDT-65"].gated, gating["DDT-65"].consulted) == (1, 1)
    assert gating["DDT-65"].share == approx(1.0)
    assert gating["DDT-65"].total_delay_days == approx(2.0)
    for code in ("SDIS-65", "UDAP-65"):
        assert (gating[code].gated, gating[code].consulted, gating[code].share) == (1, 2, 0.5)
        assert gating[code].total_delay_days == approx(0.0)
    # Closed cycles: A (4 + 7 + 9 = 20 vs 9), B1 (14 vs 7), B2 (30.625 vs 30.625).
    gain = result.parallel_gain
    assert (gain.cycles, gain.sum_days, gain.longest_days) == (3, 64.625, 46.625)
    assert result.parallel_gain_ratio == approx(64.625 / 46.625, abs=1e-3)
    assert gain.median_cycle_ratio == approx(2.0)


def procedures(db: Any, **filters: Any) -> dict[str, Any]:
    with db.transaction(read_only=True) as session:
        return by_code(queries.procedures(session, Filters(**filters), now=NOW))


def test_legal_delay_per_procedure_against_the_actual_one(db: Any, history: History) -> None:
    found = procedures(db)
    # PC: 3 months from filing, to the end of the day (A: 01/06 09:00 → 02/09 00:00, 92 d 15 h;
    # B the same from 02/06). Answered: A on 10/06 10:00 (9 d 1 h), B on 16/07 00:00 after
    # its second cycle (43 d 15 h), both by their deadline. D, E, F, G still without an answer.
    pc = found["PC"]
    assert (pc.n, pc.open, pc.open_past_legal) == (2, 4, 0)
    assert pc.legal_p50_days == approx(92.625)
    assert pc.actual_p50_days == approx((9 + 1 / 24 + 43.625) / 2, abs=1e-3)
    assert pc.actual_p90_days == approx(9 + 1 / 24 + 0.9 * (43.625 - 9 - 1 / 24), abs=1e-3)
    assert pc.on_time_share == approx(1.0)
    # DP: C, 1 month from 22/06 09:00 (due 23/07 00:00), open and not yet late at NOW.
    dp = found["DP"]
    assert (dp.n, dp.open, dp.open_past_legal, dp.actual_p50_days) == (0, 1, 0, None)
    # Observed at 01/07: A answered by then; B's answer (16/07) came later: still waiting
    # then, as E and C were; D, F and G not filed yet.
    july = procedures(db, end=paris(2026, 7, 1))
    assert (july["PC"].n, july["PC"].open, july["DP"].open) == (1, 2, 1)
    # Observed after C's deadline (23/07 00:00), C is past it.
    with db.transaction(read_only=True) as session:
        later = by_code(queries.procedures(session, Filters(), now=paris(2026, 7, 23, 0, 1)))
    assert (later["DP"].open, later["DP"].open_past_legal) == (1, 1)
    # The administration: the dossiers it was consulted on (UDAP: A, B, E).
    udap = procedures(db, administration="UDAP-65")
    assert set(udap) == {"PC"} and (udap["PC"].n, udap["PC"].open) == (2, 1)
    # A second cycle: B only. The period selects the answers: from 11/06, B's.
    assert (procedures(db, cycle=2)["PC"].n, procedures(db, cycle=2)["PC"].open) == (1, 0)
    assert procedures(db, start=paris(2026, 6, 11))["PC"].n == 1
    assert set(procedures(db, procedure="DP")) == {"DP"}


def test_a_withdrawn_dossier_leaves_the_procedures_figure(db: Any, history: History) -> None:
    from accelerator.consultations.actions import withdraw_dossier
    from tests.factories import user

    before = procedures(db)["PC"].open
    holder = user(db, "holder@f.test")
    with db.transaction() as session:
        withdraw_dossier(
            session, dossier_id=history.dossiers["E"], reason="Projet abandonné", user=holder,
            now=NOW,
        )  # fmt: skip
    with db.transaction() as session:
        refresh_facts(session, now=NOW)
    assert procedures(db)["PC"].open == before - 1


def test_work_in_progress_by_age(db: Any, history: History) -> None:
    wip = by_code(summary(db).work_in_progress)
    # E's UDAP sent 4/05: 77 days old; the others under 30.
    assert (wip["UDAP-65"].days_61_90, wip["UDAP-65"].total) == (1, 1)
    for code in ("DDT-65", "PREF-65", "SDIS-65"):
        assert (wip[code].days_0_30, wip[code].total) == (1, 1)


def test_flow_and_cohorts_per_week(db: Any, history: History) -> None:
    result = summary(db)
    flow = {f.week: (f.arrivals, f.completions, f.net_flow) for f in result.flow}
    assert flow == {
        "2026-W19": (1, 0, 1),  # E
        "2026-W23": (5, 1, 4),  # A ×3, B ×2 sent; A's UDAP answered on Friday 5/06
        "2026-W24": (0, 4, -4),  # A's SDIS and DDT, B's tie
        "2026-W25": (1, 0, 1),  # B's second cycle
        "2026-W26": (2, 0, 2),  # C
        "2026-W28": (1, 0, 1),  # D
        "2026-W29": (0, 1, -1),  # the tacit opinion, Thursday 16/07 00:00
    }
    cohorts = {c.week: c for c in result.cohorts}
    assert (cohorts["2026-W23"].sent, cohorts["2026-W23"].answered) == (5, 5)
    assert cohorts["2026-W23"].on_time_share == 1.0
    assert (cohorts["2026-W25"].tacit, cohorts["2026-W25"].on_time_share) == (1, 0.0)
    # Still-open items are counted, never dropped.
    assert [(w, cohorts[w].open) for w in ("2026-W19", "2026-W26", "2026-W28")] == [
        ("2026-W19", 1),
        ("2026-W26", 2),
        ("2026-W28", 1),
    ]


def test_filters(db: Any, history: History) -> None:
    # One administration: its own rows; the take-in-charge of the dossiers it is consulted on.
    ddt = summary(db, administration="DDT-65")
    assert [a.code for a in ddt.administrations] == ["DDT-65"]
    assert [g.code for g in ddt.gating] == ["DDT-65"]
    assert (ddt.take_charge.filed, ddt.take_charge.share_within_target) == (2, 1.0)
    # A procedure: only C is a DP.
    dp = summary(db, procedure="DP")
    assert {a.code: a.open for a in dp.administrations} == {"DDT-65": 1, "PREF-65": 1}
    assert dp.take_charge.filed == 1 and dp.gating == []
    # An arrondissement: only A is in Cauterets (651).
    arr = summary(db, arrondissement="651")
    assert {a.code: a.n for a in arr.administrations} == {"DDT-65": 1, "SDIS-65": 1, "UDAP-65": 1}
    assert arr.parallel_gain_ratio == approx(20 / 9, abs=1e-3)
    # The second cycle: B's tacit SDIS opinion only; no take-in-charge in a second cycle.
    second = summary(db, cycle=2)
    assert [(a.code, a.n, a.tacit_share) for a in second.administrations] == [("SDIS-65", 1, 1.0)]
    assert second.take_charge.filed == 0 and second.take_charge_within_24h_share is None
    # A period (8/06 → 14/06): opinions given in it; open work seen at its end.
    week = summary(db, start=paris(2026, 6, 8), end=paris(2026, 6, 15))
    assert {a.code: a.n for a in week.administrations} == {"DDT-65": 1, "SDIS-65": 2, "UDAP-65": 1}
    assert by_code(week.administrations)["UDAP-65"].open == 1  # E, waiting since May
    assert [f.week for f in week.flow] == ["2026-W24"]
    assert week.as_of == paris(2026, 6, 15).isoformat()


def test_figures_follow_new_opinions_after_a_refresh(db: Any, history: History) -> None:
    from accelerator.metrics.actions import refresh_facts, stale_consultations
    from tests.metrics_dataset import opinion

    opinion(db, history.consultations["D:SDIS-65"], "SDIS-65", paris(2026, 7, 20, 11))
    with db.transaction() as session:
        assert stale_consultations(session, limit=10) == [history.consultations["D:SDIS-65"]]
        refresh_facts(session, now=NOW)
        assert stale_consultations(session, limit=10) == []
    sdis = by_code(summary(db).administrations)["SDIS-65"]
    assert (sdis.n, sdis.open, sdis.at_risk) == (4, 0, 0)


def test_lateness_across_a_clock_change_counts_real_hours() -> None:
    """Deadlines derived in the calendar's zone subtract as wall times in Python: the facts
    are computed in UTC (25 October 2026 has 25 hours in Paris)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from accelerator.metrics.facts import ConsultationHistory, Outcome, derive
    from accelerator.sla.calendars import WorkingCalendar

    paris = ZoneInfo("Europe/Paris")
    target = dt.datetime(2026, 10, 20, 0, 0, tzinfo=paris)
    finished = dt.datetime(2026, 10, 30, 0, 0, tzinfo=paris)
    calendar = WorkingCalendar.from_spec("FR", "Europe/Paris", {})
    derived = derive(
        ConsultationHistory(
            outcome=Outcome.ANSWERED,
            sent_at=dt.datetime(2026, 10, 1, 9, 0, tzinfo=paris),
            finished_at=finished,
            waiting=[],
            legal_due_at=None,
            target_due_at=target,
            target_risk_at=None,
        ),
        calendar,
        now=finished,
    )
    assert derived.lateness_days == 10 + 1 / 24


def test_the_observation_instant_is_given_in_paris_time_whatever_the_clock(
    db: Any, history: History
) -> None:
    # The pages show it as it comes ("observé au 20 juillet 2026 à 12:00"): never in UTC.
    utc = NOW.astimezone(dt.UTC)
    with db.transaction(read_only=True) as session:
        found = queries.summary(session, Filters(), now=utc)
        late = queries.open_work(session, Filters(), now=utc)
    assert found.as_of == late.as_of == "2026-07-20T12:00:00+02:00"
