"""Work lists of dossiers for the pages: the référent's queue by tab, the holder's count, the
dossiers past their take-in-charge deadline. Each list is a fixed number of queries whatever
the number of dossiers (counts grouped in SQL, one page of rows with its names joined)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.orm import Session

from accelerator.catalogue.models import Commune
from accelerator.dossiers.access import dossier_visibility
from accelerator.dossiers.models import Dossier
from accelerator.dossiers.status import LABELS, DossierStatus
from accelerator.identity.models import Organisation, User
from accelerator.sla.definitions import ClockKind, ClockState
from accelerator.sla.models import Calendar, Clock

S = DossierStatus
#: Rows per page of a work list when the caller does not say (the pages pass the
#: ``page_size`` setting, ``ACCELERATOR_PAGE_SIZE``, 20 by default).
PAGE_SIZE = 20
#: The most rows a page may ask for.
MAX_PAGE_SIZE = 100


class QueueTab(StrEnum):
    """The tabs of a référent's work queue, in the order of the work."""

    NEW = "new"
    TO_TAKE_IN_CHARGE = "to_take_in_charge"
    CONSULTING = "consulting"
    AWAITING_HOLDER = "awaiting_holder"
    TO_CONSOLIDATE = "to_consolidate"
    CLOSED = "closed"


@dataclass(frozen=True)
class DossierRow:
    """One line of a work list: what a table shows of a dossier."""

    id: str
    reference: str | None
    title: str
    status: str
    status_label: str
    commune_name: str | None
    commune_insee: str
    organisation: str
    timezone: str
    filed_at: dt.datetime | None
    referent_name: str | None
    #: The take-in-charge deadline while it runs (the 24 h countdown).
    take_charge_due_at: dt.datetime | None


@dataclass(frozen=True)
class TabPage:
    """One tab of the queue: its count and the rows of its current page."""

    tab: QueueTab
    count: int
    page: int
    pages: int
    rows: list[DossierRow]


def pages_for(count: int, page_size: int) -> int:
    """How many pages ``count`` rows make (at least one)."""
    return max(1, -(-count // page_size))


def queue_tab(user: User) -> ColumnElement[Any]:
    """SQL: the tab of a dossier in ``user``'s queue (NULL: not in it)."""
    mine = Dossier.referent_id == user.id
    return case(
        (and_(Dossier.status == S.FILED.value, Dossier.referent_id.is_(None)), QueueTab.NEW.value),
        (and_(Dossier.status == S.FILED.value, mine), QueueTab.TO_TAKE_IN_CHARGE.value),
        (
            and_(Dossier.status.in_([S.TAKEN_IN_CHARGE.value, S.CONSULTING.value]), mine),
            QueueTab.CONSULTING.value,
        ),
        (and_(Dossier.status == S.AWAITING_HOLDER.value, mine), QueueTab.AWAITING_HOLDER.value),
        (and_(Dossier.status == S.CONSOLIDATED.value, mine), QueueTab.TO_CONSOLIDATE.value),
        (
            and_(Dossier.status.in_([S.CLOSED.value, S.WITHDRAWN.value]), mine),
            QueueTab.CLOSED.value,
        ),
        else_=None,
    )


class QueueSort(StrEnum):
    """The columns a queue sorts by (``?tri=``)."""

    FILED_AT = "depot"
    REFERENCE = "reference"
    TITLE = "intitule"


#: The most rows an export of one tab holds.
MAX_EXPORT = 5_000
#: The longest search text (a title or a reference).
MAX_SEARCH = 100


def _order(sort: QueueSort, descending: bool) -> tuple[Any, ...]:
    column = {
        QueueSort.FILED_AT: Dossier.filed_at,
        QueueSort.REFERENCE: Dossier.reference,
        QueueSort.TITLE: Dossier.title,
    }[sort]
    return (column.desc() if descending else column.asc(), Dossier.id)


def _ranked(
    user: User, *, sort: QueueSort | None, descending: bool, search: str | None
) -> tuple[ColumnElement[Any], ColumnElement[bool], Any]:
    """The queue's tab expression, the rows it holds (``search`` in their title or
    reference), and a subquery ranking each dossier in its tab (``id``, ``tab``, ``rank``).

    Without a chosen sort: oldest filing first, but the closed tab newest first."""
    tab = queue_tab(user)
    visible = and_(dossier_visibility(user), tab.is_not(None))
    if search:
        text = search[:MAX_SEARCH]
        visible = and_(
            visible,
            Dossier.title.icontains(text, autoescape=True)
            | Dossier.reference.icontains(text, autoescape=True),
        )
    if sort is None:
        rank: Any = case(
            (
                tab == QueueTab.CLOSED.value,
                func.row_number().over(
                    partition_by=tab, order_by=(Dossier.filed_at.desc(), Dossier.id)
                ),
            ),
            else_=func.row_number().over(
                partition_by=tab, order_by=(Dossier.filed_at.asc(), Dossier.id)
            ),
        )
    else:
        rank = func.row_number().over(partition_by=tab, order_by=_order(sort, descending))
    ranked = (
        select(Dossier.id.label("id"), tab.label("tab"), rank.label("rank"))
        .where(visible)
        .subquery()
    )
    return tab, visible, ranked


def referent_queue(
    session: Session,
    user: User,
    *,
    selected: QueueTab,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    sort: QueueSort | None = None,
    descending: bool = False,
    search: str | None = None,
) -> list[TabPage]:
    """``user``'s queue: every tab with its count and one page of rows (the ``selected`` tab
    at ``page``, the others at their first page), sorted by ``sort`` (by default oldest filing
    first; closed: newest first), only the dossiers whose title or reference holds ``search``.

    New dossiers (filed, no référent proposed yet) are everyone's; the other tabs hold the
    dossiers ``user`` is the référent of (proposed or in charge). Three queries."""
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    tab, visible, ranked = _ranked(user, sort=sort, descending=descending, search=search)
    counts = {
        QueueTab(name): count
        for name, count in session.execute(
            select(tab.label("tab"), func.count()).where(visible).group_by(tab)
        )
    }
    pages = {
        t: max(1, min(page, pages_for(counts.get(t, 0), page_size))) if t is selected else 1
        for t in QueueTab
    }
    first = case(
        *((ranked.c.tab == t.value, (p - 1) * page_size) for t, p in pages.items()), else_=0
    )
    chosen = (
        select(ranked.c.id, ranked.c.tab, ranked.c.rank)
        .where(ranked.c.rank > first, ranked.c.rank <= first + page_size)
        .subquery()
    )
    rows: dict[QueueTab, list[tuple[int, DossierRow]]] = {t: [] for t in QueueTab}
    for row, tab_name, position in _rows(session, chosen):
        rows[QueueTab(tab_name)].append((position, row))
    return [
        TabPage(
            tab=t,
            count=counts.get(t, 0),
            page=pages[t],
            pages=pages_for(counts.get(t, 0), page_size),
            rows=[row for _, row in sorted(rows[t], key=lambda item: item[0])],
        )
        for t in QueueTab
    ]


def queue_export(
    session: Session,
    user: User,
    *,
    tab: QueueTab,
    sort: QueueSort | None = None,
    descending: bool = False,
    search: str | None = None,
) -> list[DossierRow]:
    """Every row of one tab of ``user``'s queue (at most :data:`MAX_EXPORT`), in the page's
    order: the CSV export. One query."""
    _, _, ranked = _ranked(user, sort=sort, descending=descending, search=search)
    chosen = (
        select(ranked.c.id, ranked.c.tab, ranked.c.rank)
        .where(ranked.c.tab == tab.value, ranked.c.rank <= MAX_EXPORT)
        .subquery()
    )
    found = sorted(_rows(session, chosen), key=lambda item: item[2])
    return [row for row, _, _ in found]


def overdue_take_charge(
    session: Session, user: User, *, now: dt.datetime, limit: int = PAGE_SIZE
) -> tuple[int, list[DossierRow]]:
    """Dossiers whose 24 h take-in-charge deadline has passed with nobody in charge (their
    clock still running), oldest deadline first: how many, and the first ``limit``."""
    condition = and_(
        dossier_visibility(user),
        Dossier.status == S.FILED.value,
        Clock.dossier_id == Dossier.id,
        Clock.kind == ClockKind.TAKE_CHARGE.value,
        Clock.state == ClockState.RUNNING.value,
        Clock.due_at <= now,
    )
    count = session.scalar(select(func.count()).select_from(Dossier, Clock).where(condition))
    # ``_rows`` reads a tab and a rank: here there is no tab, and the deadline ranks.
    chosen = (
        select(Dossier.id.label("id"), literal(None).label("tab"), Clock.due_at.label("rank"))
        .where(condition)
        .order_by(Clock.due_at, Dossier.id)
        .limit(max(1, min(limit, MAX_PAGE_SIZE)))
        .subquery()
    )
    found = sorted(_rows(session, chosen), key=lambda item: (item[2], item[0].id))
    return int(count or 0), [row for row, _, _ in found]


def _rows(session: Session, chosen: Any) -> Sequence[tuple[DossierRow, Any, Any]]:
    """The rows of the dossiers ``chosen`` names (columns ``id``, ``tab``, ``rank``), with
    their commune, organisation, référent and running take-in-charge clock: one query."""
    referent = User.__table__.alias("referent")
    take_charge = Clock.__table__.alias("take_charge")
    query = (
        select(
            Dossier,
            chosen.c.tab,
            chosen.c.rank,
            Commune.name,
            Organisation.name,
            Calendar.timezone,
            referent.c.name,
            take_charge.c.due_at,
        )
        .join(chosen, chosen.c.id == Dossier.id)
        .join(Organisation, Organisation.id == Dossier.organisation_id)
        .join(Calendar, Calendar.code == Dossier.calendar_code)
        .outerjoin(Commune, Commune.insee == Dossier.commune_insee)
        .outerjoin(referent, referent.c.id == Dossier.referent_id)
        .outerjoin(
            take_charge,
            and_(
                take_charge.c.dossier_id == Dossier.id,
                take_charge.c.kind == ClockKind.TAKE_CHARGE.value,
                take_charge.c.state == ClockState.RUNNING.value,
            ),
        )
    )
    result = []
    for dossier, tab, rank, commune, organisation, zone, referent_name, due in session.execute(
        query
    ):
        result.append((row_of(dossier, commune, organisation, zone, referent_name, due), tab, rank))
    return result


def row_of(
    dossier: Dossier,
    commune: str | None,
    organisation: str,
    zone: str,
    referent_name: str | None,
    take_charge_due_at: dt.datetime | None,
) -> DossierRow:
    """A dossier as a line of a work list."""
    return DossierRow(
        id=str(dossier.id),
        reference=dossier.reference,
        title=dossier.title,
        status=dossier.status,
        status_label=LABELS[DossierStatus(dossier.status)],
        commune_name=commune,
        commune_insee=dossier.commune_insee,
        organisation=organisation,
        timezone=zone,
        filed_at=dossier.filed_at,
        referent_name=referent_name,
        take_charge_due_at=take_charge_due_at,
    )


def visible_rows(
    session: Session, user: User, *, limit: int = PAGE_SIZE, offset: int = 0
) -> list[DossierRow]:
    """The dossiers ``user`` may see as lines of a list, newest first (the holder's « Mes
    dossiers »): two queries whatever the page's length."""
    chosen = (
        select(Dossier.id.label("id"), literal(None).label("tab"), Dossier.created_at.label("rank"))
        .where(dossier_visibility(user))
        .order_by(Dossier.created_at.desc(), Dossier.id)
        .limit(max(1, min(limit, MAX_PAGE_SIZE)))
        .offset(max(0, offset))
        .subquery()
    )
    found = sorted(_rows(session, chosen), key=lambda item: item[0].id)
    found.sort(key=lambda item: item[2], reverse=True)
    return [row for row, _, _ in found]


def count_visible(session: Session, user: User) -> int:
    """How many dossiers ``user`` may see (the holder's « Mes dossiers » pages)."""
    query = select(func.count()).select_from(Dossier).where(dossier_visibility(user))
    return int(session.scalar(query) or 0)
