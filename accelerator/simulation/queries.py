"""The default response distributions: fitted from the history of a database (the
consultation facts the managers' figures read), the legal delay where history is thin.

Each administration's answered consultations give their held time in business days (waiting
for the holder excluded, ``metrics.facts``); a lognormal is fitted to them by maximum
likelihood (``scipy.stats.lognorm.fit`` with its location fixed at 0). Tacit opinions are left
out: they say only that the administration would have taken longer than its deadline (a
right-censored observation this fit does not model), so a fitted distribution is optimistic
for an administration that is often silent.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping

import numpy as np
from scipy import stats
from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.metrics.facts import Outcome
from accelerator.metrics.models import ConsultationFact
from accelerator.simulation.rules import Z90
from accelerator.simulation.schemas import Chosen, Fixed, Legal, LogNormal, SimulationConfig

#: A held time under this (business days, about 1 minute) counts as this: a lognormal has no 0.
FLOOR = 0.001


def answered_held_times(session: Session) -> dict[str, list[float]]:
    """Held time (business days) of every answered consultation, by administration."""
    found: dict[str, list[float]] = defaultdict(list)
    rows = session.execute(
        select(ConsultationFact.administration_code, ConsultationFact.held_business_days).where(
            ConsultationFact.outcome == Outcome.ANSWERED.value,
            ConsultationFact.held_business_days.is_not(None),
        )
    )
    for code, held in rows:
        if held is not None:
            found[code].append(float(held))
    return dict(found)


def fit_lognormal(values: Iterable[float]) -> Fixed | LogNormal:
    """The maximum-likelihood lognormal of ``values`` (business days), as median and p90; a
    fixed delay when they are all equal (no spread to fit)."""
    data = np.maximum(np.asarray(list(values), dtype=float), FLOOR)
    if float(data.min()) == float(data.max()):
        return Fixed(kind="fixed", value=round(float(data[0]), 3), unit="business_days")
    sigma, _location, scale = stats.lognorm.fit(data, floc=0)
    median = float(scale)
    return LogNormal(
        kind="lognormal",
        median=round(median, 3),
        p90=round(median * math.exp(float(sigma) * Z90), 3),
        unit="business_days",
    )


def choose_responses(
    config: SimulationConfig,
    administrations: Iterable[str],
    history: Mapping[str, list[float]],
) -> list[Chosen]:
    """Each administration's response distribution: the scenario's, else fitted from
    ``history`` when it has at least ``config.fit.min_answered`` answers, else the legal delay."""
    chosen = []
    for code in administrations:
        given = config.administrations.get(code)
        observed = history.get(code, [])
        if given is not None and given.response is not None:
            chosen.append(Chosen(code, given.response, "file", len(observed)))
        elif len(observed) >= config.fit.min_answered:
            chosen.append(Chosen(code, fit_lognormal(observed), "fitted", len(observed)))
        else:
            chosen.append(Chosen(code, Legal(kind="legal"), "legal", len(observed)))
    return chosen
