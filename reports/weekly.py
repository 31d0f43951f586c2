"""The weekly review pack laid out: one self-contained HTML page (inline CSS, charts as inline
SVG, no script, no external file) and the same page printed to PDF by WeasyPrint.

``render_html(pack)`` and ``render_pdf(pack)`` take the domain's view model
(``accelerator.metrics.pack.WeeklyPack``) and decide nothing: every number comes from it,
every word from the text catalogue. ``CONTENT_SECURITY_POLICY`` is the policy to serve the
HTML with: its one style block is allowed by its digest, nothing else is loaded.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_time
from babel.numbers import format_decimal, format_percent
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from accelerator.metrics.facts import REPORTING_ZONE
from accelerator.metrics.pack import WeeklyPack
from accelerator.metrics.schemas import AdministrationOut, ForecastOut, OpenItemOut
from accelerator.shared.text import t
from reports.charts import BarChart, Series, bar_chart

TEMPLATES = Path(__file__).parent / "templates"
LOCALE = "fr_FR"
#: DSFR colours: blue France, its lighter "sun" shade, the success green (all ≥ 4.5:1).
BLUE, LIGHT_BLUE, GREEN = "#000091", "#6a6af4", "#18753c"
#: Below this many opinions a percentile is shown with a caution.
FEW = 5

STYLE = (TEMPLATES / "weekly.css").read_text(encoding="utf-8")
_STYLE_DIGEST = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
#: The HTML pack needs only its own style block: no script, no image, no font, no frame.
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_DIGEST}'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "j2"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.globals["t"] = t


def number(value: float, digits: int = 1) -> str:
    """``value`` the French way: a decimal comma, ``digits`` decimals, halves rounded up
    (2.125 is « 2,13 », as a reader rounds; Babel alone would round half to even)."""
    exact = Decimal(str(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return format_decimal(exact, format="#,##0." + "0" * digits, locale=LOCALE)


def days(value: float | None) -> str:
    """A duration in days (``7,5 j``); a dash for no value."""
    return t("reports.no_value") if value is None else t("reports.unit.days", value=number(value))


def hours(value: float | None) -> str:
    """A duration in hours (``1,0 h``)."""
    return t("reports.no_value") if value is None else t("reports.unit.hours", value=number(value))


def share(value: float | None) -> str:
    """A share as a percentage (``66,7 %``)."""
    if value is None:
        return t("reports.no_value")
    return format_percent(value, format="#,##0.0 %", locale=LOCALE)


def ratio(value: float | None) -> str:
    """A ratio (``× 2,13``)."""
    return (
        t("reports.no_value") if value is None else t("reports.unit.ratio", value=number(value, 2))
    )


def day(value: dt.date) -> str:
    """``lundi 23 novembre 2026``."""
    return format_date(value, format="full", locale=LOCALE)


def instant(value: dt.datetime | str | None) -> str:
    """An instant in the reporting zone: ``23 novembre 2026 à 07:00``."""
    if value is None:
        return t("reports.no_value")
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    local = value.astimezone(REPORTING_ZONE)
    return t(
        "reports.instant",
        day=format_date(local.date(), format="long", locale=LOCALE),
        time=format_time(local.time(), format="HH:mm", locale=LOCALE),
    )


def deadline(value: str | None) -> str:
    """A deadline as people read it: « 22 juillet 2026 » when it ends a day (stored as the
    next day's 00:00), else its instant."""
    if value is None:
        return t("reports.no_value")
    local = dt.datetime.fromisoformat(value).astimezone(REPORTING_ZONE)
    if local.time() != dt.time(0, 0):
        return instant(local)
    included = (local - dt.timedelta(microseconds=1)).date()
    return t("reports.end_of_day", day=format_date(included, format="long", locale=LOCALE))


def delay_sentence(row: AdministrationOut) -> str:
    """« la moitié en moins de X, 90 % en moins de Y », or why there is no such sentence."""
    if row.n == 0 or row.p50_days is None or row.p90_days is None:
        return t("reports.delays.no_opinion")
    sentence = t("reports.delays.sentence", half=days(row.p50_days), ninety=days(row.p90_days))
    if row.n < FEW:
        sentence += " " + t("reports.delays.few", n=row.n)
    return sentence


def _delay_chart(pack: WeeklyPack) -> BarChart:
    rows = [(a.code, [a.p50_days, a.p90_days]) for a in pack.administrations if a.n > 0]
    return bar_chart(
        "graphique-delais",
        t("reports.delays.chart_title"),
        t("reports.delays.chart_description"),
        rows,
        [Series(t("reports.delays.p50"), BLUE), Series(t("reports.delays.p90"), LIGHT_BLUE)],
        show=days,
        missing=t("reports.no_value"),
    )


def _on_time_chart(pack: WeeklyPack) -> BarChart:
    rows = [(a.code, [a.on_time_share]) for a in pack.administrations if a.n > 0]
    return bar_chart(
        "graphique-respect",
        t("reports.on_time.chart_title"),
        t("reports.on_time.chart_description"),
        rows,
        [Series(t("reports.on_time.share"), GREEN)],
        show=lambda v: format_percent(v, format="#,##0 %", locale=LOCALE),
        missing=t("reports.no_value"),
        maximum=1.0,
    )


def _open_row(item: OpenItemOut, pack: WeeklyPack, base_url: str | None) -> dict[str, Any]:
    return {
        "reference": item.reference or t("reports.open.no_reference"),
        "title": item.title,
        "url": f"{base_url}/dossiers/{item.dossier_id}" if base_url else None,
        "administration": pack.name(item.administration),
        "sent_at": instant(item.sent_at),
        "target": deadline(item.target_due_at),
        "legal": deadline(item.legal_due_at),
        "late_by": days(item.days_past_target),
    }


def _forecast_row(item: ForecastOut, pack: WeeklyPack) -> dict[str, Any]:
    return {
        "administration": pack.name(item.administration),
        "type": pack.type_name(item.consultation_type),
        "due": deadline(item.due_at),
        "age": days(item.age_days),
        "probability": share(item.breach_probability),
        "basis": t("reports.forecast.basis", basis=item.basis, n=item.n_history),
    }


def context(pack: WeeklyPack, *, base_url: str | None = None) -> dict[str, Any]:
    """What the template shows, every value already written out."""
    take = pack.take_charge
    gate = pack.gating_administration
    opinions = sum(a.n for a in pack.administrations)
    return {
        # The package's own stylesheet, as written: the policy allows it by its digest.
        "style": Markup(STYLE),
        "week": str(pack.week),
        "period": t("reports.period", first=day(pack.week.first_day), last=day(pack.week.last_day)),
        "generated_at": instant(pack.generated_at),
        "as_of": instant(pack.as_of),
        "complete": pack.complete,
        "key_figures": [
            {
                "label": t("reports.key.take_charge"),
                "value": share(take.share_within_target),
                "detail": t(
                    "reports.key.take_charge_detail",
                    within=take.within_target,
                    counted=take.taken + take.late_pending,
                    p50=hours(take.p50_hours),
                    p90=hours(take.p90_hours),
                )
                if take.taken + take.late_pending
                else t("reports.key.take_charge_none"),
            },
            {
                "label": t("reports.key.opinions"),
                "value": str(opinions),
                "detail": t(
                    "reports.key.flow_detail",
                    arrivals=pack.flow.arrivals,
                    completions=pack.flow.completions,
                ),
            },
            {
                "label": t("reports.key.late"),
                "value": str(pack.open_work.late_count),
                "detail": t("reports.key.at_risk_detail", count=pack.open_work.at_risk_count),
            },
            {
                "label": t("reports.key.gating"),
                "value": gate.code if gate else t("reports.no_value"),
                "detail": t(
                    "reports.key.gating_detail",
                    gated=gate.gated,
                    consulted=gate.consulted,
                    delay=days(gate.total_delay_days),
                )
                if gate
                else t("reports.key.gating_none"),
            },
            {
                "label": t("reports.key.parallel_gain"),
                "value": ratio(pack.parallel_gain.ratio),
                "detail": t(
                    "reports.key.parallel_gain_detail",
                    cycles=pack.parallel_gain.cycles,
                    total=days(pack.parallel_gain.sum_days),
                    longest=days(pack.parallel_gain.longest_days),
                ),
            },
        ],
        "take_charge": {
            "filed": take.filed,
            "taken": take.taken,
            "within": take.within_target,
            "late_pending": take.late_pending,
            "pending": take.pending,
            "share": share(take.share_within_target),
            "p50": hours(take.p50_hours),
            "p90": hours(take.p90_hours),
        },
        "procedures": [
            {
                "code": p.code,
                "name": pack.procedure_names.get(p.code, p.code),
                "n": p.n,
                "legal": days(p.legal_p50_days),
                "actual": days(p.actual_p50_days),
                "actual_p90": days(p.actual_p90_days),
                "on_time": share(p.on_time_share),
                "open": p.open,
                "open_past_legal": p.open_past_legal,
            }
            for p in pack.procedures
        ],
        "delay_chart": _delay_chart(pack),
        "on_time_chart": _on_time_chart(pack),
        "administrations": [
            {
                "code": a.code,
                "name": pack.name(a.code),
                "n": a.n,
                "p50": days(a.p50_days),
                "p85": days(a.p85_days),
                "p90": days(a.p90_days),
                "p95": days(a.p95_days),
                "sentence": delay_sentence(a),
                "on_time": share(a.on_time_share),
                "on_target": share(a.on_time_target_share),
                "tacit": share(a.tacit_share),
                "open": a.open,
                "open_breached": a.open_breached,
                "at_risk": a.at_risk,
            }
            for a in pack.administrations
        ],
        "gating": [
            {
                "code": g.code,
                "name": pack.name(g.code),
                "gated": g.gated,
                "consulted": g.consulted,
                "share": share(g.share),
                "delay": days(g.total_delay_days),
                "chosen": gate is not None and g.code == gate.code,
            }
            for g in pack.gating
        ],
        "parallel_gain": {
            "cycles": pack.parallel_gain.cycles,
            "sum": days(pack.parallel_gain.sum_days),
            "longest": days(pack.parallel_gain.longest_days),
            "ratio": ratio(pack.parallel_gain.ratio),
            "median": ratio(pack.parallel_gain.median_cycle_ratio),
        },
        "late": [_open_row(i, pack, base_url) for i in pack.open_work.late],
        "late_count": pack.open_work.late_count,
        "at_risk": [_open_row(i, pack, base_url) for i in pack.open_work.at_risk],
        "at_risk_count": pack.open_work.at_risk_count,
        "forecast": [_forecast_row(i, pack) for i in pack.forecast],
    }


def render_html(pack: WeeklyPack, *, base_url: str | None = None) -> str:
    """The pack as one self-contained HTML page (links to dossiers under ``base_url``)."""
    return _environment.get_template("weekly.html.j2").render(context(pack, base_url=base_url))


def render_pdf(pack: WeeklyPack, *, base_url: str | None = None) -> bytes:
    """The pack as a tagged PDF (A4), the same page as the HTML laid out by WeasyPrint."""
    from weasyprint import HTML  # imported on use: it loads Pango (≈ 0.5 s)

    pdf: bytes = HTML(string=render_html(pack, base_url=base_url)).write_pdf(pdf_tags=True)
    return pdf
