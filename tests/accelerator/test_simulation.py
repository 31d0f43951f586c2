"""The what-if simulation: its draws, its business-day arithmetic, its fit of the history,
the further launch its serial mode sends through, and runs of the real engine whose answer
is known in advance (fixed delays)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from accelerator.consultations.actions import consult_further, give_opinion
from accelerator.consultations.models import Consultation, ConsultationLaunch
from accelerator.consultations.queries import finished_cycle
from accelerator.consultations.status import OpinionNature
from accelerator.dossiers.models import Dossier
from accelerator.metrics.facts import business_days_in, days
from accelerator.shared.errors import InvalidInput, InvalidTransition
from accelerator.simulation.actions import seed_administrations, simulate
from accelerator.simulation.queries import HeldTimes, choose_responses, fit_lognormal, held_times
from accelerator.simulation.rules import add_business_days, quantile, ratios, sample_world
from accelerator.simulation.schemas import (
    Chosen,
    Fixed,
    Gamma,
    Legal,
    LogNormal,
    Mode,
    SimulationConfig,
    parse_config,
)
from accelerator.sla.actions import consultation_key
from accelerator.sla.durations import add, parse_duration
from accelerator.sla.models import Clock
from tests import metrics_dataset
from tests.factories import filed, launched, paris, user


def _france() -> Any:
    from accelerator.catalogue.queries import seed_calendars

    return seed_calendars()["FR"]


# -- draws -------------------------------------------------------------------------------------


def test_a_lognormal_is_given_by_its_median_and_p90() -> None:
    law = LogNormal(kind="lognormal", median=10, p90=25, unit="business_days")
    assert quantile(law, 0.5) == pytest.approx(10)
    assert quantile(law, 0.9) == pytest.approx(25)
    assert quantile(law, 0.1) == pytest.approx(10 * 10 / 25)


def test_a_gamma_has_its_mean() -> None:
    law = Gamma(kind="gamma", mean=12, sd=4, unit="days")
    values = [quantile(law, (i + 0.5) / 2000) for i in range(2000)]
    assert sum(v for v in values if v is not None) / 2000 == pytest.approx(12, rel=0.01)


def test_fixed_and_legal_delays() -> None:
    assert quantile(Fixed(kind="fixed", value=7, unit="days"), 0.99) == 7
    assert quantile(Legal(kind="legal"), 0.5) is None


#: Instants of 2026-2028 in UTC (a naive bound, then the zone: Hypothesis's own way).
INSTANTS = st.datetimes(
    min_value=dt.datetime(2026, 1, 1),  # noqa: DTZ001 - naive bounds, aware values
    max_value=dt.datetime(2028, 12, 31),  # noqa: DTZ001
    timezones=st.just(dt.UTC),
)


@settings(max_examples=60, deadline=None)
@given(start=INSTANTS, amount=st.floats(min_value=0, max_value=300, allow_nan=False))
def test_adding_business_days_inverts_counting_them(start: dt.datetime, amount: float) -> None:
    calendar = _france()
    end = add_business_days(start, amount, calendar)
    assert end >= start
    assert business_days_in(start, end, calendar) == pytest.approx(amount, abs=1e-6)


def test_business_days_skip_the_weekend_and_holidays() -> None:
    calendar = _france()
    friday_noon = paris(2026, 7, 10, 12)  # Tuesday 14 July is a holiday
    assert add_business_days(friday_noon, 1, calendar) == paris(2026, 7, 13, 12)
    assert add_business_days(friday_noon, 2, calendar) == paris(2026, 7, 15, 12)


# -- the scenario ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"arivals": {}}, "arivals"),
        ({"administrations": {"DDT-65": {"response": {"kind": "lognormal", "median": -1,
                                                      "p90": 2}}}},
         "administrations.DDT-65.response.median"),
        ({"administrations": {"DDT-65": {"response": {"kind": "fixed", "value": 1e9}}}},
         "administrations.DDT-65.response.value"),
        ({"administrations": {"DDT-65": {"response": {"kind": "weibull"}}}},
         "administrations.DDT-65.response"),
        ({"information_probability": 1.5}, "information_probability"),
        ({"arrivals": {"per_week": "10"}}, "arrivals.per_week"),
    ],
)  # fmt: skip
def test_a_wrong_scenario_names_its_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_config(data, source="s.json")
    assert f"s.json : {field} : " in refused.value.message
    assert "\n" not in refused.value.message


def test_a_refused_choice_is_said_in_french() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_config(
            {"administrations": {"DDT-65": {"response": {"kind": "fixed", "value": 1,
                                                         "unit": "weeks"}}}},
            source="s.json",
        )  # fmt: skip
    assert refused.value.message.endswith("'hours', 'days' ou 'business_days').")


def test_p90_below_the_median_is_refused() -> None:
    with pytest.raises(InvalidInput, match="inférieur à la médiane"):
        parse_config(
            {"administrations": {"DDT-65": {"response": {"kind": "lognormal", "median": 10,
                                                         "p90": 5}}}},
            source="s.toml",
        )  # fmt: skip


# -- the fit of the history --------------------------------------------------------------------


def test_fitted_medians_of_a_small_history(db: Any) -> None:
    metrics_dataset.build(db)
    with db.transaction(read_only=True) as session:
        history = held_times(session)
    # Held business days (tests/metrics_dataset.py): UDAP 4 (A) and 5 (B); SDIS 5 and 5, and
    # its tacit opinion censored at its deadline (B's second cycle: 15/06 09:00 to 16/07
    # 00:00, 14 July a holiday: 21.6 business days); DDT 7 minus 2 days waiting for the holder.
    udap, sdis, ddt = history["UDAP-65"], history["SDIS-65"], history["DDT-65"]
    assert sorted(udap.durations) == pytest.approx([4, 5]) and udap.answered == [True, True]
    pairs = sorted(zip(sdis.durations, sdis.answered, strict=True))
    assert pairs == [(5.0, True), (5.0, True), (pytest.approx(21.625, abs=1e-3), False)]
    assert ddt.durations == pytest.approx([5]) and ddt.answers == 1
    config = SimulationConfig.model_validate({"fit": {"min_answered": 2}})
    chosen = {c.code: c for c in choose_responses(config, ["UDAP-65", "SDIS-65", "DDT-65"],
                                                  history)}  # fmt: skip
    fitted = chosen["UDAP-65"]
    assert fitted.source == "fitted" and fitted.observed == 2
    assert isinstance(fitted.response, LogNormal)
    # The lognormal's maximum likelihood: median = geometric mean, sigma = sd of the logs.
    assert fitted.response.median == pytest.approx(math.sqrt(20), abs=1e-3)
    sigma = (math.log(5) - math.log(4)) / 2
    assert fitted.response.p90 == pytest.approx(
        math.sqrt(20) * math.exp(1.2815516 * sigma), abs=2e-3
    )
    # SDIS's silence counts: without it, two answers of 5 days would be a fixed 5 days.
    silent = chosen["SDIS-65"]
    assert silent.source == "fitted" and silent.observed == 2
    assert isinstance(silent.response, LogNormal)
    mu, spread = censored_maximum([5.0, 5.0], [21.625])
    assert silent.response.median == pytest.approx(math.exp(mu), rel=1e-3)
    assert silent.response.p90 == pytest.approx(math.exp(mu + 1.2815516 * spread), rel=1e-3)
    assert chosen["DDT-65"].source == "legal" and isinstance(chosen["DDT-65"].response, Legal)


def censored_maximum(answers: list[float], censored: list[float]) -> tuple[float, float]:
    """The lognormal's (mu, sigma) maximising the likelihood of ``answers`` (densities) and
    ``censored`` (survival), found with a general optimiser: a check apart from lifelines."""
    from scipy import optimize, stats

    def minus_log_likelihood(parameters: Any) -> float:
        mu, log_sigma = parameters
        sigma = math.exp(log_sigma)
        dist = stats.lognorm(s=sigma, scale=math.exp(mu))
        return -float(sum(dist.logpdf(answers)) + sum(dist.logsf(censored)))

    options = {"xatol": 1e-9, "fatol": 1e-12, "maxiter": 10_000}
    start = [math.log(5.0), 0.0]
    found = optimize.minimize(minus_log_likelihood, start, method="Nelder-Mead", options=options)
    return float(found.x[0]), math.exp(float(found.x[1]))


def test_the_fit_counts_the_silences_it_would_otherwise_leave_out() -> None:
    # DDT answers in a lognormal time (median 20 business days, sigma 0.5) when it answers
    # at all; past its 30-day deadline it is silent: tacit opinions.
    rng = np.random.default_rng(11)
    times = np.exp(rng.normal(math.log(20.0), 0.5, 4_000))
    answered = times < 30.0
    history = {"DDT-65": HeldTimes(list(np.minimum(times, 30.0)), list(answered))}
    config = SimulationConfig.model_validate({})
    chosen = choose_responses(config, ["DDT-65"], history)[0]
    assert isinstance(chosen.response, LogNormal) and chosen.observed == int(answered.sum())
    assert chosen.response.median == pytest.approx(20.0, rel=0.03)
    assert chosen.response.p90 == pytest.approx(20.0 * math.exp(0.5 * 1.2815516), rel=0.05)
    # The answers alone would say DDT is quicker than it is.
    quick = fit_lognormal(times[answered])
    assert isinstance(quick, LogNormal) and quick.median < 0.9 * 20.0


def test_a_scenario_distribution_beats_the_fit() -> None:
    config = SimulationConfig.model_validate(
        {"administrations": {"DDT-65": {"response": {"kind": "fixed", "value": 10}}}}
    )
    history = {"DDT-65": HeldTimes([20.0] * 50, [True] * 50)}
    chosen = choose_responses(config, ["DDT-65"], history)
    assert chosen[0].source == "file" and chosen[0].response.value == 10  # type: ignore[union-attr]
    values = [20.0, 21.0, 19.0, 22.0, 18.0]
    fitted = fit_lognormal(values)
    geometric_mean = math.exp(sum(map(math.log, values)) / len(values))
    assert isinstance(fitted, LogNormal) and fitted.median == pytest.approx(
        geometric_mean, abs=1e-3
    )


# -- a further launch (the serial practice) ----------------------------------------------------


def test_a_further_launch_runs_from_its_own_sending(db: Any) -> None:
    dossier_id = filed(db, now=paris(2026, 6, 1, 9))
    got = launched(db, dossier_id, ["UDAP-65"], now=paris(2026, 6, 1, 10))
    with db.transaction() as session:
        give_opinion(
            session, consultation_id=got["UDAP-65"], nature=OpinionNature.FAVOURABLE, text="",
            user=user(db, metrics_dataset.agent("UDAP-65")), now=paris(2026, 6, 5, 10),
        )  # fmt: skip
    referent = user(db, "referent@f.test")
    with db.transaction() as session, pytest.raises(InvalidInput, match="Déjà consultée"):
        consult_further(
            session, dossier_id=dossier_id, administrations=["UDAP-65"], user=referent,
            now=paris(2026, 6, 5, 10),
        )  # fmt: skip
    with db.transaction() as session:
        launch = consult_further(
            session, dossier_id=dossier_id, administrations=["SDIS-65"], user=referent,
            now=paris(2026, 6, 5, 10),
        )  # fmt: skip
        launch_id = launch.id
        dossier = session.get_one(Dossier, dossier_id)
        assert dossier.status == "consulting" and dossier.cycle == 1
    from accelerator.consultations.actions import complete_launch, create_consultation

    with db.transaction() as session:
        consultation, created = create_consultation(
            session, launch_id=launch_id, administration="SDIS-65"
        )
        assert consultation is not None and created
        complete_launch(session, launch_id=launch_id, now=paris(2026, 6, 5, 10))
        clock = session.scalars(
            select(Clock).where(Clock.key == consultation_key(consultation.id))
        ).one()
        # A generic opinion: 1 month from its own sending, not from the first launch.
        assert clock.due_at == paris(2026, 7, 6, 0)
        dossier = session.get_one(Dossier, dossier_id)
        assert finished_cycle(session, dossier) is None  # SDIS still to answer
        launches = session.scalars(
            select(ConsultationLaunch).where(ConsultationLaunch.dossier_id == dossier_id)
        ).all()
        assert len(launches) == 2
        assert session.scalars(select(Consultation.cycle)).all() == [1, 1]


def test_a_further_launch_needs_a_consulting_dossier(db: Any) -> None:
    dossier_id = filed(db, now=paris(2026, 6, 1, 9))
    launched(db, dossier_id, ["UDAP-65"], now=paris(2026, 6, 1, 10))
    other = filed(db, now=paris(2026, 6, 1, 9))
    referent = user(db, "referent@f.test")
    from accelerator.dossiers.actions import take_charge

    with db.transaction() as session:
        take_charge(session, dossier_id=other, user=referent, now=paris(2026, 6, 1, 10))
    with db.transaction() as session, pytest.raises(InvalidTransition, match="pendant"):
        consult_further(
            session, dossier_id=other, administrations=["SDIS-65"], user=referent,
            now=paris(2026, 6, 1, 11),
        )  # fmt: skip


# -- the engine, on answers known in advance ---------------------------------------------------

#: The hotel is routed to UDAP-65 (ABF accord), SDIS-65, DDT-65 and PREF-65 (ERP decision).
HOTEL = {
    "arrivals": {"per_week": 5, "mix": {"hotel": 1}},
    "take_charge": {"delay": {"kind": "fixed", "value": 1, "unit": "days"}},
    "administrations": {
        "UDAP-65": {"response": {"kind": "fixed", "value": 10, "unit": "days"}},
        "SDIS-65": {"response": {"kind": "fixed", "value": 20, "unit": "days"}},
        "DDT-65": {"response": {"kind": "fixed", "value": 5, "unit": "days"}},
        "PREF-65": {"response": {"kind": "fixed", "value": 5, "unit": "days"}},
    },
}


def _run(
    data: dict[str, Any],
    *,
    dossiers: int = 4,
    seed: int = 7,
    modes: Any = None,
    processes_from: int = 1_000_000,
) -> Any:
    config = SimulationConfig.model_validate(data)
    responses = choose_responses(config, seed_administrations(), {})
    return simulate(
        config,
        dossiers=dossiers,
        seed=seed,
        modes=modes or [Mode.PARALLEL, Mode.SERIAL],
        responses=responses,
        processes_from=processes_from,
    )


def test_fixed_delays_give_the_slowest_in_parallel_and_the_sum_in_series() -> None:
    result = _run(HOTEL)
    parallel, serial = result.modes
    assert parallel.mode is Mode.PARALLEL and serial.mode is Mode.SERIAL
    assert parallel.n == serial.n == 4
    # Filing → take-in-charge 1 day, then the slowest (20 days) or the sum (40 days).
    assert parallel.durations == pytest.approx([21.0] * 4)
    assert serial.durations == pytest.approx([41.0] * 4)
    assert parallel.tacit == serial.tacit == 0
    assert ratios(result) == {50: pytest.approx(0.512), 85: pytest.approx(0.512),
                              95: pytest.approx(0.512)}  # fmt: skip


def test_a_late_administration_gets_its_tacit_opinion_at_the_legal_deadline() -> None:
    late = {"response": {"kind": "fixed", "value": 100, "unit": "days"}}
    data = {**HOTEL, "administrations": {**HOTEL["administrations"], "SDIS-65": late}}
    result = _run(data, dossiers=2, modes=[Mode.PARALLEL])
    (parallel,) = result.modes
    assert parallel.tacit == 2
    # SDIS's generic opinion expires at the end of the day 1 month after its sending (the
    # take-in-charge, 1 day after filing): the tacit opinion then decides the dossier.
    config = SimulationConfig.model_validate(data)
    world = sample_world(
        dossiers=2, seed=7, arrivals=config.arrivals, take_charge=config.take_charge.delay,
        holder=config.holder.answer_delay,
        responses={c.code: c for c in choose_responses(config, seed_administrations(), {})},
        information={}, administrations=seed_administrations(),
    )  # fmt: skip
    month = parse_duration("1 months")
    expected = [
        days(add(d.filed_at + dt.timedelta(days=1), month, _france()) - d.filed_at) for d in world
    ]
    assert parallel.durations == pytest.approx(expected)
    assert all(30 < d < 33 for d in parallel.durations)


def test_information_requests_pause_the_administration_and_wait_for_the_holder() -> None:
    data = {
        **HOTEL,
        "holder": {"answer_delay": {"kind": "fixed", "value": 3, "unit": "days"}},
        "administrations": {
            **HOTEL["administrations"],
            "SDIS-65": {"response": {"kind": "fixed", "value": 20, "unit": "days"},
                        "information_probability": 1},
        },
    }  # fmt: skip
    result = _run(data, dossiers=2, modes=[Mode.PARALLEL])
    (parallel,) = result.modes
    assert parallel.information_requests == 2
    # SDIS holds 20 days, the holder 3 more: 1 + 20 + 3.
    assert parallel.durations == pytest.approx([24.0, 24.0])


def test_the_same_seed_gives_the_same_answer_and_another_seed_another() -> None:
    data = {
        "arrivals": {"per_week": 20},
        "take_charge": {"delay": {"kind": "lognormal", "median": 4, "p90": 20, "unit": "hours"}},
        "administrations": {
            code: {"response": {"kind": "lognormal", "median": 8, "p90": 20}}
            for code in seed_administrations()
        },
    }
    # The second run in two processes (one per mode), as from 100 dossiers on.
    first, again = _run(data, dossiers=3, seed=3), _run(data, dossiers=3, seed=3, processes_from=1)
    other = _run(data, dossiers=3, seed=4, modes=[Mode.PARALLEL])
    assert [m.durations for m in first.modes] == [m.durations for m in again.modes]
    assert first.modes[0].durations != other.modes[0].durations
    # Both modes saw the same world: serial is never faster than parallel for a dossier.
    assert all(s >= p for p, s in zip(*(m.durations for m in first.modes), strict=True))


def test_the_number_of_dossiers_is_bounded() -> None:
    config = SimulationConfig()
    responses = [Chosen(code, Legal(kind="legal"), "legal") for code in seed_administrations()]
    for dossiers in (0, 20_001):
        with pytest.raises(InvalidInput, match="entre 1 et 20000"):
            simulate(config, dossiers=dossiers, seed=1, modes=[Mode.PARALLEL], responses=responses)


def test_an_unknown_administration_or_project_is_refused() -> None:
    responses = [Chosen(code, Legal(kind="legal"), "legal") for code in seed_administrations()]
    for data, match in (
        ({"administrations": {"DDT-99": {"information_probability": 0.1}}}, "DDT-99"),
        ({"arrivals": {"mix": {"piscine": 1}}}, "piscine"),
    ):
        with pytest.raises(InvalidInput, match=match):
            simulate(
                SimulationConfig.model_validate(data), dossiers=1, seed=1,
                modes=[Mode.PARALLEL], responses=responses,
            )  # fmt: skip


def test_changing_one_administration_changes_only_its_draws() -> None:
    administrations = seed_administrations()

    def world(ddt_median: float, dossiers: int = 50) -> Any:
        config = SimulationConfig.model_validate(
            {
                "information_probability": 0.3,
                "administrations": {
                    code: {"response": {"kind": "lognormal", "median": 8, "p90": 20}}
                    for code in administrations
                }
                | {
                    "DDT-65": {
                        "response": {
                            "kind": "lognormal",
                            "median": ddt_median,
                            "p90": 1.75 * ddt_median,
                        }
                    }
                },
            }
        )
        return sample_world(
            dossiers=dossiers, seed=11, arrivals=config.arrivals,
            take_charge=config.take_charge.delay, holder=config.holder.answer_delay,
            responses={c.code: c for c in choose_responses(config, administrations, {})},
            information=dict.fromkeys(administrations, 0.3), administrations=administrations,
        )  # fmt: skip

    before, after = world(20), world(10)
    assert [d.filed_at for d in before] == [d.filed_at for d in after]
    assert [d.project for d in before] == [d.project for d in after]
    for old, new in zip(before, after, strict=True):
        assert {c: a for c, a in old.answers.items() if c != "DDT-65"} == {
            c: a for c, a in new.answers.items() if c != "DDT-65"
        }
        # The same uniform through a lognormal of half the median (same spread): half the delay.
        halved, whole = new.answers["DDT-65"].response, old.answers["DDT-65"].response
        assert halved is not None and whole is not None
        assert halved.amount == pytest.approx(whole.amount / 2)
        assert old.answers["DDT-65"].asks_after == new.answers["DDT-65"].asks_after
    # More dossiers: the first ones stay as they were.
    assert world(20, dossiers=60)[:50] == before
