"""The managers' figures as pages: the dashboard (``/pilotage/indicateurs``), an
administration's drill-down (``/pilotage/administrations/{code}``) and the breach forecast
(``/pilotage/prevision``), each table also as CSV (``/pilotage/indicateurs/<table>.csv``).

The same readers, filters and queries as the metrics API (``api.figures``,
``accelerator.metrics.queries``): a page shows what ``GET /api/v1/metrics/...`` answers, in
French, and never aggregates by agent. Every chart is a ``@gouvfr/dsfr-chart`` web component
fed with JSON attributes (its module script served from ``/static``: no inline script), with
its data as a DSFR table right under it and the table's CSV link (RGAA: a chart alone is not
accessible). A filter the form cannot take shows the form again with its French errors (422).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import Depends, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.catalogue.models import Administration, Arrondissement, Procedure
from accelerator.consultations import worklists as consultation_lists
from accelerator.consultations.models import Consultation
from accelerator.identity.roles import Role
from accelerator.metrics import figures, queries
from accelerator.metrics.facts import REPORTING_ZONE
from accelerator.metrics.schemas import (
    AdministrationOut,
    Filters,
    ForecastOut,
    HeatmapOut,
    ProcedureOut,
    SummaryOut,
    as_csv,
)
from accelerator.shared.errors import InvalidInput, NotFound
from accelerator.shared.text import t
from api.errors import describe
from api.figures import READERS, FilterForm
from api.pages import display
from api.pages.display import Badge, Level
from api.pages.rendering import render
from api.pages.spaces import PILOTAGE_SECTIONS, consultation_row
from api.pages.web import Page, PageRouter, page_unit, side_menu

router = PageRouter(tags=["pages"])

#: The filters' names in the query string: the metrics API's own.
FILTER_NAMES = ("from", "to", "procedure", "administration", "arrondissement", "cycle")
#: How many consultations the forecast page lists (the CSV has them all).
FORECAST_ROWS = 100
#: A breach probability from which the forecast shows it as likely (red), or possible.
LIKELY, POSSIBLE = 0.5, 0.2


#: The age buckets' names (``figures.AGE_BUCKETS``).
BUCKET_KEYS = {
    "days_0_30": "pages.pilotage.wip.days_0_30",
    "days_31_60": "pages.pilotage.wip.days_31_60",
    "days_61_90": "pages.pilotage.wip.days_61_90",
    "days_over_90": "pages.pilotage.wip.days_over_90",
}
#: A heatmap cell against the goal: met, close (within 20 points), far.
HEAT_KEYS = {
    "met": "pages.pilotage.heatmap.met",
    "close": "pages.pilotage.heatmap.close",
    "far": "pages.pilotage.heatmap.far",
}


# --- Numbers as people read them -----------------------------------------------------------


def decimal(value: float | None, digits: int = 1) -> str:
    """« 5,5 », « 4 » (no « ,0 »); « – » for no value."""
    if value is None:
        return t("pages.pilotage.no_value")
    text = f"{value:.{digits}f}".replace(".", ",")
    return text.removesuffix("," + "0" * digits) if digits else text


def in_days(value: float | None) -> str:
    """« 5,5 j. »."""
    return (
        t("pages.pilotage.no_value")
        if value is None
        else t("pages.pilotage.days", days=decimal(value))
    )


def in_business_days(value: float | None) -> str:
    """« 4 j. ouvrés »."""
    if value is None:
        return t("pages.pilotage.no_value")
    return t("pages.pilotage.business_days", days=decimal(value))


def in_hours(value: float | None) -> str:
    """« 1,5 h »."""
    return (
        t("pages.pilotage.no_value")
        if value is None
        else t("pages.pilotage.hours", hours=decimal(value))
    )


def percent(share: float | None) -> str:
    """« 67 % »."""
    if share is None:
        return t("pages.pilotage.no_value")
    return t("pages.pilotage.percent", value=decimal(share * 100, 0))


def chart_number(value: float | None) -> float | None:
    """A value as a chart plots it (one decimal)."""
    return None if value is None else round(value, 1)


# --- The filters ---------------------------------------------------------------------------


def raw_filters(
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
    procedure: str | None = None,
    administration: str | None = None,
    arrondissement: str | None = None,
    cycle: str | None = None,
) -> dict[str, str]:
    """The filters as typed (read by ``read_filters``, which answers in French)."""
    given = {
        "from": from_,
        "to": to,
        "procedure": procedure,
        "administration": administration,
        "arrondissement": arrondissement,
        "cycle": cycle,
    }
    return {name: value.strip() for name, value in given.items() if value and value.strip()}


RawFilters = Annotated[dict[str, str], Depends(raw_filters)]


@dataclass(frozen=True)
class Option:
    """One choice of a select."""

    value: str
    label: str
    selected: bool


@dataclass
class FilterView:
    """The filter form as the template shows it, and the filters it gave (None: refused)."""

    values: dict[str, str]
    errors: dict[str, str]
    filters: Filters | None
    options: dict[str, list[Option]] = field(default_factory=dict)
    #: The accepted filters as a query string (``?from=…``; empty without filters).
    query: str = ""
    #: What the figures cover, in words.
    scope: str = ""


@dataclass(frozen=True)
class Catalogue:
    """The codes the filters choose from, with their names."""

    procedures: dict[str, str]
    administrations: dict[str, str]
    arrondissements: dict[str, str]


def catalogue(session: Session) -> Catalogue:
    """The procedures, administrations and arrondissements (three queries)."""
    return Catalogue(
        procedures=dict(
            session.execute(select(Procedure.code, Procedure.label).order_by(Procedure.code)).all()
        ),
        administrations=dict(
            session.execute(
                select(Administration.code, Administration.name).order_by(Administration.code)
            ).all()
        ),
        arrondissements=dict(
            session.execute(
                select(Arrondissement.code, Arrondissement.name).order_by(Arrondissement.code)
            ).all()
        ),
    )


#: The French name of each field of the form, for the error summary.
FIELD_LABELS = {
    "from": "pages.pilotage.filter.from",
    "to": "pages.pilotage.filter.to",
    "procedure": "pages.pilotage.filter.procedure",
    "administration": "pages.pilotage.filter.administration",
    "arrondissement": "pages.pilotage.filter.arrondissement",
    "cycle": "pages.pilotage.filter.cycle",
}


def read_filters(raw: dict[str, str], known: Catalogue, *, fixed: str | None = None) -> FilterView:
    """The form's values checked as the API checks its query (``FilterForm``: the same
    bounds, the same French messages, then ``queries.filters_for``), and a code the catalogue
    does not hold refused; ``fixed``: the administration a drill-down is about."""
    values = dict(raw)
    if fixed is not None:
        values["administration"] = fixed
    errors: dict[str, str] = {}
    filters: Filters | None = None
    try:
        form = FilterForm.model_validate(values)
    except ValidationError as refused:
        for error in refused.errors():
            found = describe(error)
            name = str(error["loc"][0]) if error.get("loc") else found["field"]
            errors.setdefault(name if name in FIELD_LABELS else "from", found["message"])
    else:
        for name, codes in (
            ("procedure", known.procedures),
            ("administration", known.administrations),
            ("arrondissement", known.arrondissements),
        ):
            code = getattr(form, name)
            if code is not None and code.upper() not in codes:
                errors[name] = t("pages.pilotage.filter.unknown_code", code=code)
        if not errors:
            try:
                filters = form.filters()
            except InvalidInput as error:
                # A day out of the admitted range, else a reversed period (its last day).
                outside = [
                    name
                    for name, day in (("from", form.from_), ("to", form.to))
                    if day is not None and not queries.FIRST_DAY <= day <= queries.LAST_DAY
                ]
                errors[outside[0] if outside else "to"] = error.message
    chosen = {name: values[name] for name in FILTER_NAMES if name in values}
    view = FilterView(
        values=values,
        errors=errors,
        filters=None if errors else filters,
        options={
            "procedure": _options(known.procedures, values.get("procedure")),
            "administration": _options(known.administrations, values.get("administration")),
            "arrondissement": _options(known.arrondissements, values.get("arrondissement")),
        },
    )
    if view.filters is not None:
        view.query = ("?" + urlencode(chosen)) if chosen else ""
        view.scope = scope(view.filters, known)
    return view


def _options(codes: dict[str, str], chosen: str | None) -> list[Option]:
    wanted = (chosen or "").upper()
    return [
        Option(code, f"{name} ({code})" if name != code else code, code == wanted)
        for code, name in codes.items()
    ]


def scope(filters: Filters, known: Catalogue) -> str:
    """What the figures cover, in words: « du 1 mai 2026 au 20 juillet 2026 · PC · … »."""
    parts = []
    if filters.start is not None and filters.end is not None:
        parts.append(
            t(
                "pages.pilotage.scope.between",
                first=display.day(filters.start.date()),
                last=display.day((filters.end - dt.timedelta(days=1)).date()),
            )
        )
    elif filters.start is not None:
        parts.append(t("pages.pilotage.scope.since", first=display.day(filters.start.date())))
    elif filters.end is not None:
        parts.append(
            t(
                "pages.pilotage.scope.until",
                last=display.day((filters.end - dt.timedelta(days=1)).date()),
            )
        )
    else:
        parts.append(t("pages.pilotage.scope.all_time"))
    if filters.procedure:
        parts.append(known.procedures.get(filters.procedure, filters.procedure))
    if filters.administration:
        parts.append(known.administrations.get(filters.administration, filters.administration))
    if filters.arrondissement:
        parts.append(
            t(
                "pages.pilotage.scope.arrondissement",
                name=known.arrondissements.get(filters.arrondissement, filters.arrondissement),
            )
        )
    if filters.cycle:
        parts.append(t("pages.pilotage.scope.cycle", cycle=filters.cycle))
    return " · ".join(parts)


# --- Charts and tables ---------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    """A dsfr-chart web component's attributes (JSON texts): ``x`` the labels, ``y`` one
    list per series, ``names`` the series' names."""

    tag: str
    x: str
    y: str
    names: str
    stacked: bool = False
    unit: str = ""


def chart(
    tag: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    stacked: bool = False,
    unit: str = "",
) -> Chart | None:
    """A chart of ``series`` over ``labels`` (None when there is nothing to draw)."""
    if not labels:
        return None
    return Chart(
        tag=tag,
        x=json.dumps([list(labels)], ensure_ascii=False),
        y=json.dumps([[chart_number(v) for v in values] for _, values in series]),
        names=json.dumps([name for name, _ in series], ensure_ascii=False),
        stacked=stacked,
        unit=unit,
    )


def csv_url(table: str, query: str) -> str:
    """The page route serving one table as CSV, with the page's filters."""
    return f"/pilotage/indicateurs/{table}.csv{query}"


def sections(current: str, role: str) -> list[dict[str, object]]:
    """The side menu of the managers' pages, the current one marked (the watch list is the
    managers' own space: an admin's menu leaves it out)."""
    shown = [
        (url, key) for url, key in PILOTAGE_SECTIONS if url != "/pilotage" or role == Role.MANAGER
    ]
    return side_menu(shown, current)


def _name(codes: dict[str, str], code: str) -> str:
    return codes.get(code, code)


def delay_rows(rows: Sequence[AdministrationOut], names: dict[str, str]) -> list[dict[str, Any]]:
    """Each administration's held-time percentiles, elapsed and business days, and the
    sentence « la moitié en moins de X, 90 % en moins de Y »."""
    shown = []
    for row in rows:
        if row.n == 0:
            continue
        shown.append(
            {
                "code": row.code,
                "name": _name(names, row.code),
                "url": f"/pilotage/administrations/{row.code}",
                "n": row.n,
                "levels": [
                    (
                        in_days(getattr(row, f"p{q}_days")),
                        in_business_days(getattr(row, f"p{q}_business_days")),
                    )
                    for q in figures.LEVELS
                ],
                "sentence": t(
                    "pages.pilotage.delays.sentence",
                    p50=in_days(row.p50_days),
                    p50_business=in_business_days(row.p50_business_days),
                    p90=in_days(row.p90_days),
                    p90_business=in_business_days(row.p90_business_days),
                ),
            }
        )
    return shown


def punctuality_rows(
    rows: Sequence[AdministrationOut], names: dict[str, str]
) -> list[dict[str, Any]]:
    """Each administration's on-time shares, tacit share, lateness and open work."""
    return [
        {
            "code": row.code,
            "name": _name(names, row.code),
            "url": f"/pilotage/administrations/{row.code}",
            "n": row.n,
            "on_time": percent(row.on_time_share),
            "on_target": percent(row.on_time_target_share),
            "tacit": percent(row.tacit_share),
            "breaches": row.breaches,
            "lateness": t(
                "pages.pilotage.punctuality.lateness_value",
                p50=in_days(row.lateness_p50_days),
                p90=in_days(row.lateness_p90_days),
            )
            if row.breaches
            else t("pages.pilotage.no_value"),
            "open": row.open,
            "open_breached": row.open_breached,
            "open_legal_breached": row.open_legal_breached,
            "at_risk": row.at_risk,
        }
        for row in rows
    ]


def heatmap_view(found: HeatmapOut, names: dict[str, str], *, link: bool = True) -> dict[str, Any]:
    """The heatmap as a table: one row per administration, one cell per week, its share as
    text and its colour (met, close, far: the text says it too, not the colour alone)."""
    cells = {(c.code, c.week): c for c in found.cells}
    rows = []
    for code in sorted({c.code for c in found.cells}):
        shown = []
        for week in found.weeks:
            cell = cells.get((code, week))
            if cell is None or cell.on_time_target_share is None:
                shown.append(
                    {
                        "text": t("pages.pilotage.no_value"),
                        "level": "",
                        "detail": t("pages.pilotage.heatmap.no_opinion"),
                    }
                )
                continue
            share = cell.on_time_target_share
            level = "met" if cell.meets_goal else "close" if share >= found.goal - 0.2 else "far"
            shown.append(
                {
                    "text": percent(share),
                    "level": level,
                    "detail": t(
                        HEAT_KEYS[level],
                        within=cell.within_target,
                        n=cell.n,
                    ),
                }
            )
        rows.append(
            {
                "code": code,
                "name": _name(names, code),
                "url": f"/pilotage/administrations/{code}" if link else "",
                "cells": shown,
            }
        )
    return {
        "weeks": [
            {"label": t("pages.pilotage.heatmap.week_short", week=w.split("-W")[1]), "full": w}
            for w in found.weeks
        ],
        "rows": rows,
        "goal": percent(found.goal),
    }


def figures_view(
    found: SummaryOut, found_heatmap: HeatmapOut, names: dict[str, str]
) -> dict[str, Any]:
    """Every section of the dashboard: its chart, its table's rows, its key figures."""
    take = found.take_charge
    delays = delay_rows(found.administrations, names)
    answered = [a for a in found.administrations if a.n]
    wip = found.work_in_progress
    buckets = [label for label, _, _ in figures.AGE_BUCKETS]
    gain = found.parallel_gain
    return {
        "as_of": display.instant(dt.datetime.fromisoformat(found.as_of)),
        "take_charge": {
            "filed": take.filed,
            "taken": take.taken,
            "within": take.within_target,
            "late_pending": take.late_pending,
            "pending": take.pending,
            "share": percent(take.share_within_target),
            "p50": in_hours(take.p50_hours),
            "p90": in_hours(take.p90_hours),
        },
        "delays": delays,
        "delays_chart": chart(
            "bar-chart",
            [a.code for a in answered],
            [
                (t("pages.pilotage.delays.p50"), [a.p50_days for a in answered]),
                (t("pages.pilotage.delays.p90"), [a.p90_days for a in answered]),
            ],
            unit=t("pages.pilotage.days_unit"),
        ),
        "punctuality": punctuality_rows(found.administrations, names),
        "heatmap": heatmap_view(found_heatmap, names),
        "wip": [
            {
                "code": w.code,
                "name": _name(names, w.code),
                "url": f"/pilotage/administrations/{w.code}",
                "buckets": [getattr(w, b) for b in buckets],
                "total": w.total,
            }
            for w in wip
        ],
        "wip_chart": chart(
            "bar-chart",
            [w.code for w in wip],
            [(t(BUCKET_KEYS[b]), [getattr(w, b) for w in wip]) for b in buckets],
            stacked=True,
        ),
        "buckets": [t(BUCKET_KEYS[b]) for b in buckets],
        "flow": found.flow,
        "flow_chart": chart(
            "line-chart",
            [f.week for f in found.flow],
            [
                (t("pages.pilotage.flow.arrivals"), [f.arrivals for f in found.flow]),
                (t("pages.pilotage.flow.completions"), [f.completions for f in found.flow]),
                (t("pages.pilotage.flow.net"), [f.net_flow for f in found.flow]),
            ],
        ),
        "gating": [
            {
                "code": g.code,
                "name": _name(names, g.code),
                "url": f"/pilotage/administrations/{g.code}",
                "gated": g.gated,
                "consulted": g.consulted,
                "share": percent(g.share),
                "delay": in_days(g.total_delay_days),
            }
            for g in sorted(found.gating, key=lambda g: (-g.gated, -g.total_delay_days, g.code))
        ],
        "gain": {
            "cycles": gain.cycles,
            "sum": in_days(gain.sum_days),
            "longest": in_days(gain.longest_days),
            "ratio": decimal(gain.ratio, 2),
            "median": decimal(gain.median_cycle_ratio, 2),
            "sentence": t(
                "pages.pilotage.gain.sentence",
                longest=in_days(gain.longest_days),
                total=in_days(gain.sum_days),
                ratio=decimal(gain.ratio, 2),
            )
            if gain.cycles
            else "",
        },
        "cohorts": [
            {
                "week": c.week,
                "sent": c.sent,
                "answered": c.answered,
                "tacit": c.tacit,
                "cancelled": c.cancelled,
                "open": c.open,
                "on_time": percent(c.on_time_share),
            }
            for c in found.cohorts
        ],
    }


def procedure_rows(rows: Sequence[ProcedureOut], names: dict[str, str]) -> list[dict[str, Any]]:
    """The legal delay against the actual one, per procedure, as the table shows them."""
    return [
        {
            "name": f"{names[p.code]} ({p.code})" if p.code in names else p.code,
            "n": p.n,
            "legal": in_days(p.legal_p50_days),
            "actual": in_days(p.actual_p50_days),
            "actual_p90": in_days(p.actual_p90_days),
            "on_time": percent(p.on_time_share),
            "open": p.open,
            "open_past_legal": p.open_past_legal,
        }
        for p in rows
    ]


def _show(
    unit: Page, template: str, section: str, context: dict[str, Any], *, status: int = 200
) -> Response:
    return render(
        unit.request,
        template,
        {"sections": sections(section, unit.signed_in.role), **context},
        status=status,
    )


def _refused(
    unit: Page, template: str, section: str, view: FilterView, context: dict[str, Any]
) -> Response:
    """The form again with its errors (422), and no figure."""
    return _show(
        unit,
        template,
        section,
        {
            **context,
            "form": view,
            "error_list": [
                {"field": name, "label": t(FIELD_LABELS[name]), "message": message}
                for name, message in view.errors.items()
            ],
        },
        status=422,
    )


# --- Pages ---------------------------------------------------------------------------------


@router.get_page("/pilotage/indicateurs", policy=READERS)
def indicators(request: Request, raw: RawFilters) -> Response:
    """The dashboard: take-in-charge, delays per administration, punctuality, the heatmap,
    work in progress by age, the weekly flow, gating, the parallel gain and the cohorts, for
    the filters of the form."""
    with page_unit(request) as unit:
        known = catalogue(unit.session)
        view = read_filters(raw, known)
        base = {"form": view, "action": "/pilotage/indicateurs", "error_list": [], "fixed": False}
        if view.filters is None:
            return _refused(
                unit,
                "pilotage/indicators.html",
                "/pilotage/indicateurs",
                view,
                {**base, "figures": None},
            )
        found = queries.summary(unit.session, view.filters, now=unit.now)
        found_heatmap = queries.heatmap(unit.session, view.filters, now=unit.now)
        found_procedures = queries.procedures(unit.session, view.filters, now=unit.now)
        return _show(
            unit,
            "pilotage/indicators.html",
            "/pilotage/indicateurs",
            {
                **base,
                "figures": {
                    **figures_view(found, found_heatmap, known.administrations),
                    "procedures": procedure_rows(found_procedures, known.procedures),
                },
                "csv": {name: csv_url(name, view.query) for name in queries.TABLES},
            },
        )


@router.get_page("/pilotage/indicateurs/{table}.csv", policy=READERS)
def indicator_csv(request: Request, table: str, raw: RawFilters) -> Response:
    """One table of the figures as CSV for the filters, as ``GET /api/v1/metrics/<table>.csv``
    writes it (same columns, same writer), for a manager signed in on the web."""
    with page_unit(request) as unit:
        if table not in queries.TABLES:
            raise NotFound(t("pages.pilotage.csv.unknown_table"))
        model, rows, _ = queries.TABLES[table]
        view = read_filters(raw, catalogue(unit.session))
        if view.filters is None:
            raise InvalidInput(
                " ; ".join(f"{t(FIELD_LABELS[k])} : {m}" for k, m in view.errors.items())
            )
        body = as_csv(rows(unit.session, view.filters, unit.now), model)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{table}.csv"'},
    )


@router.get_page("/pilotage/administrations/{code}", policy=READERS)
def administration_page(request: Request, code: str, raw: RawFilters) -> Response:
    """One administration: its delays and punctuality for the filters, its heatmap row, its
    open work by age, then its late and at-risk open consultations, each leading to its
    dossier."""
    with page_unit(request) as unit:
        known = catalogue(unit.session)
        wanted = code.upper()
        if wanted not in known.administrations:
            raise NotFound(t("pages.pilotage.administration.unknown"))
        if wanted != code:
            return RedirectResponse(f"/pilotage/administrations/{wanted}", status_code=307)
        raw.pop("administration", None)
        view = read_filters(raw, known, fixed=wanted)
        path = f"/pilotage/administrations/{wanted}"
        base = {
            "form": view,
            "action": path,
            "fixed": True,
            "error_list": [],
            "code": wanted,
            "name": known.administrations[wanted],
            "back": "/pilotage/indicateurs",
        }
        if view.filters is None:
            return _refused(
                unit,
                "pilotage/administration.html",
                "/pilotage/indicateurs",
                view,
                {**base, "figures": None},
            )
        filters = view.filters
        rows = queries.administrations(unit.session, filters, now=unit.now)
        own = [r for r in rows if r.code == wanted]
        wip = [
            w
            for w in queries.work_in_progress(unit.session, filters, now=unit.now)
            if w.code == wanted
        ]
        found_heatmap = queries.heatmap(unit.session, filters, now=unit.now)
        watch = consultation_lists.watchlist(
            unit.session,
            unit.signed_in,
            now=unit.now,
            limit=unit.settings.page_size,
            administration=wanted,
        )
        listed = consultation_lists.consultation_rows(unit.session, watch.late + watch.at_risk)
        shown = [consultation_row(r, unit.now) for r in listed]
        query = view.query
        return _show(
            unit,
            "pilotage/administration.html",
            "/pilotage/indicateurs",
            {
                **base,
                "figures": {
                    "delays": [{**r, "url": ""} for r in delay_rows(own, known.administrations)],
                    "punctuality": [
                        {**r, "url": ""} for r in punctuality_rows(own, known.administrations)
                    ],
                    "heatmap": heatmap_view(found_heatmap, known.administrations, link=False),
                    "wip": [
                        {
                            "name": known.administrations[wanted],
                            "url": "",
                            "buckets": [getattr(w, b) for b, _, _ in figures.AGE_BUCKETS],
                            "total": w.total,
                        }
                        for w in wip
                    ],
                    "buckets": [t(BUCKET_KEYS[b]) for b, _, _ in figures.AGE_BUCKETS],
                },
                "late": shown[: len(watch.late)],
                "late_count": watch.late_count,
                "at_risk": shown[len(watch.late) :],
                "at_risk_count": watch.at_risk_count,
                "back": "/pilotage/indicateurs" + _without_administration(query),
                "csv": {
                    name: csv_url(name, query)
                    for name in ("administrations", "work-in-progress", "heatmap", "forecast")
                },
                "forecast_url": "/pilotage/prevision" + query,
            },
        )


def _without_administration(query: str) -> str:
    """The filters of a drill-down, to go back to the dashboard with them (the
    administration left out)."""
    kept = [(k, v) for k, v in parse_qsl(query.lstrip("?")) if k != "administration"]
    return ("?" + urlencode(kept)) if kept else ""


def forecast_badge(probability: float) -> Badge:
    """A probability as a badge: red when likely, orange when possible, else blue."""
    level = (
        Level.ERROR
        if probability >= LIKELY
        else Level.WARNING
        if probability >= POSSIBLE
        else Level.INFO
    )
    return Badge(percent(probability), level)


def forecast_rows(
    session: Session, items: Sequence[ForecastOut], names: dict[str, str], now: dt.datetime
) -> list[dict[str, Any]]:
    """The forecast's consultations with their dossier (one query for them all)."""
    consultations = (
        list(
            session.scalars(
                select(Consultation).where(
                    Consultation.id.in_([uuid.UUID(i.consultation_id) for i in items])
                )
            )
        )
        if items
        else []
    )
    rows = {str(r.id): r for r in consultation_lists.consultation_rows(session, consultations)}
    shown = []
    for item in items:
        row = rows.get(item.consultation_id)
        due = dt.datetime.fromisoformat(item.due_at)
        shown.append(
            {
                "probability": forecast_badge(item.breach_probability),
                "due": display.deadline(due, str(REPORTING_ZONE)),
                "due_badge": display.deadline_badge(due, now=now, zone=str(REPORTING_ZONE)),
                "code": item.administration,
                "administration": _name(names, item.administration),
                "administration_url": f"/pilotage/administrations/{item.administration}",
                "reference": row.reference if row else "",
                "title": row.title if row else "",
                "dossier_url": f"/dossiers/{row.dossier_id}" if row else "",
                "type": row.consultation_type_label if row else item.consultation_type,
                "age": in_days(item.age_days),
                "basis": t(
                    BASIS_KEYS.get(item.basis, "pages.pilotage.forecast.basis.all"),
                    n=item.n_history,
                ),
            }
        )
    return shown


#: What history a forecast rests on, in words.
BASIS_KEYS = {
    "administration×type": "pages.pilotage.forecast.basis.pair",
    "type": "pages.pilotage.forecast.basis.type",
    "tout": "pages.pilotage.forecast.basis.all",
}


@router.get_page("/pilotage/prevision", policy=READERS)
def forecast_page(request: Request, raw: RawFilters) -> Response:
    """The breach forecast: open consultations by probability of missing their legal
    deadline, most likely first, each with its due date, administration and dossier."""
    with page_unit(request) as unit:
        known = catalogue(unit.session)
        view = read_filters(raw, known)
        base = {"form": view, "action": "/pilotage/prevision", "error_list": [], "fixed": False}
        if view.filters is None:
            return _refused(
                unit, "pilotage/forecast.html", "/pilotage/prevision", view, {**base, "rows": None}
            )
        items = queries.forecast(
            unit.session, view.filters, now=unit.now, limit=queries.MAX_FORECAST
        )
        likely = sum(1 for i in items if i.breach_probability >= LIKELY)
        deciles = queries.calibration(unit.session, view.filters, now=unit.now)
        return _show(
            unit,
            "pilotage/forecast.html",
            "/pilotage/prevision",
            {
                **base,
                "rows": forecast_rows(
                    unit.session, items[:FORECAST_ROWS], known.administrations, unit.now
                ),
                "count": len(items),
                "likely": likely,
                "shown": min(len(items), FORECAST_ROWS),
                "csv": csv_url("forecast", view.query),
                "calibration": [
                    {
                        "decile": d.decile,
                        "n": d.n,
                        "predicted": percent(d.predicted),
                        "observed": percent(d.observed),
                    }
                    for d in deciles
                ],
                "calibration_csv": csv_url("calibration", view.query),
                "calibration_origin": display.instant(
                    queries.calibration_origin(view.filters, unit.now), str(REPORTING_ZONE)
                ),
            },
        )
