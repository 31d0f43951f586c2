"""Choosing a référent as a pure rule: least loaded, then alphabetical e-mail (deterministic)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    """A référent who could take the dossier, with their current load."""

    user_id: uuid.UUID
    email: str
    load: int


def choose(candidates: Sequence[Candidate]) -> Candidate | None:
    """The least loaded candidate; ties go to the first e-mail in alphabetical order."""
    return min(candidates, key=lambda c: (c.load, c.email), default=None)
