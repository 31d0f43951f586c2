"""The managers' figures: the dashboard's summary, the breach forecast, and each table as CSV.

Managers and admins only (holders, référents and agents: 403). Figures aggregate by
administration, never by agent. Definitions: docs/api.md, "Metrics".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel

from accelerator.identity.roles import Role, require_role
from accelerator.metrics import queries
from accelerator.metrics.schemas import (
    Filters,
    ForecastOut,
    HeatmapOut,
    ProcedureOut,
    SummaryOut,
    as_csv,
)
from accelerator.shared.db import utcnow
from api.deps import CurrentUser, Limit, SessionDep, SettingsDep
from api.figures import CODE, FIRST_CYCLE, LAST_CYCLE, MAX_ARRONDISSEMENT, MAX_CODE, READERS
from api.packs import RESPONSES, PackFormat, pack_response
from api.unit_of_work import Router

router = Router(prefix="/api/v1/metrics", tags=["pilotage"])


def metric_filters(
    from_: Annotated[
        dt.date | None,
        Query(alias="from", description="Premier jour de la période (AAAA-MM-JJ, inclus)."),
    ] = None,
    to: Annotated[
        dt.date | None, Query(description="Dernier jour de la période (AAAA-MM-JJ, inclus).")
    ] = None,
    procedure: Annotated[
        str | None,
        Query(max_length=MAX_CODE, pattern=CODE, description="Code de procédure, ex. PC."),
    ] = None,
    administration: Annotated[
        str | None,
        Query(max_length=MAX_CODE, pattern=CODE, description="Code d'administration, ex. DDT-65."),
    ] = None,
    arrondissement: Annotated[
        str | None,
        Query(max_length=MAX_ARRONDISSEMENT, pattern=CODE, description="Code d'arrondissement."),
    ] = None,
    cycle: Annotated[
        int | None,
        Query(ge=FIRST_CYCLE, le=LAST_CYCLE, description="Cycle d'instruction (1, 2...)."),
    ] = None,
) -> Filters:
    """The query's filters (days read in the préfecture's zone)."""
    return queries.filters_for(
        first_day=from_,
        last_day=to,
        procedure=procedure,
        administration=administration,
        arrondissement=arrondissement,
        cycle=cycle,
    )


FiltersDep = Annotated[Filters, Depends(metric_filters)]


def _reader(user: Any) -> None:
    require_role(user, Role.MANAGER, Role.ADMIN)


@router.get("/summary", policy=READERS)
def summary(session: SessionDep, user: CurrentUser, filters: FiltersDep) -> SummaryOut:
    """Every figure of the managers' dashboard for the filters."""
    _reader(user)
    return queries.summary(session, filters, now=utcnow())


@router.get("/forecast", policy=READERS)
def forecast(
    session: SessionDep, user: CurrentUser, filters: FiltersDep, limit: Limit = 100
) -> list[ForecastOut]:
    """Open consultations by probability of missing their legal deadline, most likely first
    (Kaplan–Meier over comparable consultations; the period selects them by sending)."""
    _reader(user)
    return queries.forecast(session, filters, now=utcnow(), limit=limit)


@router.get("/heatmap", policy=READERS)
def heatmap(session: SessionDep, user: CurrentUser, filters: FiltersDep) -> HeatmapOut:
    """Per administration and ISO week of the opinion: the share of opinions given within the
    internal target, against the goal (the period up to its observation instant; without
    ``from``, the 12 weeks before it; at most 106 weeks)."""
    _reader(user)
    return queries.heatmap(session, filters, now=utcnow())


@router.get("/procedures", policy=READERS)
def procedures(session: SessionDep, user: CurrentUser, filters: FiltersDep) -> list[ProcedureOut]:
    """Per procedure: the legal delay against the actual one, from filing to the consolidated
    answer, of the dossiers answered in the period; the dossiers still waiting for one."""
    _reader(user)
    return queries.procedures(session, filters, now=utcnow())


CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Tableau CSV (RFC 4180, UTF-8, virgule, en-tête des colonnes).",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


def _csv(name: str, rows: Sequence[BaseModel], model: type[BaseModel]) -> Response:
    return Response(
        as_csv(rows, model),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _table_route(
    name: str, model: type[BaseModel], table: Callable[..., Sequence[BaseModel]], doc: str
) -> None:
    """``GET /api/v1/metrics/<name>.csv``: one table of the summary as CSV."""

    def endpoint(session: SessionDep, user: CurrentUser, filters: FiltersDep) -> Response:
        _reader(user)
        return _csv(name, table(session, filters, utcnow()), model)

    endpoint.__name__ = f"{name.replace('-', '_')}_csv"
    endpoint.__doc__ = doc
    router.get(f"/{name}.csv", policy=READERS, response_class=Response, responses=CSV_RESPONSE)(
        endpoint
    )


for _name, (_model, _table, _doc) in queries.TABLES.items():
    _table_route(_name, _model, _table, _doc)


#: An ISO week as the pack routes take it (``parse_week`` then refuses the weeks that do not
#: exist or have not begun).
WeekPath = Annotated[
    str,
    Path(
        pattern=r"^[0-9]{4}-W[0-9]{2}$",
        description="Semaine ISO (heure de Paris), ex. 2026-W48.",
        examples=["2026-W48"],
    ),
]


#: Why a pack is refused.
PACK_REFUSED: dict[int | str, dict[str, Any]] = {
    422: {"description": "Semaine illisible, inexistante ou pas encore commencée."}
}


@router.get(
    "/packs/{week}.pdf",
    policy=READERS,
    response_class=Response,
    responses={**RESPONSES[PackFormat.PDF], **PACK_REFUSED},
)
def pack_pdf(
    session: SessionDep, user: CurrentUser, settings: SettingsDep, week: WeekPath
) -> Response:
    """The weekly review pack of ``week`` as PDF: the week's figures by administration, the
    late and at-risk consultations at its end, and the breach forecast."""
    _reader(user)
    return pack_response(session, week, PackFormat.PDF, now=utcnow(), base_url=settings.public_url)


@router.get(
    "/packs/{week}.html",
    policy=READERS,
    response_class=Response,
    responses={**RESPONSES[PackFormat.HTML], **PACK_REFUSED},
)
def pack_html(
    session: SessionDep, user: CurrentUser, settings: SettingsDep, week: WeekPath
) -> Response:
    """The weekly review pack of ``week`` as one self-contained HTML page (the PDF's content)."""
    _reader(user)
    return pack_response(session, week, PackFormat.HTML, now=utcnow(), base_url=settings.public_url)
