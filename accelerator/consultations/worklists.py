"""Work lists of consultations for the pages: an administration's open consultations by due
date, and the managers' late and at-risk ones (from today's clocks). A fixed number of queries
whatever the number of consultations; the rows are then shown with ``queries.build_views``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, func, not_, select
from sqlalchemy.orm import Session

from accelerator.consultations.access import consultation_visibility
from accelerator.consultations.models import Consultation
from accelerator.consultations.status import FINISHED, ConsultationStatus
from accelerator.identity.models import User
from accelerator.sla.definitions import ClockKind, ClockState
from accelerator.sla.models import Clock

#: The most rows a page may ask for.
MAX_PAGE_SIZE = 100


def is_open() -> ColumnElement[bool]:
    """SQL: the administration has not finished (no opinion, not tacit, not cancelled)."""
    return Consultation.status.not_in([s.value for s in FINISHED])


def open_consultations(
    session: Session,
    user: User,
    *,
    page: int,
    page_size: int,
    status: ConsultationStatus | None = None,
    consultation_type: str | None = None,
) -> tuple[int, int, list[Consultation]]:
    """The consultations ``user`` may see (an agent: their administration's), open ones
    unless ``status`` names another, of ``consultation_type`` if given; the nearest deadline
    first and the paused ones (no deadline) last: how many, the page shown (at most the last)
    and its rows. Two queries."""
    condition = and_(
        consultation_visibility(user),
        is_open() if status is None else Consultation.status == status.value,
    )
    if consultation_type is not None:
        condition = and_(condition, Consultation.consultation_type_code == consultation_type)
    count = int(
        session.scalar(select(func.count()).select_from(Consultation).where(condition)) or 0
    )
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    page = max(1, min(page, -(-count // page_size)))
    rows = session.scalars(
        select(Consultation)
        .where(condition)
        .order_by(Consultation.due_at.is_(None), Consultation.due_at, Consultation.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    return count, page, list(rows)


def status_counts(
    session: Session, user: User, *, consultation_type: str | None = None
) -> dict[ConsultationStatus, int]:
    """How many consultations ``user`` may see are in each status (of ``consultation_type``
    if given); every status is a key. One query."""
    condition = consultation_visibility(user)
    if consultation_type is not None:
        condition = and_(condition, Consultation.consultation_type_code == consultation_type)
    counts = dict.fromkeys(ConsultationStatus, 0)
    for status, count in session.execute(
        select(Consultation.status, func.count()).where(condition).group_by(Consultation.status)
    ):
        counts[ConsultationStatus(status)] = int(count)
    return counts


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


#: A consultation is at risk when the platform's internal target falls within this.
RISK_HORIZON = dt.timedelta(days=7)


def at_risk(now: dt.datetime) -> ColumnElement[bool]:
    """SQL: the internal target (an opinion at half the legal deadline) is running and falls
    within ``RISK_HORIZON``."""
    return exists(
        select(Clock.id).where(
            Clock.consultation_id == Consultation.id,
            Clock.kind == ClockKind.CONSULTATION_TARGET.value,
            Clock.state == ClockState.RUNNING.value,
            Clock.due_at <= now + RISK_HORIZON,
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
    """Open consultations past a deadline (legal, or the internal target), and those not
    late whose internal target is near (four queries)."""
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
