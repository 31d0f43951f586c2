"""The what-ifs managers asked for: one row per simulation run, its parameters, where it
stands and, once done, its answer (the current status on the row itself)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from accelerator.shared.db import Base, JSONType, UTCDateTime, new_id


class SimulationRun(Base):
    """A what-if queued from the managers' page, run in the background by a flow."""

    __tablename__ = "simulation_runs"
    __table_args__ = (Index("ix_simulation_runs_status_requested", "status", "requested_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    #: Who asked (kept for the record; the page does not show it: runs are the platform's).
    requested_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    dossiers: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(BigInteger)
    #: The scenario as ``simulation.schemas.SimulationConfig`` dumps it (JSON mode), read
    #: back through the same model when the run starts.
    scenario: Mapped[dict[str, Any]] = mapped_column(JSONType)
    #: ``whatif.status.RunStatus``.
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The answer (``whatif.schemas.RunResult``: p50/p85/p95 of each mode, the ratio...).
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    #: Why a failed run failed, in French, as the page shows it.
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
