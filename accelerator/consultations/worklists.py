"""Work lists of consultations for the pages: an administration's open consultations by due
date, and the managers' late and at-risk ones (from today's clocks). A fixed number of queries
whatever the number of consultations; the rows are then shown with ``queries.build_views``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, func, not_, select
from sqlalchemy.orm import Session

from accelerator.access import consultation_visibility
from accelerator.consultations.models import Consultation
from accelerator.consultations.status import FINISHED
from accelerator.identity.models import User
from accelerator.sla.definitions import ClockKind, ClockState, RungName
from accelerator.sla.models import Clock, ClockRung

#: The most rows a page may ask for.
MAX_PAGE_SIZE = 100


def is_open() -> ColumnElement[bool]:
    """SQL: the administration has not finished (no opinion, not tacit, not cancelled)."""
    return Consultation.status.not_in([s.value for s in FINISHED])


def open_consultations(
    session: Session, user: User, *, limit: int, offset: int = 0
) -> tuple[int, list[Consultation]]:
    """The open consultations ``user`` may see (an agent: their administration's), the nearest
    deadline first and the paused ones (no deadline) last: how many, and one page."""
    condition = and_(consultation_visibility(user), is_open())
    count = session.scalar(select(func.count()).select_from(Consultation).where(condition))
    page = session.scalars(
        select(Consultation)
        .where(condition)
        .order_by(Consultation.due_at.is_(None), Consultation.due_at, Consultation.id)
        .limit(max(1, min(limit, MAX_PAGE_SIZE)))
        .offset(max(0, offset))
    )
    return int(count or 0), list(page)


def late(now: dt.datetime) -> ColumnElement[bool]:
    """SQL: a running clock of the consultation (its legal deadline or the platform's internal
    target, half of it) is past its deadline."""
    return exists(
        select(Clock.id).where(
            Clock.consultation_id == Consultation.id,
            Clock.kind.in_(
                [ClockKind.CONSULTATION_DEADLINE.value, ClockKind.CONSULTATION_TARGET.value]
            ),
            Clock.state == ClockState.RUNNING.value,
            Clock.due_at <= now,
        )
    )


def at_risk(now: dt.datetime) -> ColumnElement[bool]:
    """SQL: three quarters of the legal deadline have run (its ``reminder_75`` rung is due)."""
    return exists(
        select(ClockRung.id)
        .join(Clock, Clock.id == ClockRung.clock_id)
        .where(
            Clock.consultation_id == Consultation.id,
            Clock.kind == ClockKind.CONSULTATION_DEADLINE.value,
            Clock.state == ClockState.RUNNING.value,
            ClockRung.name == RungName.REMINDER_75.value,
            ClockRung.due_at <= now,
        )
    )


@dataclass(frozen=True)
class Watchlist:
    """What managers watch: late consultations, then those at risk (counts and first rows)."""

    late_count: int
    late: list[Consultation]
    at_risk_count: int
    at_risk: list[Consultation]


def watchlist(session: Session, user: User, *, now: dt.datetime, limit: int) -> Watchlist:
    """Open consultations past a deadline, and those not late yet at risk (four queries)."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    visible = and_(consultation_visibility(user), is_open())
    found = {}
    for name, condition in (
        ("late", late(now)),
        ("at_risk", and_(at_risk(now), not_(late(now)))),
    ):
        where = and_(visible, condition)
        count = session.scalar(select(func.count()).select_from(Consultation).where(where))
        rows = session.scalars(
            select(Consultation)
            .where(where)
            .order_by(Consultation.due_at.is_(None), Consultation.due_at, Consultation.id)
            .limit(limit)
        )
        found[name] = (int(count or 0), list(rows))
    return Watchlist(
        late_count=found["late"][0],
        late=found["late"][1],
        at_risk_count=found["at_risk"][0],
        at_risk=found["at_risk"][1],
    )
