"""A consultation's deadline is its deadline clock's: joined, never copied.

The clock moves with pauses, resumptions, interruptions and calendar changes; a copy kept on
the consultation would go stale (and a stale legal deadline is a legal fault).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_
from sqlalchemy.orm import aliased

from accelerator.consultations.models import Consultation
from accelerator.sla.definitions import ClockKind
from accelerator.sla.models import Clock

#: The consultations' deadline clocks, to join with :func:`with_deadline`.
Deadline = aliased(Clock, name="deadline_clock")

#: Nearest deadline first, then the paused ones (no deadline while paused).
NEAREST_FIRST = (Deadline.due_at.is_(None), Deadline.due_at, Consultation.id)


def with_deadline(query: Select[Any]) -> Select[Any]:
    """``query`` on consultations, joined to each one's deadline clock (``Deadline``)."""
    return query.outerjoin(
        Deadline,
        and_(
            Deadline.consultation_id == Consultation.id,
            Deadline.kind == ClockKind.CONSULTATION_DEADLINE.value,
        ),
    )
