"""The breach forecast: survival analysis of how long administrations hold consultations.

For a consultation of an administration and consultation type, let T be the time the
administration holds it before answering (held days: waiting for the holder excluded, the
same time scale as a suspended deadline). ``S(t) = P(T > t)`` is estimated with lifelines'
Kaplan–Meier estimator from the history of comparable consultations: an answer is an event
at its held duration; a tacit opinion (no answer by the deadline), a cancellation and every
consultation still open are censored observations at their held duration so far (we know
only that T exceeds it).

For an open consultation held for ``a`` days whose deadline falls at held age ``d`` (``a``
plus the time left before its legal deadline), it misses its deadline if it is still
unanswered at ``d``:

    P(breach | unanswered at a) = P(T > d | T > a) = S(d) / S(a)

(``1 - S(d) / S(a)`` is the complementary probability of an answer in time). When the
deadline is already past (``d <= a``) the probability is 1; when ``S(a) = 0`` (every
comparable consultation was answered sooner: beyond the history) it is taken as 1.

A group (administration × type) with fewer than ``MIN_ANSWERS`` answers is too thin: the
consultation type's whole history is used instead, then every consultation's (``basis``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from lifelines import KaplanMeierFitter

#: Answers a group needs before its own curve is trusted.
MIN_ANSWERS = 5
DECILES = 10


@dataclass(frozen=True)
class Survival:
    """A fitted ``S(t)`` and how many observations it rests on."""

    fitter: KaplanMeierFitter
    n: int
    answers: int
    #: The step function's times (from 0) and values, read once from the fitter: ``at`` is
    #: called for every open consultation, and lifelines' ``predict`` costs a pandas lookup.
    times: np.ndarray = field(init=False, repr=False, compare=False)
    values: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        table = self.fitter.survival_function_
        object.__setattr__(self, "times", np.asarray(table.index, dtype=float))
        object.__setattr__(self, "values", np.asarray(table.iloc[:, 0], dtype=float))

    def at(self, t: float) -> float:
        """``S(t)``: the probability that a consultation is still unanswered after ``t`` (the
        step function's value at the last time ``<= t``, as lifelines' ``predict``)."""
        position = int(np.searchsorted(self.times, max(t, 0.0), side="right")) - 1
        return 1.0 if position < 0 else float(self.values[position])


def fit(durations: Sequence[float], answered: Sequence[bool]) -> Survival:
    """The Kaplan–Meier estimate of ``S`` from held durations (``answered``: an event;
    otherwise censored at that duration)."""
    fitter = KaplanMeierFitter()
    fitter.fit(
        np.asarray(durations, dtype=float).clip(min=0.0),
        event_observed=np.asarray(answered, dtype=bool),
    )
    return Survival(fitter, len(durations), int(np.sum(np.asarray(answered, dtype=bool))))


def breach_probability(survival: Survival, *, age: float, due_age: float) -> float:
    """``S(due_age) / S(age)``: the probability that a consultation unanswered at ``age``
    is still unanswered at its deadline (module docstring)."""
    if due_age <= age:
        return 1.0
    alive = survival.at(age)
    if alive <= 0.0:
        return 1.0
    return min(1.0, survival.at(due_age) / alive)


@dataclass(frozen=True)
class Decile:
    """Predictions of one decile (by rank) against what happened."""

    decile: int
    n: int
    predicted: float
    observed: float


def calibration(predicted: Sequence[float], breached: Sequence[bool]) -> list[Decile]:
    """Mean predicted probability against observed breach rate, per decile of predictions
    (sorted by prediction and cut into ten groups of equal size, ±1; empty deciles left
    out). A well-calibrated forecast has ``predicted ≈ observed`` in every decile."""
    p = np.asarray(predicted, dtype=float)
    outcome = np.asarray(breached, dtype=float)
    order = np.argsort(p, kind="stable")
    result = []
    for index, part in enumerate(np.array_split(order, DECILES), start=1):
        if len(part) == 0:
            continue
        result.append(Decile(index, len(part), float(p[part].mean()), float(outcome[part].mean())))
    return result
