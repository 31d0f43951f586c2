"""Mergeable histograms of durations, for percentiles over more rows than are worth reading.

A sketch counts values in logarithmic buckets (the scheme of DDSketch, Masson et al., VLDB
2019): bucket ``k`` holds the values in ``(γ^(k-1), γ^k]`` with ``γ = (1 + α) / (1 - α)``, and
stands for ``2γ^k / (γ + 1)``, within a relative ``α`` of every value it holds. Values at or
under ``ZERO`` (about 9 seconds of a day) share one bucket standing for 0. Sketches add up
(counts), and subtract (a removed value), so the rollups keep one per cell and merge those a
figure selects (``metrics.rollups``).

A percentile of a sketch is the linear interpolation of ``figures.percentiles`` (PostgreSQL's
``percentile_cont``) between the two order statistics around its rank, each read as its
bucket's value: within ``ALPHA`` of the exact figure, relatively.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

#: Relative accuracy of every order statistic read from a sketch (0.5 %).
ALPHA = 0.005
GAMMA = (1 + ALPHA) / (1 - ALPHA)
_LOG_GAMMA = math.log(GAMMA)
#: Values at or under this (days) count as 0.
ZERO = 1e-4
#: The bucket of the values at or under ``ZERO``.
ZERO_BUCKET = math.floor(math.log(ZERO) / _LOG_GAMMA)

#: A sketch in memory: bucket → count (counts may be negative in a delta).
Sketch = Counter[int]


def bucket(value: float) -> int:
    """The bucket of ``value`` (negative values, none in practice, count as 0)."""
    if value <= ZERO:
        return ZERO_BUCKET
    return math.ceil(math.log(value) / _LOG_GAMMA)


def representative(buckets: np.ndarray) -> np.ndarray:
    """The value each bucket stands for."""
    values = 2.0 * np.power(GAMMA, buckets.astype(float)) / (GAMMA + 1.0)
    return np.where(buckets == ZERO_BUCKET, 0.0, values)


def of(values: Iterable[float]) -> Sketch:
    """The sketch of ``values``."""
    return Counter(bucket(v) for v in values)


def dumps(sketch: Sketch) -> bytes | None:
    """``sketch`` stored: its buckets (int32) then their counts (int64); None when empty."""
    items = sorted((k, n) for k, n in sketch.items() if n)
    if not items:
        return None
    keys = np.fromiter((k for k, _ in items), dtype="<i4", count=len(items))
    counts = np.fromiter((n for _, n in items), dtype="<i8", count=len(items))
    return keys.tobytes() + counts.tobytes()


def loads(data: bytes | None) -> Sketch:
    """A stored sketch back in memory."""
    if not data:
        return Counter()
    size = len(data) // 12
    keys = np.frombuffer(data, dtype="<i4", count=size)
    counts = np.frombuffer(data, dtype="<i8", count=size, offset=4 * size)
    return Counter(dict(zip(keys.tolist(), counts.tolist(), strict=True)))


def merged(stored: Iterable[bytes | None]) -> tuple[np.ndarray, np.ndarray]:
    """The buckets and counts of the stored sketches added together, buckets in order."""
    keys: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    for data in stored:
        if data:
            size = len(data) // 12
            keys.append(np.frombuffer(data, dtype="<i4", count=size))
            counts.append(np.frombuffer(data, dtype="<i8", count=size, offset=4 * size))
    if not keys:
        return np.empty(0, dtype="<i4"), np.empty(0, dtype="<i8")
    found, where = np.unique(np.concatenate(keys), return_inverse=True)
    total = np.bincount(where, weights=np.concatenate(counts)).astype(np.int64)
    kept = total > 0
    return found[kept], total[kept]


def percentiles(
    buckets: np.ndarray, counts: np.ndarray, levels: Sequence[int]
) -> dict[int, float | None]:
    """The ``levels`` percentiles of a merged sketch (None when empty), unrounded."""
    n = int(counts.sum())
    if n == 0:
        return dict.fromkeys(levels)
    values = representative(buckets)
    # The last rank each bucket holds (ranks from 0).
    last = np.cumsum(counts) - 1

    def at(rank: int) -> float:
        return float(values[int(np.searchsorted(last, rank))])

    result: dict[int, float | None] = {}
    for level in levels:
        position = (n - 1) * level / 100
        low = math.floor(position)
        high = min(low + 1, n - 1)
        result[level] = at(low) + (position - low) * (at(high) - at(low))
    return result
