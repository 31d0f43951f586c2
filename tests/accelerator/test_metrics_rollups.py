"""The rollups (``metrics.rollups``) say what the facts say: cells kept in step by the
refresh equal cells rebuilt from scratch; any period and filters read from cells and partial
weeks count exactly what the facts hold; percentiles read from sketches stay within
``sketch.ALPHA`` of the exact ones."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections import Counter
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from accelerator.metrics import queries, rollups, sketch
from accelerator.metrics.actions import refresh_facts
from accelerator.metrics.models import ConsultationFact, DossierFact, MetricsRollup
from accelerator.metrics.schemas import Filters
from tests.factories import paris
from tests.metrics_dataset import NOW, History, build, opinion

durations = st.lists(
    st.floats(min_value=0.0, max_value=400.0, allow_nan=False), min_size=1, max_size=300
)


@settings(max_examples=200, deadline=None)
@given(values=durations)
def test_sketch_percentiles_stay_within_alpha_of_the_exact_ones(values: list[float]) -> None:
    buckets, counts = sketch.merged([sketch.dumps(sketch.of(values))])
    found = sketch.percentiles(buckets, counts, (0, 50, 85, 90, 95, 100))
    for level, value in found.items():
        exact = float(np.percentile(values, level, method="linear"))
        assert value is not None
        assert abs(value - exact) <= sketch.ALPHA * exact + sketch.ZERO


@given(values=durations, removed=st.integers(min_value=0, max_value=300))
def test_sketches_add_and_subtract(values: list[float], removed: int) -> None:
    kept, gone = values[removed:], values[:removed]
    whole = sketch.of(values)
    for bucket, n in sketch.of(gone).items():
        whole[bucket] -= n
    assert sketch.dumps(whole) == sketch.dumps(sketch.of(kept))
    assert sketch.loads(sketch.dumps(whole)) == +sketch.of(kept)
    split = [sketch.dumps(sketch.of(kept[:3])), sketch.dumps(sketch.of(kept[3:])), None]
    assert [a.tolist() for a in sketch.merged(split)] == [
        a.tolist() for a in sketch.merged([sketch.dumps(sketch.of(kept))])
    ]


def _cells(db: Any) -> dict[str, tuple[Any, ...]]:
    with db.transaction(read_only=True) as session:
        return {
            row.key: (
                *(getattr(row, c) for c in rollups.COUNTS),
                *(sketch.loads(getattr(row, s)) for s in rollups.SKETCHES),
            )
            for row in session.scalars(select(MetricsRollup))
        }


@pytest.fixture
def history(db: Any) -> History:
    return build(db)


def test_cells_kept_in_step_equal_cells_rebuilt(db: Any, history: History) -> None:
    # New opinions replace open facts: their contributions move between cells.
    opinion(db, history.consultations["D:SDIS-65"], "SDIS-65", paris(2026, 7, 20, 11))
    opinion(db, history.consultations["C:DDT-65"], "DDT-65", paris(2026, 7, 20, 11, 30))
    with db.transaction() as session:
        assert refresh_facts(session, now=NOW) == 2
    kept = _cells(db)
    assert kept
    with db.transaction() as session:
        rollups.rebuild(session)
    assert _cells(db) == kept
    # A database upgraded to the rollups: facts without cells are rolled up at the next refresh.
    with db.transaction() as session:
        session.query(MetricsRollup).delete()
        assert rollups.missing(session)
        refresh_facts(session, now=NOW)
        assert not rollups.missing(session)
    assert _cells(db) == kept


def test_a_bulk_refresh_marks_the_cells_pending_and_rebuilds_them_once_nothing_is_stale(
    db: Any, history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    from accelerator.consultations.models import Consultation
    from accelerator.metrics import actions

    with db.transaction() as session:
        refresh_facts(session, now=NOW)
        rollups.rebuild(session)
    rebuilt = _cells(db)
    # Every consultation changed at once (an upgrade, a bulk load): past the threshold the
    # batches leave the cells alone, each in its own transaction, as the sweep runs them.
    monkeypatch.setattr(actions, "REBUILD_AFTER", 4)
    with db.transaction() as session:
        session.query(Consultation).update({Consultation.version: Consultation.version + 1})
    with db.transaction() as session:
        assert actions.refresh_batch(session, now=NOW, batch=2) == 2
        assert rollups.pending(session)
    # The process dies here; meanwhile an opinion arrives. The next refreshes go on in bulk
    # (the mark is in the database, not in the dead process) and rebuild at the end.
    opinion(db, history.consultations["D:SDIS-65"], "SDIS-65", paris(2026, 7, 20, 11))
    while True:
        with db.transaction() as session:
            if not actions.refresh_batch(session, now=NOW, batch=2):
                break
            assert rollups.pending(session)
    with db.transaction(read_only=True) as session:
        assert not rollups.pending(session)
        assert not actions.stale_consultations(session, limit=1)
    kept = _cells(db)
    assert kept != rebuilt  # the opinion moved its consultation between cells
    with db.transaction() as session:
        rollups.rebuild(session)
    assert _cells(db) == kept


def test_an_administration_consulted_further_reaches_its_dossiers_cells(
    db: Any, history: History
) -> None:
    from accelerator.consultations.actions import (
        complete_launch,
        consult_further,
        create_consultation,
    )
    from tests.factories import user

    def ddt_dossiers() -> int:
        with db.transaction(read_only=True) as session:
            return queries.take_charge(session, Filters(administration="DDT-65"), now=NOW).filed

    before = ddt_dossiers()
    # D is consulting the SDIS only; the référent sends it to the DDT too, in the same cycle:
    # the dossier itself does not change, its new consultation does.
    referent = user(db, "referent@f.test")
    with db.transaction() as session:
        launch = consult_further(
            session, dossier_id=history.dossiers["D"], administrations=["DDT-65"],
            user=referent, now=NOW,
        )  # fmt: skip
        launch_id = launch.id
    with db.transaction() as session:
        create_consultation(session, launch_id=launch_id, administration="DDT-65")
    with db.transaction() as session:
        complete_launch(session, launch_id=launch_id, now=NOW)
    with db.transaction() as session:
        refresh_facts(session, now=NOW)
        fact = session.get_one(DossierFact, history.dossiers["D"])
        assert ",DDT-65," in fact.administrations and ",SDIS-65," in fact.administrations
    assert ddt_dossiers() == before + 1
    kept = _cells(db)
    with db.transaction() as session:
        rollups.rebuild(session)
    assert _cells(db) == kept


def _by_hand(facts: list[Any], family: str, filters: Filters) -> Counter[tuple[str, str]]:
    """Per administration, what ``select_cells`` should count, straight from the facts."""
    found: Counter[tuple[str, str]] = Counter()
    for f in facts:
        instant = f.finished_at if family == rollups.FINISHED else f.sent_at
        if instant is None or (family == rollups.FINISHED and f.outcome == "open"):
            continue
        if filters.start is not None and instant < filters.start:
            continue
        if filters.end is not None and instant >= filters.end:
            continue
        if filters.procedure and f",{filters.procedure}," not in f.procedures:
            continue
        if filters.arrondissement and f.arrondissement_code != filters.arrondissement:
            continue
        if filters.cycle and f.cycle != filters.cycle:
            continue
        if filters.administration and f.administration_code != filters.administration:
            continue
        found[(f.administration_code, "items")] += 1
        found[(f.administration_code, "judged")] += f.outcome in ("answered", "tacit")
        found[(f.administration_code, "on_time_target")] += f.on_time_target is True
    return +found


def test_any_period_and_filters_count_what_the_facts_hold(db: Any, history: History) -> None:
    with db.transaction(read_only=True) as session:
        facts = list(session.scalars(select(ConsultationFact)))
        dossiers = list(session.scalars(select(DossierFact)))
        pick = random.Random(13)
        days = [dt.date(2026, 4, 27) + dt.timedelta(days=n) for n in range(0, 90)]
        cases = [Filters()] + [
            Filters(
                # Midnights (whole days: the day cells) and, one time in three, an hour
                # inside a day (what is left of it: the facts).
                start=None
                if pick.random() < 0.2
                else paris(*first.timetuple()[:3], pick.choice([0, 0, 10])),
                end=None
                if pick.random() < 0.2
                else paris(*last.timetuple()[:3], pick.choice([0, 0, 9])),
                procedure=pick.choice([None, None, "PC", "DP"]),
                arrondissement=pick.choice([None, None, "651", "653"]),
                cycle=pick.choice([None, None, 1, 2]),
                administration=pick.choice([None, None, "SDIS-65", "DDT-65"]),
            )
            for first, last in (sorted(pick.sample(days, 2)) for _ in range(60))
        ]
        for filters in cases:
            for family in (rollups.FINISHED, rollups.SENT):
                cells = rollups.select_cells(
                    session, family, filters, start=filters.start, end=filters.end, by_week=False
                )
                read = Counter(
                    {
                        (code, name): cell.count(name)
                        for (code, _), cell in cells.items()
                        for name in ("items", "judged", "on_time_target")
                    }
                )
                assert +read == _by_hand(facts, family, filters), (family, filters)
            cells = rollups.select_cells(
                session, rollups.CYCLES, filters, start=filters.start, end=filters.end,
                by_week=False,
            )  # fmt: skip
            read = Counter(
                {
                    (code, name): cell.count(name)
                    for (code, _), cell in cells.items()
                    for name in ("items", "gate_consulted", "gated", "gate_delay", "gain_sum")
                }
            )
            assert +read == _cycles_by_hand(facts, filters), filters
            cells = rollups.select_cells(
                session, rollups.DOSSIERS, dataclasses.replace(filters, cycle=None),
                start=filters.start, end=filters.end, by_week=False, by_administration=False,
            )  # fmt: skip
            read = Counter(
                {
                    name: cell.count(name)
                    for cell in cells.values()
                    for name in ("items", "taken", "taken_in_time")
                }
            )
            assert +read == _dossiers_by_hand(dossiers, facts, filters), filters


def _dossiers_by_hand(dossiers: list[Any], facts: list[Any], filters: Filters) -> Counter[str]:
    consulted = {(f.dossier_id, f.administration_code) for f in facts}
    found: Counter[str] = Counter()
    for d in dossiers:
        if filters.administration and (d.dossier_id, filters.administration) not in consulted:
            continue
        if filters.start is not None and d.filed_at < filters.start:
            continue
        if filters.end is not None and d.filed_at >= filters.end:
            continue
        if filters.procedure and f",{filters.procedure}," not in d.procedures:
            continue
        if filters.arrondissement and d.arrondissement_code != filters.arrondissement:
            continue
        taken = d.taken_in_charge_at is not None
        if not taken and d.withdrawn:
            continue
        found["items"] += 1
        found["taken"] += taken
        found["taken_in_time"] += taken and d.taken_in_charge_at <= d.take_charge_due_at
    return +found


def _cycles_by_hand(facts: list[Any], filters: Filters) -> Counter[tuple[str, str]]:
    """What the ``cycles`` cells should hold for ``filters``: every cycle's measures, kept
    when its last opinion is in the period and the filters select it."""
    found: Counter[tuple[str, str]] = Counter()
    for cycle in rollups.cycles_of(facts).values():
        measured = rollups.cycle_measures(cycle)
        if measured is None:
            continue
        last, entries = measured
        if filters.start is not None and last < filters.start:
            continue
        if filters.end is not None and last >= filters.end:
            continue
        for base, counts, _values in entries:
            if base.family != rollups.CYCLES:
                continue  # the day's bases: the same again
            if filters.procedure and f",{filters.procedure}," not in base.procedures:
                continue
            if filters.arrondissement and base.arrondissement_code != filters.arrondissement:
                continue
            if filters.cycle and base.cycle != filters.cycle:
                continue
            if filters.administration and base.administration_code != filters.administration:
                continue
            for name in ("items", "gate_consulted", "gated", "gate_delay", "gain_sum"):
                found[(base.administration_code, name)] += counts[rollups.COUNTS.index(name)]
    return +found


def test_percentiles_from_sketches_stay_close_to_the_exact_ones(
    db: Any, history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.transaction(read_only=True) as session:
        exact = queries.administrations(session, Filters(), now=NOW)
        monkeypatch.setattr(queries, "EXACT_LIMIT", 0)
        sketched = queries.administrations(session, Filters(), now=NOW)
    assert [a.code for a in sketched] == [a.code for a in exact]
    for mine, theirs in zip(sketched, exact, strict=True):
        assert mine.n == theirs.n and mine.on_time_share == theirs.on_time_share
        for name in ("p50_days", "p95_days", "p50_business_days", "lateness_p90_days"):
            a, b = getattr(mine, name), getattr(theirs, name)
            assert (a is None) == (b is None), name
            if b is not None:
                assert abs(a - b) <= sketch.ALPHA * b + 1e-3, (name, a, b)
