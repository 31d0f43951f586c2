"""The statistics of the figures, as pure functions over numbers the queries fetched.

Percentile definition: ``numpy.percentile(values, q, method="linear")``, the "linear"
interpolation between closest ranks (Hyndman and Fan's type 7, R's and NumPy's default,
PostgreSQL's ``percentile_cont``): for sorted values ``x[0..n-1]``, the q-th percentile is
``x[i] + f * (x[i+1] - x[i])`` with ``i + f = (n - 1) * q / 100``. So the median of 2, 4 is
3, and p90 of 1..10 is 9.1. An empty list has no percentile (None), never 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: The percentiles shown for durations ("la moitié en moins de X, 90 % en moins de Y").
LEVELS = (50, 85, 90, 95)
#: Age buckets of open work, in whole days since sending: (label, first day, last day).
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("days_0_30", 0, 30),
    ("days_31_60", 31, 60),
    ("days_61_90", 61, 90),
    ("days_over_90", 91, None),
)
#: The share of opinions given within the internal target the platform aims at (the
#: heatmap's colour: at or above it, met).
ON_TIME_GOAL = 0.8
#: The weeks the heatmap shows when the period has no first day, and the most it shows.
HEATMAP_WEEKS = 12
MAX_HEATMAP_WEEKS = 106
#: Figures are rounded for display: 3 decimals (under 2 minutes of a day).
DIGITS = 3


def rounded(value: float | None) -> float | None:
    """``value`` rounded for display (None stays None)."""
    return None if value is None else round(float(value), DIGITS)


def percentiles(values: Sequence[float], levels: Sequence[int] = LEVELS) -> dict[int, float | None]:
    """The ``levels`` percentiles of ``values`` (linear interpolation); None when empty."""
    if len(values) == 0:
        return dict.fromkeys(levels)
    found = np.percentile(np.asarray(values, dtype=float), list(levels), method="linear")
    return {level: rounded(float(value)) for level, value in zip(levels, found, strict=True)}


def median(values: Sequence[float]) -> float | None:
    """The median of ``values`` (None when empty)."""
    return percentiles(values, (50,))[50]


def share(part: int, whole: int) -> float | None:
    """``part / whole`` rounded, None when ``whole`` is 0 (no item: no share, not 0 %)."""
    return None if whole == 0 else round(part / whole, DIGITS)


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator`` rounded, None when the denominator is 0."""
    return None if denominator == 0 else round(numerator / denominator, DIGITS)
