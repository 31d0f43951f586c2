"""The simulation's pure rules: the projects it files, how a delay is drawn, the sampled
world both modes share, a delay turned into an instant, and the figures and table it prints.

Draws are made by inverse transform from uniforms laid out per dossier (one seeded
``numpy`` generator per dossier index, a fixed slot per administration of the catalogue): the
same seed gives the same world whatever the number of dossiers, both modes see the same
world (common random numbers), and changing one administration's distribution changes only
that administration's delays, so two scenarios differ by what the manager changed, not by
noise.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from scipy import special, stats

from accelerator.demo.actions import DEMO_PROJECTS, HOTEL_PROJECT
from accelerator.metrics.figures import percentiles
from accelerator.shared.text import t
from accelerator.simulation.schemas import (
    MAX_AMOUNT,
    ArrivalsIn,
    Chosen,
    Empirical,
    Fixed,
    Gamma,
    Legal,
    LogNormal,
    Mode,
    ModeResult,
    SimulationResult,
)
from accelerator.sla.calendars import WorkingCalendar
from accelerator.sla.durations import ONE_DAY

PARIS = ZoneInfo("Europe/Paris")
#: The standard normal's 90th percentile: a lognormal's ``p90 = median * exp(Z90 * sigma)``.
Z90 = float(special.ndtri(0.9))

#: The demo projects a simulated dossier copies (docs/domain.md, "Demo projects").
PROJECTS: dict[str, dict[str, Any]] = {
    "hotel": HOTEL_PROJECT,
    "solaire": DEMO_PROJECTS[0][1],
    "fromagerie": DEMO_PROJECTS[1][1],
    "aeronautique": DEMO_PROJECTS[2][1],
    "hydro": DEMO_PROJECTS[3][1],
    "thermes": DEMO_PROJECTS[4][1],
}

#: Uniforms per dossier before the administrations' slots: arrival gap, project, take-charge.
_HEAD = 3
#: Uniforms per administration: response, whether it asks, when it asks, holder's answer.
_SLOT = 4

Response = Fixed | LogNormal | Gamma | Empirical | Legal

#: The catalogue keys of the units, the sources of a distribution and the modes.
UNIT_KEYS = {
    "hours": "simulation.unit.hours",
    "days": "simulation.unit.days",
    "business_days": "simulation.unit.business_days",
}
SOURCE_KEYS = {
    "fitted": "simulation.source.fitted",
    "file": "simulation.source.file",
    "legal": "simulation.source.legal",
}
MODE_KEYS = {Mode.PARALLEL: "simulation.mode.parallel", Mode.SERIAL: "simulation.mode.serial"}


@dataclass(frozen=True)
class Delay:
    """An amount of a unit (``hours``, ``days``, ``business_days``)."""

    amount: float
    unit: str


@dataclass(frozen=True)
class SampledAnswer:
    """What one administration will do with one dossier's consultation."""

    #: The time it holds the consultation; None: it answers at its legal deadline.
    response: Delay | None
    #: It asks the holder for information after this share of ``response`` (None: never).
    asks_after: float | None
    #: How long the holder then takes to answer.
    holder: Delay


@dataclass(frozen=True)
class SampledDossier:
    """One simulated dossier: when it is filed, what it is, what everybody will do."""

    index: int
    filed_at: dt.datetime
    project: str
    take_charge: Delay
    answers: Mapping[str, SampledAnswer]


def quantile(distribution: Response, u: float) -> float | None:
    """The ``u``-quantile of ``distribution`` (``0 <= u < 1``), bounded by ``MAX_AMOUNT``;
    None for the legal delay (the engine's clock knows it)."""
    value: float
    match distribution:
        case Legal():
            return None
        case Fixed(value=fixed):
            value = fixed
        case LogNormal(median=median, p90=p90):
            sigma = math.log(p90 / median) / Z90
            value = median * math.exp(sigma * float(special.ndtri(min(max(u, 1e-12), 1 - 1e-12))))
        case Gamma(mean=mean, sd=sd):
            shape, scale = (mean / sd) ** 2, sd * sd / mean
            value = float(stats.gamma.ppf(u, shape, scale=scale))
        case Empirical(values=values):
            value = values[min(int(u * len(values)), len(values) - 1)]
    return min(max(value, 0.0), MAX_AMOUNT)


def unit_of(distribution: Response) -> str:
    """The unit of ``distribution``'s amounts (the legal delay has its clock's own)."""
    return "business_days" if isinstance(distribution, Legal) else distribution.unit


def sample_world(
    *,
    dossiers: int,
    seed: int,
    arrivals: ArrivalsIn,
    take_charge: Response,
    holder: Response,
    responses: Mapping[str, Chosen],
    information: Mapping[str, float],
    administrations: Sequence[str],
) -> list[SampledDossier]:
    """The dossiers of one run: filing instants (a Poisson stream from ``arrivals.start``
    09:00 Paris), projects, take-in-charge delays and, for every administration of the
    catalogue (``administrations``, whose order fixes each one's slot), its answer."""
    names = list(PROJECTS)
    weights = np.array([(arrivals.mix or {}).get(n, 0.0) for n in names], dtype=float)
    if arrivals.mix is None:
        weights = np.ones(len(names))
    cumulative = np.cumsum(weights / weights.sum())
    gap = arrivals.mean_gap_days()
    at = dt.datetime.combine(arrivals.start, dt.time(9), tzinfo=PARIS).astimezone(dt.UTC)
    world = []
    for index in range(dossiers):
        u = np.random.default_rng([seed, index]).random(_HEAD + _SLOT * len(administrations))
        at += dt.timedelta(days=-gap * math.log1p(-float(u[0])))
        project = names[min(int(np.searchsorted(cumulative, u[1], side="right")), len(names) - 1)]
        answers = {}
        for slot, code in enumerate(administrations):
            r, asks, when, waits = (float(x) for x in u[_HEAD + _SLOT * slot :][:_SLOT])
            chosen = responses[code].response
            amount = quantile(chosen, r)
            answers[code] = SampledAnswer(
                response=None if amount is None else Delay(amount, unit_of(chosen)),
                asks_after=when if asks < information.get(code, 0.0) else None,
                holder=Delay(quantile(holder, waits) or 0.0, unit_of(holder)),
            )
        world.append(
            SampledDossier(
                index=index,
                filed_at=at,
                project=project,
                take_charge=Delay(quantile(take_charge, float(u[2])) or 0.0, unit_of(take_charge)),
                answers=answers,
            )
        )
    return world


def add_business_days(start: dt.datetime, amount: float, calendar: WorkingCalendar) -> dt.datetime:
    """The instant at which ``amount`` business days have passed since ``start``: the inverse
    of ``metrics.facts.business_days_in`` (a business day counts whole, a partial one by its
    share of its 23, 24 or 25 hours; weekends, holidays and closures do not count)."""
    cursor = start.astimezone(dt.UTC)
    left = amount
    for _ in range(int(amount * 3) + 3660):
        day = calendar.local_date(cursor)
        begin = calendar.local_midnight(day).astimezone(dt.UTC)
        end = calendar.local_midnight(day + ONE_DAY).astimezone(dt.UTC)
        if calendar.is_business_day(day):
            length = (end - begin).total_seconds()
            available = (end - cursor).total_seconds() / length
            if left <= available:
                return cursor + dt.timedelta(seconds=left * length)
            left -= available
        cursor = end
    raise AssertionError("a bounded amount always ends")  # pragma: no cover


def shift(start: dt.datetime, delay: Delay, calendar: WorkingCalendar) -> dt.datetime:
    """``start`` plus ``delay`` (hours and days elapsed; business days in ``calendar``)."""
    if delay.unit == "hours":
        return start + dt.timedelta(hours=delay.amount)
    if delay.unit == "days":
        return start + dt.timedelta(days=delay.amount)
    return add_business_days(start, delay.amount, calendar)


def figures(result: ModeResult) -> dict[int, float | None]:
    """p50, p85 and p95 of a mode's time-to-decision (days)."""
    return percentiles(result.durations, (50, 85, 95))


def ratios(result: SimulationResult) -> dict[int, float | None] | None:
    """Parallel over serial, per percentile; None unless both modes ran."""
    by_mode = {m.mode: figures(m) for m in result.modes}
    if Mode.PARALLEL not in by_mode or Mode.SERIAL not in by_mode:
        return None
    found: dict[int, float | None] = {}
    for level in (50, 85, 95):
        p, s = by_mode[Mode.PARALLEL][level], by_mode[Mode.SERIAL][level]
        found[level] = None if p is None or s is None or s == 0 else round(p / s, 3)
    return found


def number(value: float | None, digits: int = 1) -> str:
    """``value`` written the French way (``12,5``); a dash when there is none."""
    if value is None:
        return "-"
    return f"{value:.{digits}f}".replace(".", ",")


def describe_distribution(response: Response) -> str:
    """A response distribution, in French (« lognormale, médiane 10 j, p90 17,5 j »)."""
    unit = t(UNIT_KEYS[unit_of(response)])
    match response:
        case Legal():
            return t("simulation.distribution.legal")
        case Fixed(value=value):
            return t("simulation.distribution.fixed", value=number(value), unit=unit)
        case LogNormal(median=median, p90=p90):
            return t(
                "simulation.distribution.lognormal",
                median=number(median),
                p90=number(p90),
                unit=unit,
            )
        case Gamma(mean=mean, sd=sd):
            return t("simulation.distribution.gamma", mean=number(mean), sd=number(sd), unit=unit)
        case Empirical(values=values):
            return t("simulation.distribution.empirical", count=len(values), unit=unit)


def describe(chosen: Chosen) -> str:
    """One administration's distribution, in French, with where it comes from."""
    source = t(SOURCE_KEYS[chosen.source], count=chosen.observed)
    return f"{chosen.code} : {describe_distribution(chosen.response)} ({source})"


def table(result: SimulationResult) -> list[str]:
    """The printed answer: one line per mode (n, p50, p85, p95 in days), then the ratio."""
    lines = [t("simulation.table.title", dossiers=result.dossiers, seed=result.seed)]
    header = (
        t("simulation.table.mode"),
        "n",
        "p50",
        "p85",
        "p95",
        t("simulation.table.tacit"),
    )
    lines.append(f"{header[0]:<11}{header[1]:>7}{header[2]:>8}{header[3]:>8}{header[4]:>8}"
                 f"{header[5]:>8}")  # fmt: skip
    for mode in result.modes:
        found = figures(mode)
        lines.append(
            f"{t(MODE_KEYS[mode.mode]):<11}{mode.n:>7}"
            f"{number(found[50]):>8}{number(found[85]):>8}{number(found[95]):>8}{mode.tacit:>8}"
        )
    found_ratios = ratios(result)
    if found_ratios is None:
        lines.append(t("simulation.ratio_needs_both"))
    else:
        lines.append(
            t(
                "simulation.ratio",
                p50=number(found_ratios[50], 2),
                p85=number(found_ratios[85], 2),
                p95=number(found_ratios[95], 2),
            )
        )
    return lines


def as_json(result: SimulationResult) -> dict[str, Any]:
    """The answer for machines (``--json``)."""
    return {
        "dossiers": result.dossiers,
        "seed": result.seed,
        "seconds": round(result.seconds, 3),
        "modes": {
            m.mode.value: {
                "n": m.n,
                **{f"p{level}": value for level, value in figures(m).items()},
                "tacit": m.tacit,
                "information_requests": m.information_requests,
            }
            for m in result.modes
        },
        "ratio": None
        if (found := ratios(result)) is None
        else {f"p{level}": value for level, value in found.items()},
        "responses": {
            c.code: {"source": c.source, "observed": c.observed, **c.response.model_dump()}
            for c in result.responses
        },
        "notes": list(result.notes),
    }
