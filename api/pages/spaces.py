"""The public home and each role's own space: holders' dossiers, the référent's work queue,
an administration's consultations, the managers' watch list, the administrators' directory.

Every page reads through the domain's queries (``accelerator.*.queries`` and ``worklists``,
filtered by the areas' ``access`` modules) a fixed number of times, whatever the number of dossiers,
and hands the templates ready rows (texts, badges, links).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from accelerator.catalogue.models import Administration, ConsultationType
from accelerator.consultations import worklists as consultation_lists
from accelerator.consultations.status import FINISHED, ConsultationStatus
from accelerator.consultations.status import LABELS as CONSULTATION_LABELS
from accelerator.consultations.worklists import ConsultationRow
from accelerator.dossiers import worklists
from accelerator.dossiers.status import DossierStatus
from accelerator.dossiers.worklists import MAX_SEARCH, DossierRow, QueueSort, QueueTab
from accelerator.identity.roles import Role
from accelerator.shared.errors import InvalidInput
from accelerator.shared.text import t
from accelerator.sla.queries import budget_left_view
from api.pages import display
from api.pages.display import Badge, Level
from api.pages.rendering import render
from api.pages.web import SPACES, PageRouter, page_unit, side_menu
from api.policies import PUBLIC, Scope, allow

router = PageRouter(tags=["pages"])

#: The last page number a list accepts (a larger one shows the last page).
MAX_PAGE = 100_000
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE)]

DOSSIER_LEVELS: dict[str, Level | None] = {
    DossierStatus.DRAFT: None,
    DossierStatus.FILED: Level.NEW,
    DossierStatus.TAKEN_IN_CHARGE: Level.INFO,
    DossierStatus.CONSULTING: Level.INFO,
    DossierStatus.AWAITING_HOLDER: Level.WARNING,
    DossierStatus.CONSOLIDATED: Level.SUCCESS,
    DossierStatus.CLOSED: Level.SUCCESS,
    DossierStatus.WITHDRAWN: None,
}
CONSULTATION_LEVELS: dict[str, Level | None] = {
    ConsultationStatus.SENT: Level.NEW,
    ConsultationStatus.ACKNOWLEDGED: Level.INFO,
    ConsultationStatus.AWAITING_INFORMATION: Level.WARNING,
    ConsultationStatus.ANSWERED: Level.SUCCESS,
    ConsultationStatus.TACIT: Level.WARNING,
    ConsultationStatus.CANCELLED: None,
}
TAB_KEYS: dict[QueueTab, str] = {
    QueueTab.NEW: "pages.referent.tab.new",
    QueueTab.TO_TAKE_IN_CHARGE: "pages.referent.tab.to_take_in_charge",
    QueueTab.CONSULTING: "pages.referent.tab.consulting",
    QueueTab.AWAITING_HOLDER: "pages.referent.tab.awaiting_holder",
    QueueTab.TO_CONSOLIDATE: "pages.referent.tab.to_consolidate",
    QueueTab.CLOSED: "pages.referent.tab.closed",
}


def status_badge(label: str, level: Level | None) -> dict[str, str]:
    """A status as the badge macro shows it (no colour: the plain grey badge)."""
    return {"text": label, "level": level.value if level else ""}


def _pages(count: int, page: int, page_size: int) -> tuple[int, int]:
    """The page to show (at most the last) and how many there are."""
    pages = worklists.pages_for(count, page_size)
    return min(page, pages), pages


@router.get_page("/", policy=PUBLIC)
def home(request: Request) -> Response:
    """The public home: what the service does, and the way in."""
    with page_unit(request):
        return render(request, "home.html")


@router.get_page("/espace", policy=allow(**{role.value: Scope.ANY for role in Role}))
def own_space(request: Request) -> Response:
    """Wherever the signed-in user's role lands."""
    with page_unit(request) as page:
        return RedirectResponse(SPACES[Role(page.signed_in.role)], status_code=303)


# --- Holder ------------------------------------------------------------------------------


@router.get_page("/mes-dossiers", policy=allow(holder=Scope.VISIBLE))
def holder_space(request: Request, page: PageNumber = 1) -> Response:
    """« Mes dossiers »: the organisation's dossiers, newest first, with status and reference."""
    with page_unit(request) as unit:
        user = unit.signed_in
        size = unit.settings.page_size
        count = worklists.count_visible(unit.session, user)
        page, pages = _pages(count, page, size)
        found = worklists.visible_rows(unit.session, user, limit=size, offset=(page - 1) * size)
        rows = [
            {
                "url": f"/dossiers/{row.id}/brouillon"
                if row.status == DossierStatus.DRAFT
                else f"/dossiers/{row.id}",
                "reference": row.reference or t("pages.holder.no_reference"),
                "title": row.title,
                "commune": row.commune_name or row.commune_insee,
                "status": status_badge(row.status_label, DOSSIER_LEVELS.get(row.status)),
                "filed_at": display.instant(row.filed_at, row.timezone),
                "referent": row.referent_name or t("pages.holder.referent_pending"),
                "awaiting": row.status == DossierStatus.AWAITING_HOLDER,
            }
            for row in found
        ]
        return render(
            request,
            "holder.html",
            {"rows": rows, "count": count, "page": page, "pages": pages},
        )


# --- Référent ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TabView:
    """One tab of the queue as the template shows it."""

    key: str
    label: str
    count: int
    selected: bool
    page: int
    pages: int
    rows: list[dict[str, object]]
    countdown: bool


def queue_row(row: DossierRow, now: dt.datetime) -> dict[str, object]:
    """A dossier of the queue as a table row."""
    return {
        "url": f"/dossiers/{row.id}",
        "reference": row.reference or "",
        "title": row.title,
        "organisation": row.organisation,
        "commune": row.commune_name or "",
        "filed_at": display.instant(row.filed_at, row.timezone),
        "status": status_badge(row.status_label, DOSSIER_LEVELS.get(row.status)),
        "countdown": display.countdown(row.take_charge_due_at, now=now),
        "referent": row.referent_name or "",
    }


class Direction(StrEnum):
    """A sort's direction (``?ordre=``)."""

    ASC = "asc"
    DESC = "desc"


#: The sortable columns of the queue, with their label.
SORT_KEYS: dict[QueueSort, str] = {
    QueueSort.REFERENCE: "pages.column.reference",
    QueueSort.TITLE: "pages.column.project",
    QueueSort.FILED_AT: "pages.column.filed_at",
}
Search = Annotated[str | None, Query(max_length=MAX_SEARCH)]


def _queue_url(base: str, **params: object) -> str:
    """``base`` with the non-empty ``params`` as its query."""
    shown = {k: str(v) for k, v in params.items() if v not in (None, "")}
    return f"{base}?{urlencode(shown)}" if shown else base


def sort_headers(
    tab: str, sort: QueueSort | None, direction: Direction, search: str | None
) -> dict[QueueSort, dict[str, str]]:
    """Each sortable column's header: its link (sorting by it, or the other way if it is
    the current sort) and its ``aria-sort``."""
    headers = {}
    for column, key in SORT_KEYS.items():
        current = sort is column
        going = Direction.DESC if current and direction is Direction.ASC else Direction.ASC
        headers[column] = {
            "label": t(key),
            "url": _queue_url(
                "/file-de-travail", onglet=tab, tri=column.value, ordre=going.value, q=search
            ),
            "sort": ("ascending" if direction is Direction.ASC else "descending")
            if current
            else "",
        }
    return headers


@router.get_page("/file-de-travail", policy=allow(referent=Scope.VISIBLE))
def referent_space(
    request: Request,
    onglet: QueueTab | None = None,
    page: PageNumber = 1,
    tri: QueueSort | None = None,
    ordre: Direction = Direction.ASC,
    q: Search = None,
) -> Response:
    """The référent's work queue: tabs with counts, one page of each (the ``page_size``
    setting's rows), sortable by reference, title or filing date, searchable by title or
    reference, each tab as CSV."""
    search = (q or "").strip() or None
    with page_unit(request) as unit:
        user = unit.signed_in
        selected = onglet or QueueTab.TO_TAKE_IN_CHARGE
        tabs = worklists.referent_queue(
            unit.session,
            user,
            selected=selected,
            page=page,
            page_size=unit.settings.page_size,
            sort=tri,
            descending=ordre is Direction.DESC,
            search=search,
        )
        if onglet is None:
            # Without a choice, the first tab with work in it.
            chosen = next((tab for tab in tabs if tab.count), tabs[0])
            if chosen.tab is not selected:
                selected = chosen.tab
        views = [
            TabView(
                key=tab.tab.value,
                label=t(TAB_KEYS[tab.tab]),
                count=tab.count,
                selected=tab.tab is selected,
                page=tab.page,
                pages=tab.pages,
                rows=[queue_row(r, unit.now) for r in tab.rows],
                countdown=tab.tab in (QueueTab.NEW, QueueTab.TO_TAKE_IN_CHARGE),
            )
            for tab in tabs
        ]

        def query(tab: str) -> dict[str, str]:
            """The tab's query as its links carry it (the sort and the search kept)."""
            chosen = {"onglet": tab, "tri": tri.value if tri else "", "q": search or ""}
            if tri:
                chosen["ordre"] = ordre.value
            return {name: value for name, value in chosen.items() if value}

        return render(
            request,
            "referent.html",
            {
                "tabs": views,
                "search": search or "",
                "sorts": {tab.key: sort_headers(tab.key, tri, ordre, search) for tab in views},
                "extra": {tab.key: "&" + urlencode(query(tab.key)) for tab in views},
                "exports": {
                    tab.key: _queue_url("/file-de-travail.csv", **query(tab.key)) for tab in views
                },
            },
        )


#: The columns of the queue's CSV export.
EXPORT_COLUMNS = (
    "pages.column.reference",
    "pages.column.project",
    "pages.column.holder",
    "pages.column.commune",
    "pages.column.status",
    "pages.column.filed_at",
    "pages.column.referent",
)


def _csv_cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@router.get_page("/file-de-travail.csv", policy=allow(referent=Scope.VISIBLE))
def referent_export(
    request: Request,
    onglet: QueueTab = QueueTab.TO_TAKE_IN_CHARGE,
    tri: QueueSort | None = None,
    ordre: Direction = Direction.ASC,
    q: Search = None,
) -> Response:
    """One tab of the queue as CSV (UTF-8 with BOM, semicolons: as French spreadsheets read
    it), in the page's order, at most 5,000 rows."""
    search = (q or "").strip() or None
    with page_unit(request) as unit:
        rows = worklists.queue_export(
            unit.session,
            unit.signed_in,
            tab=onglet,
            sort=tri,
            descending=ordre is Direction.DESC,
            search=search,
        )
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow([t(key) for key in EXPORT_COLUMNS])
        for row in rows:
            writer.writerow(
                [
                    _csv_cell(cell)
                    for cell in (
                        row.reference or "",
                        row.title,
                        row.organisation,
                        row.commune_name or "",
                        row.status_label,
                        display.instant(row.filed_at, row.timezone),
                        row.referent_name or "",
                    )
                ]
            )
    filename = f"file-de-travail-{onglet.value}.csv"
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- Administration agent ----------------------------------------------------------------


def consultation_row(row: ConsultationRow, now: dt.datetime) -> dict[str, object]:
    """A consultation as a table row: its dossier, its status and its deadline's badge."""
    zone = row.timezone
    left = budget_left_view(row.left_on_resume)
    badge: Badge | None = display.deadline_badge(
        row.due_at, now=now, zone=zone, paused=row.paused, left=left
    )
    return {
        "dossier_url": f"/dossiers/{row.dossier_id}",
        "reference": row.reference or "",
        "title": row.title,
        "commune": row.commune_name or row.commune_insee,
        "administration": row.administration_name,
        "administration_url": f"/pilotage/administrations/{row.administration}",
        "type": row.consultation_type_label,
        "status": status_badge(row.status_label, CONSULTATION_LEVELS.get(row.status)),
        "sent_at": display.instant(row.sent_at, zone),
        "due": "" if row.paused else display.deadline(row.due_at, zone),
        "badge": badge,
        "target": target_badge(row.target_due_at, zone, now),
        "href": f"/consultations/{row.id}",
    }


def target_badge(due: dt.datetime | None, zone: str, now: dt.datetime) -> Badge | None:
    """Where the platform's internal target (an opinion at half the legal deadline) stands,
    while it runs (``due``: its deadline then, else None)."""
    if due is None:
        return None
    if due <= now:
        days = (now - due).days
        return Badge(t("pages.manager.target_missed", days=days), Level.ERROR)
    badge = display.deadline_badge(due, now=now, zone=zone)
    return Badge(t("pages.manager.target_in", when=badge.text), badge.level) if badge else None


#: A consultation type's code as the queue's filter takes it.
TypeCode = Annotated[str | None, Query(max_length=64, pattern=r"^[a-z0-9_]+$")]


@router.get_page("/mes-consultations", policy=allow(agent=Scope.VISIBLE))
def agent_space(
    request: Request,
    page: PageNumber = 1,
    statut: ConsultationStatus | None = None,
    type: TypeCode = None,
) -> Response:
    """The administration's consultations, open ones unless a status is chosen, nearest
    deadline first, with badges; filters by status and type, and the count of each status."""
    with page_unit(request) as unit:
        user = unit.signed_in
        types = dict(
            unit.session.execute(
                select(ConsultationType.code, ConsultationType.label).order_by(
                    ConsultationType.label
                )
            ).all()
        )
        if type is not None and type not in types:
            raise InvalidInput(t("pages.agent.filter.unknown_type"))
        count, page, found = consultation_lists.open_consultations(
            unit.session,
            user,
            page=page,
            page_size=unit.settings.page_size,
            status=statut,
            consultation_type=type,
        )
        counts = consultation_lists.status_counts(unit.session, user, consultation_type=type)
        pages = worklists.pages_for(count, unit.settings.page_size)
        shown = consultation_lists.consultation_rows(unit.session, found)
        administration = unit.session.get(Administration, user.administration_code or "")
        chosen = {k: v for k, v in (("statut", statut), ("type", type)) if v}
        return render(
            request,
            "agent.html",
            {
                "rows": [consultation_row(r, unit.now) for r in shown],
                "count": count,
                "page": page,
                "pages": pages,
                "administration": administration.name if administration else "",
                "statuses": [
                    {
                        "value": s.value,
                        "label": CONSULTATION_LABELS[s],
                        "count": counts[s],
                        "selected": s is statut,
                        "href": "/mes-consultations?"
                        + urlencode({"statut": s.value, **({"type": type} if type else {})}),
                    }
                    for s in ConsultationStatus
                ],
                "open_count": sum(counts[s] for s in ConsultationStatus if s not in FINISHED),
                "types": [
                    {"value": code, "label": label, "selected": code == type}
                    for code, label in types.items()
                ],
                "filtered": bool(chosen),
                "extra": ("&" + urlencode(chosen)) if chosen else "",
            },
        )


# --- Manager -----------------------------------------------------------------------------

#: The managers' pages, as their side menu lists them (``api.pages.pilotage``).
PILOTAGE_SECTIONS: list[tuple[str, str]] = [
    ("/pilotage", "pages.pilotage.section.watch"),
    ("/pilotage/indicateurs", "pages.pilotage.section.indicators"),
    ("/pilotage/prevision", "pages.pilotage.section.forecast"),
    ("/pilotage/simulation", "pages.pilotage.section.simulation"),
    ("/pilotage/revues", "pages.pilotage.section.reviews"),
]


@router.get_page("/pilotage", policy=allow(manager=Scope.VISIBLE))
def manager_space(request: Request) -> Response:
    """Late and at-risk consultations, and dossiers past 24 h with nobody in charge."""
    with page_unit(request) as unit:
        user = unit.signed_in
        watch = consultation_lists.watchlist(
            unit.session, user, now=unit.now, limit=unit.settings.page_size
        )
        overdue_count, overdue = worklists.overdue_take_charge(
            unit.session, user, now=unit.now, limit=unit.settings.page_size
        )
        found = consultation_lists.consultation_rows(unit.session, watch.late + watch.at_risk)
        rows = [consultation_row(r, unit.now) for r in found]
        late_rows, risk_rows = rows[: len(watch.late)], rows[len(watch.late) :]
        return render(
            request,
            "manager.html",
            {
                "late": late_rows,
                "late_count": watch.late_count,
                "at_risk": risk_rows,
                "at_risk_count": watch.at_risk_count,
                "overdue": [queue_row(r, unit.now) for r in overdue],
                "overdue_count": overdue_count,
                "now": display.instant(unit.now, unit.settings.prefecture_timezone),
                "sections": side_menu(PILOTAGE_SECTIONS, "/pilotage"),
            },
        )
