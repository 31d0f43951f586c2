"""Work lists of consultations for the pages: an administration's open consultations by due
date, and the managers' late and at-risk ones (from today's clocks). A fixed number of queries
whatever the number of consultations; the rows are then shown with ``queries.build_views``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, func, not_, select
from sqlalchemy.orm import Session

from accelerator.catalogue.models import Administration, Commune, ConsultationType
from accelerator.consultations.access import consultation_visibility
from accelerator.consultations.deadline import NEAREST_FIRST, with_deadline
from accelerator.consultations.models import Consultation
from accelerator.consultations.status import FINISHED, LABELS, ConsultationStatus
from accelerator.dossiers.models import Dossier
from accelerator.identity.models import User
from accelerator.sla.definitions import ClockKind, ClockState
from accelerator.sla.durations import Duration, make_duration
from accelerator.sla.models import Calendar, Clock

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
        with_deadline(select(Consultation))
        .where(condition)
        .order_by(*NEAREST_FIRST)
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


def watchlist(
    session: Session,
    user: User,
    *,
    now: dt.datetime,
    limit: int,
    administration: str | None = None,
) -> Watchlist:
    """Open consultations past a deadline (legal, or the internal target), and those not
    late whose internal target is near (four queries); of one ``administration`` if given."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    visible = and_(consultation_visibility(user), is_open())
    if administration is not None:
        visible = and_(visible, Consultation.administration_code == administration)
    found = {}
    for name, condition in (
        ("late", late(now)),
        ("at_risk", and_(at_risk(now), not_(late(now)))),
    ):
        where = and_(visible, condition)
        count = session.scalar(select(func.count()).select_from(Consultation).where(where))
        rows = session.scalars(
            with_deadline(select(Consultation)).where(where).order_by(*NEAREST_FIRST).limit(limit)
        )
        found[name] = (int(count or 0), list(rows))
    return Watchlist(
        late_count=found["late"][0],
        late=found["late"][1],
        at_risk_count=found["at_risk"][0],
        at_risk=found["at_risk"][1],
    )


@dataclass(frozen=True)
class ConsultationRow:
    """One line of a consultation list: what a table shows of a consultation."""

    id: uuid.UUID
    dossier_id: uuid.UUID
    reference: str | None
    title: str
    commune_name: str | None
    commune_insee: str
    administration: str
    administration_name: str
    #: The administration's calendar's zone: the row's times are shown in it.
    timezone: str
    consultation_type_label: str
    status: str
    status_label: str
    sent_at: dt.datetime
    due_at: dt.datetime | None
    #: Waiting for the holder (its status, or its deadline's clock paused).
    paused: bool
    #: While paused: what the deadline will count from the holder's answer.
    left_on_resume: Duration | None
    #: The internal target's deadline while it runs.
    target_due_at: dt.datetime | None


def consultation_rows(
    session: Session, consultations: Sequence[Consultation]
) -> list[ConsultationRow]:
    """The rows of ``consultations``, in their order: one query, whatever their number."""
    if not consultations:
        return []
    deadline = Clock.__table__.alias("deadline")
    target = Clock.__table__.alias("target")
    query = (
        select(
            Consultation.id,
            Dossier.id,
            Dossier.reference,
            Dossier.title,
            Commune.name,
            Dossier.commune_insee,
            Administration.code,
            Administration.name,
            Calendar.timezone,
            ConsultationType.label,
            Consultation.status,
            Consultation.sent_at,
            deadline.c.due_at,
            deadline.c.state,
            deadline.c.left_amount,
            deadline.c.left_unit,
            target.c.due_at,
        )
        .join(Dossier, Dossier.id == Consultation.dossier_id)
        .join(Administration, Administration.code == Consultation.administration_code)
        .join(Calendar, Calendar.code == Administration.calendar_code)
        .join(ConsultationType, ConsultationType.code == Consultation.consultation_type_code)
        .outerjoin(Commune, Commune.insee == Dossier.commune_insee)
        .outerjoin(
            deadline,
            and_(
                deadline.c.consultation_id == Consultation.id,
                deadline.c.kind == ClockKind.CONSULTATION_DEADLINE.value,
            ),
        )
        .outerjoin(
            target,
            and_(
                target.c.consultation_id == Consultation.id,
                target.c.kind == ClockKind.CONSULTATION_TARGET.value,
                target.c.state == ClockState.RUNNING.value,
            ),
        )
        .where(Consultation.id.in_([c.id for c in consultations]))
    )
    found = {}
    for (
        id_, dossier_id, reference, title, commune, insee, code, name, zone, type_label,
        status, sent_at, due_at, clock_state, left_amount, left_unit, target_due,
    ) in session.execute(query):  # fmt: skip
        paused = (
            status == ConsultationStatus.AWAITING_INFORMATION or clock_state == ClockState.PAUSED
        )
        found[id_] = ConsultationRow(
            id=id_,
            dossier_id=dossier_id,
            reference=reference,
            title=title,
            commune_name=commune,
            commune_insee=insee,
            administration=code,
            administration_name=name,
            timezone=zone,
            consultation_type_label=type_label,
            status=status,
            status_label=LABELS[ConsultationStatus(status)],
            sent_at=sent_at,
            due_at=due_at,
            paused=paused,
            left_on_resume=make_duration(left_amount, left_unit)
            if clock_state == ClockState.PAUSED and left_amount is not None and left_unit
            else None,
            target_due_at=target_due,
        )
    return [found[c.id] for c in consultations if c.id in found]
