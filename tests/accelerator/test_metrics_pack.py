"""The weekly review pack against the hand-computed history of tests/metrics_dataset.py:
its week's bounds, its figures for two weeks of that story, its late and at-risk list."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accelerator.metrics import pack
from accelerator.metrics.pack import Week, build_pack, parse_week
from accelerator.shared.errors import InvalidInput
from tests.factories import paris
from tests.metrics_dataset import NOW, History, build

approx = pytest.approx


@pytest.fixture
def history(db: Any) -> History:
    return build(db)


def built(db: Any, week: str, now: dt.datetime = NOW) -> pack.WeeklyPack:
    with db.transaction(read_only=True) as session:
        return build_pack(session, parse_week(week), now=now)


def test_a_week_runs_from_monday_midnight_to_the_next_in_paris() -> None:
    week = parse_week("2026-W48")
    assert (week.first_day, week.last_day) == (dt.date(2026, 11, 23), dt.date(2026, 11, 29))
    assert week.start == paris(2026, 11, 23)
    assert week.start.astimezone(dt.UTC) == dt.datetime(2026, 11, 22, 23, 0, tzinfo=dt.UTC)
    # The week of the October clock change (Sunday 25/10) lasts 169 hours.
    autumn = parse_week("2026-W43")
    utc = autumn.end.astimezone(dt.UTC) - autumn.start.astimezone(dt.UTC)
    assert utc == dt.timedelta(hours=169)
    assert str(parse_week("2027-W01").previous()) == "2026-W53"
    # Sunday 23:30 in Paris (22:30 UTC) is still in the week.
    assert str(pack.week_of(paris(2026, 11, 29, 23, 30))) == "2026-W48"
    assert str(pack.last_complete_week(paris(2026, 11, 30, 7))) == "2026-W48"
    assert [str(w) for w in pack.recent_weeks(paris(2026, 1, 7), 3)] == [
        "2026-W01",
        "2025-W52",
        "2025-W51",
    ]


@given(
    st.datetimes(
        min_value=dt.datetime(2000, 1, 10),  # noqa: DTZ001 - Hypothesis bounds are naive
        max_value=dt.datetime(2100, 12, 20),  # noqa: DTZ001
        timezones=st.sampled_from([dt.UTC, pack.REPORTING_ZONE]),
    )
)
def test_every_instant_falls_in_one_week_that_reads_back(instant: dt.datetime) -> None:
    week = pack.week_of(instant)
    assert week.start <= instant < week.end
    assert week.start.astimezone(pack.REPORTING_ZONE).time() == dt.time(0)
    assert week.first_day.weekday() == 0
    assert parse_week(str(week)) == week
    assert week.previous().end == week.start
    assert pack.last_complete_week(instant).end <= instant
    due = pack.due_week(instant)
    assert due in (pack.last_complete_week(instant), pack.last_complete_week(instant).previous())


@pytest.mark.parametrize(
    "text", ["2026-48", "2026-W5", "2026W48", "26-W48", "2026-w48", "2026-W48-1", "", "semaine"]
)
def test_a_week_is_read_strictly(text: str) -> None:
    with pytest.raises(InvalidInput, match="AAAA-Wnn"):
        parse_week(text)


def test_a_week_the_year_does_not_have_is_refused() -> None:
    assert parse_week("2026-W53") == Week(2026, 53)  # 2026 has 53 ISO weeks
    for text in ("2025-W53", "2026-W00", "2026-W54"):
        with pytest.raises(InvalidInput, match="inexistante"):
            parse_week(text)


def test_a_week_not_begun_is_refused(db: Any) -> None:
    with db.transaction(read_only=True) as session, pytest.raises(InvalidInput, match="W31"):
        build_pack(session, parse_week("2026-W31"), now=NOW)


def test_the_pack_of_a_week_of_opinions_and_closed_cycles(db: Any, history: History) -> None:
    # 2026-W24 (8–14 June): A's SDIS and DDT opinions, B's tie; cycles A and B1 close.
    week = built(db, "2026-W24")
    assert week.complete and week.as_of == paris(2026, 6, 15)
    rows = {a.code: a for a in week.administrations}
    # SDIS: A (1/06 10:00 → 8/06 10:00) and B (4/06 9:00 → 11/06 9:00), 7 days each.
    assert (rows["SDIS-65"].n, rows["SDIS-65"].p50_days, rows["SDIS-65"].p90_days) == (
        2,
        approx(7.0),
        approx(7.0),
    )
    # DDT: 9 days elapsed, 2 waiting for the holder.
    assert (rows["DDT-65"].n, rows["DDT-65"].p50_days, rows["DDT-65"].on_time_share) == (
        1,
        approx(7.0),
        1.0,
    )
    # At the week's end only E's UDAP is open, waiting for the holder: nothing late.
    assert {c: (a.open, a.open_breached, a.at_risk) for c, a in rows.items()} == {
        "DDT-65": (0, 0, 0),
        "SDIS-65": (0, 0, 0),
        "UDAP-65": (1, 0, 0),
    }
    assert (week.open_work.late_count, week.open_work.at_risk_count) == (0, 0)
    # Procedures: A answered on 10/06 (9 d 1 h, within its 3 months); B's answer of 11/06
    # was taken back by its second cycle. Waiting at the week's end: B and E.
    pc = {p.code: p for p in week.procedures}["PC"]
    assert (pc.n, pc.actual_p50_days, pc.on_time_share, pc.open) == (
        1, approx(9 + 1 / 24, abs=1e-3), 1.0, 2,
    )  # fmt: skip
    # Gating: DDT last on A by 2 days; UDAP and SDIS tie on B1. DDT gates the most delay.
    assert week.gating_administration is not None
    assert (week.gating_administration.code, week.gating_administration.total_delay_days) == (
        "DDT-65",
        approx(2.0),
    )
    # Parallel gain: A (4 + 7 + 9 = 20 vs 9) and B1 (7 + 7 vs 7): 34 / 16.
    assert week.parallel_gain.ratio == approx(34 / 16, abs=1e-3)
    # Nobody filed in W24; the flow: four opinions out, nothing sent.
    assert (week.take_charge.filed, week.take_charge.share_within_target) == (0, None)
    assert (week.flow.arrivals, week.flow.completions, week.flow.net_flow) == (0, 4, -4)
    assert week.name("DDT-65") != "DDT-65"  # the catalogue's name


def test_the_take_in_charge_of_the_week_filed(db: Any, history: History) -> None:
    # 2026-W23: A taken in 1 h, B in 48 h (late): half within 24 h; p90 = 1 + 0.9 × 47.
    take = built(db, "2026-W23").take_charge
    assert (take.filed, take.taken, take.within_target) == (2, 2, 1)
    assert take.share_within_target == approx(0.5)
    assert (take.p50_hours, take.p90_hours) == (approx(24.5), approx(43.3))


def test_the_late_and_at_risk_list_at_the_week_end(db: Any, history: History) -> None:
    # 2026-W29 (13–19 July), observed at Monday 20/07 00:00: C's DDT past its target (8/07);
    # D's SDIS reaches 75 % of its target only at 20/07 02:22; the paused ones (C's PREF,
    # E's UDAP) are neither.
    week = built(db, "2026-W29")
    work = week.open_work
    assert [(i.administration, i.reference is not None) for i in work.late] == [("DDT-65", True)]
    assert work.at_risk == []
    assert work.late[0].dossier_id == str(history.dossiers["C"])
    # The list is what the per-administration counts count.
    rows = {a.code: a for a in week.administrations}
    assert work.late_count == sum(a.open_breached for a in rows.values()) == 1
    assert work.at_risk_count == sum(a.at_risk for a in rows.values()) == 0
    # C's DDT: sent 22/06, its 15-day target ended 8/07 00:00: 12 days past at 20/07 00:00.
    assert work.late[0].days_past_target == approx(12.0)
    # The tacit opinion of 16/07 is the week's only one, neither on time nor in the target.
    assert (rows["SDIS-65"].n, rows["SDIS-65"].on_time_share) == (1, 0.0)
    # G, filed 15/07, still not taken in charge: the week's share is 0, not "no data".
    assert (week.take_charge.filed, week.take_charge.share_within_target) == (1, 0.0)
    # No cycle with two opinions closed: no gating administration; B2 alone gains nothing.
    assert week.gating_administration is None
    assert week.parallel_gain.ratio == approx(1.0)
    # The forecast looks from now at the two running consultations with a deadline.
    assert {f.administration for f in week.forecast} == {"DDT-65", "SDIS-65"}
    assert all(0.0 <= f.breach_probability <= 1.0 for f in week.forecast)


def test_the_running_week_is_partial(db: Any, history: History) -> None:
    # 2026-W30 has begun: observed at now (Monday 20/07 12:00), D's SDIS is at risk.
    week = built(db, "2026-W30")
    assert not week.complete
    assert week.as_of == NOW
    work = week.open_work
    assert [i.consultation_id for i in work.at_risk] == [str(history.consultations["D:SDIS-65"])]
    assert [i.administration for i in work.late] == ["DDT-65"]
    assert {a.code: a.at_risk for a in week.administrations}["SDIS-65"] == 1
