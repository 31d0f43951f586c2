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

How well past forecasts did (``backtest``): the forecast is made again as it would have been
at an origin in the past, from the history as it was known then (what finished before the
origin is an event or censored as above; what was still open then is censored at its held
age at the origin, whatever became of it later), for the consultations open at the origin;
each prediction is then set against what became of the consultation. Out of sample: nothing
that happened after the origin enters the curves.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
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


#: The history by (administration, consultation type): held durations and whether each
#: ended in an answer (an event) or is censored there.
Durations = dict[tuple[str, str], tuple[list[float], list[bool]]]


class Curves:
    """The curves of a history, fitted when first asked for: ``curves(administration,
    type)`` → the narrowest history with at least ``MIN_ANSWERS`` answers (administration ×
    type, then the type, then everything) and its basis."""

    def __init__(self, history: Durations) -> None:
        self.history = history
        self._fitted: dict[tuple[str, ...], Survival | None] = {}
        self._chosen: dict[tuple[str, str], tuple[Survival, str]] = {}

    def _fit(self, key: tuple[str, ...], keep: Iterable[tuple[str, str]]) -> Survival | None:
        if key not in self._fitted:
            rows = [self.history[k] for k in keep]
            durations = [d for r in rows for d in r[0]]
            answered = [a for r in rows for a in r[1]]
            self._fitted[key] = fit(durations, answered) if durations else None
        return self._fitted[key]

    def __call__(self, code: str, kind: str) -> tuple[Survival, str]:
        # Asked once per open consultation: the levels are looked through once per group.
        if (code, kind) not in self._chosen:
            self._chosen[(code, kind)] = self._choose(code, kind)
        return self._chosen[(code, kind)]

    def _choose(self, code: str, kind: str) -> tuple[Survival, str]:
        groups = list(self.history)
        levels = (
            (("pair", code, kind), "administration×type", [g for g in groups if g == (code, kind)]),
            (("type", kind), "type", [g for g in groups if g[1] == kind]),
            (("all",), "tout", groups),
        )
        for key, basis, keep in levels:
            found = self._fit(key, keep)
            if found is not None and (found.answers >= MIN_ANSWERS or key == ("all",)):
                return found, basis
        raise LookupError(code)


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


@dataclass(frozen=True, slots=True)
class Past:
    """One consultation of the history as its facts keep it, instants in days (any epoch)."""

    group: tuple[str, str]  # administration, consultation type
    sent: float
    #: The end (answer, tacit opinion or cancellation); None: still open.
    finished: float | None
    #: Held days at the end (finished only).
    held: float | None
    #: Waiting for the holder: the closed windows' days, and the start of one still open.
    waiting: float
    waiting_since: float | None
    answered: bool
    #: The legal deadline (None: none, or paused now).
    due: float | None
    #: Finished: tacit, or answered after the legal deadline; None: open or cancelled.
    missed: bool | None

    def held_at(self, at: float) -> float:
        """Held days at ``at`` (at or after the sending). The facts keep the waiting as one
        total, not its windows: all of it is counted as waited by ``at`` (and a window still
        open as begun), so the age is never overstated and censoring never comes late."""
        end = at if self.waiting_since is None else min(at, self.waiting_since)
        age = max(end - self.sent - self.waiting, 0.0)
        return age if self.held is None else min(age, self.held)


def history_at(pasts: Iterable[Past], origin: float) -> Durations:
    """The history as known at ``origin``: what finished before it is an event (answered) or
    censored at its held time; what was open then is censored at its held age then."""
    history: Durations = defaultdict(lambda: ([], []))
    for past in pasts:
        if past.sent >= origin:
            continue
        durations, events = history[past.group]
        if past.finished is not None and past.finished < origin:
            durations.append(max(past.held or 0.0, 0.0))
            events.append(past.answered)
        else:
            durations.append(past.held_at(origin))
            events.append(False)
    return dict(history)


def backtest(
    pasts: Sequence[Past],
    *,
    origin: float,
    now: float,
    items: Iterable[Past] | None = None,
    finished: Durations | None = None,
) -> tuple[list[float], list[bool]]:
    """The forecast made at ``origin`` (from ``history_at(pasts, origin)``) for each of the
    ``items`` (default: every past) open then with a legal deadline still to come, and
    whether it missed it: tacit or answered late, or still open now past its deadline. Those
    whose outcome is not known yet (open, deadline to come), paused now, or cancelled since
    are left out. ``finished``: the history of those finished before ``origin`` (held days,
    answered) when the caller read it apart, ``pasts`` then being the others only (the
    curves are the same: they do not depend on the order of the durations)."""
    history = history_at(pasts, origin)
    for group, (durations, events) in (finished or {}).items():
        known = history.setdefault(group, ([], []))
        known[0].extend(durations)
        known[1].extend(events)
    curves = Curves(history)
    predicted: list[float] = []
    missed: list[bool] = []
    for past in pasts if items is None else items:
        if past.sent >= origin or past.due is None or past.due < origin:
            continue
        if past.finished is not None and past.finished < origin:
            continue
        if past.finished is None:
            if past.due >= now:
                continue  # not known yet
            outcome = True
        elif past.missed is None:
            continue  # cancelled
        else:
            outcome = past.missed
        survival, _basis = curves(*past.group)
        age = past.held_at(origin)
        budget = past.due - past.sent - past.waiting
        predicted.append(breach_probability(survival, age=age, due_age=budget))
        missed.append(outcome)
    return predicted, missed
