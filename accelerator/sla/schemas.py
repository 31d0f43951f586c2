"""What the deadline calculator answers."""

from __future__ import annotations

from pydantic import BaseModel, Field


class DeadlineOut(BaseModel):
    """A computed deadline and how it was derived."""

    calendar: str
    timezone: str
    start: str
    add: str
    prorogation: bool
    deadline: str
    explanation: list[str]


class BetweenOut(BaseModel):
    """The amount of a unit between two instants."""

    calendar: str
    start: str
    end: str
    unit: str
    amount: int | float


class PauseOut(BaseModel):
    """One pause of a clock."""

    reason: str
    started_at: str
    ended_at: str | None


class RungOut(BaseModel):
    """One rung of a clock."""

    name: str
    label: str
    fraction: float
    due_at: str | None
    fired_at: str | None


class ClockDetailOut(BaseModel):
    """A clock with everything its deadline derives from."""

    id: str
    kind: str
    label: str
    dossier_id: str
    consultation_id: str | None
    calendar: str
    calendar_version: int
    definition: str | None
    definition_version: int | None
    started_at: str
    budget: str
    prorogation: bool
    pause_effect: str | None
    due_at: str | None
    state: str
    stopped_at: str | None
    left_on_resume: BudgetLeftOut | None = Field(
        default=None,
        description="Pendant une pause : le délai qui courra à la reprise (ce qui restait, ou "
        "tout le délai après une interruption).",
    )
    pauses: list[PauseOut]
    rungs: list[RungOut]
    explanation: list[str]


class SegmentOut(BaseModel):
    """A stretch of a clock's timeline."""

    kind: str
    start: str
    end: str
    label: str


class TimelineOut(BaseModel):
    """How a clock ran, and how its deadline was computed, for agents and holders."""

    clock_id: str
    due_at: str | None
    state: str
    segments: list[SegmentOut]
    explanation: list[str]
    for_holder: str


class BudgetLeftOut(BaseModel):
    """What a paused clock will count from its resumption."""

    amount: int
    unit: str
    label: str


class ClockOut(BaseModel):
    """A commitment measured on the dossier or one of its consultations."""

    id: str
    kind: str
    label: str
    consultation_id: str | None
    calendar: str
    started_at: str
    budget: str
    due_at: str | None
    state: str
    stopped_at: str | None
    left_on_resume: BudgetLeftOut | None = Field(
        default=None,
        description="Pendant une pause : le délai qui courra à la reprise (ce qui restait, ou "
        "tout le délai après une interruption).",
    )
