"""What a what-if run takes when it starts, and the answer it stores (validated before it is
written, so that a page never reads a half-formed result)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True)
class RunParameters:
    """A started run's inputs, detached from its session (a flow passes ids and values)."""

    run_id: uuid.UUID
    dossiers: int
    seed: int
    #: The scenario as stored (``simulation.schemas.SimulationConfig`` in JSON mode).
    scenario: dict[str, Any]


class ModeFigures(BaseModel):
    """Time-to-decision of one mode (filing → consolidation, days)."""

    model_config = ConfigDict(extra="ignore")

    n: int = Field(ge=0)
    p50: float | None
    p85: float | None
    p95: float | None
    tacit: int = Field(ge=0)
    information_requests: int = Field(ge=0)


class RunResult(BaseModel):
    """A finished run's answer, as ``simulation.rules.as_json`` writes it: each mode's
    percentiles, their ratio parallel / serial, each administration's distribution and
    where it came from, the notes, the seconds it took."""

    model_config = ConfigDict(extra="ignore")

    seconds: float = Field(ge=0)
    #: ``parallel`` and ``serial``.
    modes: dict[str, ModeFigures]
    #: ``p50``, ``p85``, ``p95``: parallel over serial (None unless both modes ran).
    ratio: dict[str, float | None] | None
    responses: dict[str, dict[str, Any]] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)
