"""Horizontal bar charts as geometry: where each bar, label and tick goes, computed here and
drawn as inline SVG by the templates (no script, no image file, the same in HTML and PDF).

A chart is never alone: the template puts the table of its numbers beside it, so a reader
(or a screen reader) that cannot see the bars loses nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: The drawing's size in CSS pixels (it scales with the page).
WIDTH = 640
LABEL_WIDTH = 110
VALUE_WIDTH = 64
BAR_HEIGHT = 12
BAR_GAP = 3
ROW_GAP = 12
TOP = 8
AXIS_HEIGHT = 22


@dataclass(frozen=True)
class Series:
    """One kind of bar: its legend and its colour (a DSFR colour, contrast ≥ 4.5:1 on white)."""

    label: str
    colour: str


@dataclass(frozen=True)
class Bar:
    """One bar, or a missing value (no bar; its text says why)."""

    x: float
    y: float
    width: float
    height: float
    colour: str
    text: str
    text_x: float
    text_y: float


@dataclass(frozen=True)
class Row:
    """One category (an administration): its label and its bars, one per series."""

    label: str
    label_y: float
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class Tick:
    """A graduation of the value axis."""

    x: float
    text: str


@dataclass(frozen=True)
class BarChart:
    """Everything the template needs to draw one chart."""

    id: str
    title: str
    description: str
    width: int
    height: float
    plot_left: float
    plot_right: float
    axis_y: float
    rows: tuple[Row, ...]
    ticks: tuple[Tick, ...]
    series: tuple[Series, ...]


def nice_maximum(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ that is at least ``value`` (1 for nothing)."""
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * magnitude * (1 + 1e-9):
            return step * magnitude
    return 10.0 * magnitude  # pragma: no cover - the loop ends at 10


def bar_chart(
    id: str,
    title: str,
    description: str,
    rows: Sequence[tuple[str, Sequence[float | None]]],
    series: Sequence[Series],
    *,
    show: Callable[[float], str],
    missing: str,
    maximum: float | None = None,
    ticks: int = 4,
) -> BarChart:
    """A horizontal bar chart: for each ``(label, values)`` row, one bar per series, to scale
    on an axis from 0 to ``maximum`` (by default a round number above the largest value);
    ``show`` writes a value, ``missing`` stands for a value that does not exist."""
    largest = max((v for _, values in rows for v in values if v is not None), default=0.0)
    top = maximum if maximum is not None else nice_maximum(largest)
    left, right = float(LABEL_WIDTH), float(WIDTH - VALUE_WIDTH)
    span = right - left
    drawn: list[Row] = []
    y = float(TOP)
    for label, values in rows:
        bars = []
        for index, value in enumerate(values):
            bar_y = y + index * (BAR_HEIGHT + BAR_GAP)
            width = 0.0 if value is None else span * min(max(value, 0.0), top) / top
            bars.append(
                Bar(
                    x=left,
                    y=bar_y,
                    width=round(width, 2),
                    height=BAR_HEIGHT,
                    colour=series[index].colour,
                    text=missing if value is None else show(value),
                    text_x=round(left + width + 4, 2),
                    text_y=bar_y + BAR_HEIGHT - 2,
                )
            )
        block = len(values) * BAR_HEIGHT + (len(values) - 1) * BAR_GAP
        drawn.append(Row(label=label, label_y=y + block / 2 + 4, bars=tuple(bars)))
        y += block + ROW_GAP
    axis_y = y - ROW_GAP / 2
    graduations = tuple(
        Tick(x=round(left + span * i / ticks, 2), text=show(top * i / ticks))
        for i in range(ticks + 1)
    )
    return BarChart(
        id=id,
        title=title,
        description=description,
        width=WIDTH,
        height=axis_y + AXIS_HEIGHT,
        plot_left=left,
        plot_right=right,
        axis_y=axis_y,
        rows=tuple(drawn),
        ticks=graduations,
        series=tuple(series),
    )
