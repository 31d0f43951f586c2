"""The breach forecast on synthetic histories with a known answer, its calibration, and the
forecast of the hand-computed history's open consultations."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from accelerator.metrics import queries
from accelerator.metrics.forecast import Past, backtest, breach_probability, calibration, fit
from accelerator.metrics.schemas import Filters
from tests.factories import paris
from tests.metrics_dataset import NOW, History, build

RATE = 0.1  # answers per held day: a mean of 10 days
DEADLINE = 30.0


def exponential_history(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Held durations ~ Exp(RATE); silent past the deadline (tacit: censored at 30 days);
    a fifth still open, censored at a uniform age."""
    rng = np.random.default_rng(seed)
    durations = rng.exponential(1 / RATE, n)
    answered = durations < DEADLINE
    durations = np.minimum(durations, DEADLINE)
    still_open = rng.random(n) < 0.2
    ages = rng.uniform(0, DEADLINE, n)
    censored_open = still_open & (ages < durations)
    durations = np.where(censored_open, ages, durations)
    answered = answered & ~censored_open
    return durations, answered


@pytest.mark.parametrize(
    ("age", "expected"), [(0.0, math.exp(-3)), (5.0, math.exp(-2.5)), (20.0, math.exp(-1))]
)
def test_the_probability_matches_the_closed_form_of_exponential_durations(
    age: float, expected: float
) -> None:
    # Memoryless: P(T > 30 | T > a) = exp(-rate × (30 - a)).
    survival = fit(*exponential_history(5_000, seed=13))
    found = breach_probability(survival, age=age, due_age=DEADLINE)
    assert found == pytest.approx(expected, abs=0.02)


def test_an_item_past_its_deadline_or_beyond_the_history_breaches() -> None:
    survival = fit([1.0, 2.0, 3.0], [True, True, True])
    assert breach_probability(survival, age=5.0, due_age=4.0) == 1.0
    assert breach_probability(survival, age=3.5, due_age=10.0) == 1.0  # S(3.5) = 0
    assert breach_probability(survival, age=0.0, due_age=1.5) == pytest.approx(2 / 3)


def test_calibration_compares_predictions_with_outcomes_by_decile() -> None:
    rng = np.random.default_rng(7)
    predicted = rng.random(10_000)
    breached = rng.random(10_000) < predicted  # outcomes drawn with the predicted odds
    deciles = calibration(predicted, breached)
    assert [d.decile for d in deciles] == list(range(1, 11))
    assert sum(d.n for d in deciles) == 10_000
    for d in deciles:
        assert d.observed == pytest.approx(d.predicted, abs=0.03)
    # A forecast that always says 0 is visibly miscalibrated.
    flat = calibration([0.0] * 100, [True] * 50 + [False] * 50)
    assert {(d.predicted, d.n) for d in flat} == {(0.0, 10)}


@pytest.fixture
def history(db: Any) -> History:
    return build(db)


def test_the_open_consultations_are_forecast_most_likely_first(db: Any, history: History) -> None:
    with db.transaction(read_only=True) as session:
        found = queries.forecast(session, Filters(), now=NOW)
    # The two waiting for the holder (C's PREF, E's UDAP) are paused: no deadline to miss.
    assert {f.consultation_id for f in found} == {
        str(history.consultations["C:DDT-65"]),
        str(history.consultations["D:SDIS-65"]),
    }
    probabilities = [f.breach_probability for f in found]
    assert probabilities == sorted(probabilities, reverse=True)
    assert all(0.0 <= p <= 1.0 for p in probabilities)
    ddt = next(f for f in found if f.administration == "DDT-65")
    # One answer of DDT's own is too few: the history of every generic opinion (10, 5 of
    # them answered, all within 7 held days); C's DDT, held 27 days, is past every answer.
    assert (ddt.basis, ddt.n_history) == ("type", 10)
    assert ddt.breach_probability == 1.0
    assert ddt.due_at == "2026-07-23T00:00:00+02:00"


def test_the_survival_step_function_reads_as_lifelines_predicts_it() -> None:
    rng = np.random.default_rng(7)
    durations = rng.exponential(10.0, 300).round(1)
    answered = rng.random(300) < 0.7
    survival = fit(list(durations), list(answered))
    for t in [0.0, 0.05, 1.0, 3.3, 9.99, 10.0, 25.0, float(durations.max()), 1e6, *durations[:50]]:
        assert survival.at(float(t)) == pytest.approx(float(survival.fitter.predict(float(t))))


# --- How well a past forecast did: the backtest ---

MEAN, BUDGET, ORIGIN, END = 10.0, 15.0, 300.0, 400.0


def stationary_history(n: int, seed: int, *, slower_after: float | None = None) -> list[Past]:
    """Consultations sent uniformly over [0, END) days, held ~ Exp(MEAN) days, tacit at
    BUDGET when silent; those not finished by END still open. ``slower_after``: from that
    day on, the administration takes three times as long (the curve as known before cannot
    see it)."""
    rng = np.random.default_rng(seed)
    pasts = []
    for sent, held in zip(rng.uniform(0, END, n), rng.exponential(MEAN, n), strict=True):
        if slower_after is not None and sent + held > slower_after:
            held = max(held, slower_after - sent) * 3
        tacit = held > BUDGET
        end = sent + (BUDGET if tacit else held)
        finished = end < END
        pasts.append(
            Past(
                group=("DDT-65", "generic_opinion"),
                sent=float(sent),
                finished=float(end) if finished else None,
                held=float(min(held, BUDGET)) if finished else None,
                waiting=0.0,
                waiting_since=None,
                answered=finished and not tacit,
                due=float(sent + BUDGET),
                missed=tacit if finished else None,
            )
        )
    return pasts


def test_a_forecast_made_in_the_past_is_calibrated_on_what_followed() -> None:
    pasts = stationary_history(100_000, seed=3)
    predicted, missed = backtest(pasts, origin=ORIGIN, now=END)
    # The items open at the origin with their deadline to come: 250 a day sent over the last
    # 15 days, still silent: 250 × MEAN × (1 - exp(-BUDGET / MEAN)) ≈ 1,942.
    assert 1_800 < len(predicted) < 2_100
    open_then = [p for p in pasts if p.sent < ORIGIN and p.due is not None and p.due >= ORIGIN]
    ages = [ORIGIN - p.sent for p in open_then if p.finished is None or p.finished >= ORIGIN]
    # Memoryless: P(still silent at the deadline | silent at age a) = exp(-(BUDGET - a) / MEAN).
    expected = sorted(math.exp(-(BUDGET - a) / MEAN) for a in ages)
    assert sorted(predicted) == pytest.approx(expected, abs=0.04)
    for d in calibration(predicted, missed):
        assert d.observed == pytest.approx(d.predicted, abs=0.12)


def test_the_backtest_uses_nothing_that_happened_after_its_origin() -> None:
    before = backtest(stationary_history(20_000, seed=5), origin=ORIGIN, now=END)
    slower = backtest(
        stationary_history(20_000, seed=5, slower_after=ORIGIN), origin=ORIGIN, now=END
    )
    # The same predictions (the curve knows only what finished before the origin) ...
    assert slower[0] == pytest.approx(before[0])
    # ... and more of them missed: the forecast made then was too hopeful, as it shows.
    assert sum(slower[1]) > sum(before[1]) * 1.5


def test_the_history_finished_before_the_origin_may_be_read_apart() -> None:
    # queries.calibration reads those finished before the origin as held days alone: the
    # same curves, the same forecast, whatever the order their durations come in.
    pasts = stationary_history(20_000, seed=7)
    earlier: dict[tuple[str, str], tuple[list[float], list[bool]]] = {}
    rest = []
    for past in reversed(pasts):
        if past.sent < ORIGIN and past.finished is not None and past.finished < ORIGIN:
            durations, events = earlier.setdefault(past.group, ([], []))
            durations.append(max(past.held or 0.0, 0.0))
            events.append(past.answered)
        else:
            rest.append(past)
    whole = backtest(pasts, origin=ORIGIN, now=END)
    assert len(rest) < len(pasts) / 2 and len(whole[0]) > 100
    apart = backtest(rest[::-1], origin=ORIGIN, now=END, finished=earlier)
    assert apart[1] == whole[1] and apart[0] == pytest.approx(whole[0], abs=1e-12)
    # Without them, the curve is another: the test would see a dropped history.
    assert backtest(rest[::-1], origin=ORIGIN, now=END)[0] != pytest.approx(whole[0], abs=1e-3)


def test_the_backtest_leaves_out_what_is_not_known_yet() -> None:
    item = Past(("DDT-65", "t"), 0.0, None, None, 0.0, None, False, 30.0, None)
    history = [Past(("DDT-65", "t"), -20.0, -10.0, 10.0, 0.0, None, True, 10.0, False)] * 5
    # Open, deadline to come: left out; open past its deadline: missed.
    assert backtest([*history, item], origin=5.0, now=20.0) == ([], [])
    predicted, missed = backtest([*history, item], origin=5.0, now=40.0)
    # Every answer of the history came at 10 held days: it was expected in time (0), wrongly.
    assert missed == [True] and predicted == [0.0]
    # Held age at the origin: the waiting is all counted as waited by then.
    waited = Past(("DDT-65", "t"), 0.0, None, None, 3.0, None, False, 30.0, None)
    assert waited.held_at(5.0) == 2.0
    assert Past(("DDT-65", "t"), 0.0, 9.0, 4.0, 0.0, None, True, 30.0, False).held_at(8.0) == 4.0


def test_the_calibrations_origin_is_the_periods_start_or_a_midnight_12_weeks_back() -> None:
    assert queries.calibration_origin(Filters(), NOW) == paris(2026, 4, 27)
    assert queries.calibration_origin(Filters(start=paris(2026, 6, 9)), NOW) == paris(2026, 6, 9)
    # A start still to come: the forecast is made now at the latest.
    assert queries.calibration_origin(Filters(start=paris(2026, 9, 1)), NOW) == NOW
