"""Reads of the what-if runs: the recent ones, one by id, how many still wait."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accelerator.shared.errors import NotFound
from accelerator.shared.text import t
from accelerator.whatif.models import SimulationRun
from accelerator.whatif.status import WAITING


def recent_runs(session: Session, *, limit: int = 20) -> list[SimulationRun]:
    """The latest runs, newest first."""
    return list(
        session.scalars(
            select(SimulationRun)
            .order_by(SimulationRun.requested_at.desc(), SimulationRun.id)
            .limit(limit)
        )
    )


def get_run(session: Session, run_id: uuid.UUID) -> SimulationRun:
    """One run; ``NotFound`` if there is none with this id."""
    run = session.get(SimulationRun, run_id)
    if run is None:
        raise NotFound(t("whatif.not_found"))
    return run


def waiting_count(session: Session) -> int:
    """How many runs are queued or running."""
    return (
        session.scalar(
            select(func.count())
            .select_from(SimulationRun)
            .where(SimulationRun.status.in_([s.value for s in WAITING]))
        )
        or 0
    )
