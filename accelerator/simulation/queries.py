"""The default response distributions: fitted from the history of a database (the
consultation facts the managers' figures read), the legal delay where history is thin.

Each administration's finished consultations give their held time in business days (waiting
for the holder excluded, ``metrics.facts``); a lognormal is fitted to them by maximum
likelihood. An answer is an observed duration; a tacit opinion says only that the
administration would have taken longer than its deadline, and a cancellation that it had not
answered yet: both are right-censored at their held time. With censored ones the fit is
lifelines' ``LogNormalFitter`` (the likelihood of a censored value is the survival function
there); without, ``scipy.stats.lognorm.fit`` with its location fixed at 0 (the same maximum).
Leaving the silences out would fit only the answers that came in time: a distribution too
quick for an administration that is often silent. Consultations still open are not counted
(their held business days are derived at their end).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from lifelines import LogNormalFitter
from scipy import stats
from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.metrics.facts import Outcome
from accelerator.metrics.models import ConsultationFact
from accelerator.simulation.rules import Z90
from accelerator.simulation.schemas import Chosen, Fixed, Legal, LogNormal, SimulationConfig

#: A held time under this (business days, about 1 minute) counts as this: a lognormal has no 0.
FLOOR = 0.001


@dataclass
class HeldTimes:
    """One administration's finished consultations: held business days, and whether each
    ended in an answer (else censored there: tacit, or cancelled)."""

    durations: list[float] = field(default_factory=list)
    answered: list[bool] = field(default_factory=list)

    @property
    def answers(self) -> int:
        return sum(self.answered)


def held_times(session: Session) -> dict[str, HeldTimes]:
    """Held time (business days) of every finished consultation, by administration."""
    found: dict[str, HeldTimes] = defaultdict(HeldTimes)
    rows = session.connection().execute(
        select(
            ConsultationFact.administration_code,
            ConsultationFact.held_business_days,
            ConsultationFact.outcome == Outcome.ANSWERED.value,
        ).where(
            ConsultationFact.outcome != Outcome.OPEN.value,
            ConsultationFact.held_business_days.is_not(None),
        )
    )
    for code, held, answered in rows:
        if held is not None:
            times = found[code]
            times.durations.append(float(held))
            times.answered.append(bool(answered))
    return dict(found)


def fit_lognormal(
    values: Iterable[float], answered: Sequence[bool] | None = None
) -> Fixed | LogNormal:
    """The maximum-likelihood lognormal of ``values`` (business days; ``answered``: which are
    observed, the others right-censored there; default: all observed), as median and p90;
    a fixed delay when the answers are all equal (no spread to fit)."""
    data = np.maximum(np.asarray(list(values), dtype=float), FLOOR)
    observed = np.ones(len(data), dtype=bool) if answered is None else np.asarray(answered)
    answers = data[observed]
    if observed.all() and float(answers.min()) == float(answers.max()):
        return Fixed(kind="fixed", value=round(float(answers[0]), 3), unit="business_days")
    if observed.all():
        sigma, _location, scale = stats.lognorm.fit(data, floc=0)
        median, spread = float(scale), float(sigma)
    else:
        fitter = LogNormalFitter().fit(data, event_observed=observed)
        median, spread = math.exp(float(fitter.mu_)), float(fitter.sigma_)
    return LogNormal(
        kind="lognormal",
        median=round(median, 3),
        p90=round(median * math.exp(spread * Z90), 3),
        unit="business_days",
    )


def choose_responses(
    config: SimulationConfig,
    administrations: Iterable[str],
    history: Mapping[str, HeldTimes],
) -> list[Chosen]:
    """Each administration's response distribution: the scenario's, else fitted from
    ``history`` when it has at least ``config.fit.min_answered`` answers (its silences
    censored), else the legal delay."""
    chosen = []
    for code in administrations:
        given = config.administrations.get(code)
        observed = history.get(code, HeldTimes())
        if given is not None and given.response is not None:
            chosen.append(Chosen(code, given.response, "file", observed.answers))
        elif observed.answers >= config.fit.min_answered:
            fitted = fit_lognormal(observed.durations, observed.answered)
            chosen.append(Chosen(code, fitted, "fitted", observed.answers))
        else:
            chosen.append(Chosen(code, Legal(kind="legal"), "legal", observed.answers))
    return chosen
