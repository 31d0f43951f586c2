"""Clocks: deadlines, pauses, rungs, and how each deadline was derived."""

from __future__ import annotations

from accelerator.consultations.access import access_clock
from accelerator.shared.db import utcnow
from accelerator.sla.queries import clock_detail, clock_timeline
from accelerator.sla.schemas import ClockDetailOut, TimelineOut
from api.deps import CurrentUser, SessionDep, parse_id
from api.policies import Scope, allow
from api.unit_of_work import Router

router = Router(prefix="/api/v1/clocks", tags=["délais"])

#: Those who see the clock's dossier; agents, only their administration's consultation clocks.
CLOCK_READERS = allow(
    holder=Scope.OWN_ORGANISATION,
    referent=Scope.FILED,
    agent=Scope.CONSULTED_ADMINISTRATION,
    manager=Scope.FILED,
    admin=Scope.FILED,
)


@router.get("/{clock_id}", policy=CLOCK_READERS)
def show(clock_id: str, session: SessionDep, user: CurrentUser) -> ClockDetailOut:
    """One clock: pinned versions, pauses, rungs and the derivation of its deadline."""
    return clock_detail(session, access_clock(session, user, parse_id(clock_id, "Délai")))


@router.get("/{clock_id}/timeline", policy=CLOCK_READERS)
def timeline(clock_id: str, session: SessionDep, user: CurrentUser) -> TimelineOut:
    """Running / paused / outside working hours / holiday segments, and a plain explanation."""
    clock = access_clock(session, user, parse_id(clock_id, "Délai"))
    return clock_timeline(session, clock, now=utcnow())
