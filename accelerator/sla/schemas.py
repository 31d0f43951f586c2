"""What the deadline calculator answers."""

from __future__ import annotations

from pydantic import BaseModel


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
