"""The what-if simulator for managers: ``/pilotage/simulation`` (the form and the recent
runs) and ``/pilotage/simulation/{id}`` (one run: where it stands, then its answer as a table
and a dsfr-chart bar chart).

The form becomes the simulation's own input model (``simulation.schemas.WhatIfIn``, whose
``scenario`` is the ``SimulationConfig`` a ``--config`` file is read into): the page only
turns the typed texts into numbers (« 12,5 » as 12.5) and each change of an administration
into the scenario's ``administrations.<CODE>.response`` lognormal; the model decides what is
allowed, and its refusals come back under their field. Posting queues the run
(``simulation.actions.queue_what_if``: a row and its flow's outbox message, in the page's
transaction); a flow runs it in the background, since a run costs about a second per
dossier. The page never refreshes itself (no script under the CSP, and RGAA 2.2.1: no
refresh the user does not control): an « Actualiser » link reloads it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select

from accelerator.catalogue.models import Administration
from accelerator.metrics.facts import REPORTING_ZONE
from accelerator.shared.errors import InvalidInput
from accelerator.shared.text import t
from accelerator.simulation.actions import queue_what_if, seed_administrations
from accelerator.simulation.rules import SOURCE_KEYS, describe_distribution
from accelerator.simulation.schemas import (
    MAX_PAGE_DOSSIERS,
    Distribution,
    Mode,
    SimulationConfig,
    WhatIfIn,
)
from accelerator.whatif import queries
from accelerator.whatif.models import SimulationRun
from accelerator.whatif.schemas import RunResult
from accelerator.whatif.status import LABEL_KEYS, WAITING, RunStatus
from api.deps import parse_id
from api.errors import describe
from api.figures import READERS
from api.pages import display
from api.pages.display import Badge, Level
from api.pages.forms import GENERAL, FormRefused, Forms
from api.pages.pilotage import Chart, chart, decimal, in_days, sections
from api.pages.rendering import render
from api.pages.web import Form, FormDep, Page, PageRouter, page_unit

router = PageRouter(tags=["pages"])

PATH = "/pilotage/simulation"
FORM = "simulation"
#: How many administrations one what-if changes at most (a row of the form each).
CHANGES = 3
#: How many runs the page lists.
RUNS = 20
#: The units a change may be given in, in the form's order.
UNITS = ("business_days", "days", "hours")
#: The form's own fields (each change's are ``change-<n>-<part>``).
FIELDS = ("dossiers", "seed", "per_week", "information")
PARTS = ("administration", "median", "p90", "unit")
#: A number as people type it: digits, a decimal comma or point, a sign.
_NUMBER = re.compile(r"[+-]?[0-9]{1,12}(?:[.,][0-9]{1,6})?")
_INTEGER = re.compile(r"[+-]?[0-9]{1,20}")
#: The distribution kinds pydantic adds to an error's location (``response.lognormal.p90``).
_KINDS = {"fixed", "lognormal", "gamma", "empirical", "legal"}

#: A stored response distribution read back (the run's answer lists them).
_DISTRIBUTION: TypeAdapter[Any] = TypeAdapter(Distribution)

STATUS_LEVELS = {
    RunStatus.QUEUED: Level.NEW,
    RunStatus.RUNNING: Level.INFO,
    RunStatus.DONE: Level.SUCCESS,
    RunStatus.FAILED: Level.ERROR,
}
#: The catalogue keys of the form's fields, of each change's parts, of the units, of the
#: percentiles and of a missing amount.
FIELD_KEYS = {
    "dossiers": "pages.simulation.dossiers",
    "seed": "pages.simulation.seed",
    "per_week": "pages.simulation.per_week",
    "information": "pages.simulation.information",
}
PART_KEYS = {
    "administration": "pages.simulation.change_administration_numbered",
    "median": "pages.simulation.change_median_numbered",
    "p90": "pages.simulation.change_p90_numbered",
    "unit": "pages.simulation.change_unit_numbered",
}
UNIT_LABEL_KEYS = {
    "business_days": "pages.simulation.unit.business_days",
    "days": "pages.simulation.unit.days",
    "hours": "pages.simulation.unit.hours",
}
LEVEL_KEYS = {
    "p50": "pages.simulation.level.p50",
    "p85": "pages.simulation.level.p85",
    "p95": "pages.simulation.level.p95",
}
REQUIRED_KEYS = {
    "median": "pages.simulation.error.median_required",
    "p90": "pages.simulation.error.p90_required",
}
MODE_KEYS = {
    Mode.PARALLEL.value: "pages.simulation.mode.parallel",
    Mode.SERIAL.value: "pages.simulation.mode.serial",
}


def field_name(index: int, part: str) -> str:
    """The form's name of one part of change ``index`` (from 1): ``change-2-median``."""
    return f"change-{index}-{part}"


# --- The form ------------------------------------------------------------------------------


def _number(text: str) -> float | str:
    """A typed number (« 12,5 », « 10 »); what is not one stays a text, which the model
    refuses (« nombre attendu »)."""
    cleaned = text.strip()
    return float(cleaned.replace(",", ".")) if _NUMBER.fullmatch(cleaned) else cleaned


def _integer(text: str) -> int | str:
    """A typed integer; what is not one stays a text, which the model refuses."""
    cleaned = text.strip()
    return int(cleaned) if _INTEGER.fullmatch(cleaned) else cleaned


def typed(form: Form) -> dict[str, str]:
    """The form's fields as typed (every field of the form, empty when not sent)."""
    names = [*FIELDS] + [field_name(i, p) for i in range(1, CHANGES + 1) for p in PARTS]
    return {name: (form.get(name) or "")[:100] for name in names}


def read_what_if(values: dict[str, str], known: Sequence[str]) -> WhatIfIn:
    """The form as the simulation's input model, or :class:`FormRefused` with each refused
    field's French message. ``known``: the administrations the simulation holds."""
    errors: dict[str, str] = {}
    rows: dict[str, int] = {}
    administrations: dict[str, Any] = {}
    for index in range(1, CHANGES + 1):
        code = values[field_name(index, "administration")].strip().upper()
        median = values[field_name(index, "median")].strip()
        p90 = values[field_name(index, "p90")].strip()
        if not code:
            if median or p90:
                errors[field_name(index, "administration")] = t(
                    "pages.simulation.error.administration_required"
                )
            continue
        if code not in known:
            errors[field_name(index, "administration")] = t(
                "pages.simulation.error.administration_unknown"
            )
            continue
        if code in rows:
            errors[field_name(index, "administration")] = t(
                "pages.simulation.error.administration_twice", number=rows[code]
            )
            continue
        rows[code] = index
        for part, given in (("median", median), ("p90", p90)):
            if not given:
                errors[field_name(index, part)] = t(REQUIRED_KEYS[part])
        administrations[code] = {
            "response": {
                "kind": "lognormal",
                "median": _number(median),
                "p90": _number(p90),
                "unit": values[field_name(index, "unit")] or UNITS[0],
            }
        }
    scenario: dict[str, Any] = {"administrations": administrations}
    if values["per_week"].strip():
        scenario["arrivals"] = {"per_week": _number(values["per_week"])}
    if values["information"].strip():
        share = _number(values["information"])
        scenario["information_probability"] = share / 100 if isinstance(share, float) else share
    data: dict[str, Any] = {"scenario": scenario}
    for name in ("dossiers", "seed"):
        if values[name].strip():
            data[name] = _integer(values[name])
        else:
            errors[name] = t("field.missing")
    try:
        checked = WhatIfIn.model_validate(data)
    except ValidationError as error:
        for problem in error.errors():
            name = _field_of(tuple(problem.get("loc") or ()), rows)
            message = describe(problem)["message"]
            if name == "information":
                message = t("pages.simulation.error.percent")
            errors.setdefault(name, message)
        raise FormRefused(Forms(FORM, errors, values)) from None
    if errors:
        raise FormRefused(Forms(FORM, errors, values))
    return checked


def _field_of(location: tuple[Any, ...], rows: dict[str, int]) -> str:
    """The form field a refusal of the model is about (its location in ``WhatIfIn``)."""
    parts = [str(p) for p in location if str(p) not in _KINDS]
    if parts[:1] in (["dossiers"], ["seed"]):
        return parts[0]
    if parts[:2] == ["scenario", "arrivals"]:
        return "per_week"
    if parts[:2] == ["scenario", "information_probability"]:
        return "information"
    if parts[:2] == ["scenario", "administrations"] and len(parts) > 2 and parts[2] in rows:
        index = rows[parts[2]]
        for part in ("median", "p90", "unit"):
            if part in parts[3:]:
                return field_name(index, part)
        return field_name(index, "p90")  # the distribution as a whole: p90 below the median
    return GENERAL


# --- What the page shows -------------------------------------------------------------------


def status_badge(status: str) -> Badge:
    """A run's status as a badge."""
    found = RunStatus(status)
    return Badge(t(LABEL_KEYS[found]), STATUS_LEVELS[found])


def changes_of(scenario: dict[str, Any]) -> list[str]:
    """What a stored scenario changes, in French: each administration's distribution, the
    arrivals and the requests for information when they are not the defaults."""
    config = SimulationConfig.model_validate(scenario)
    default = SimulationConfig()
    shown = [
        t(
            "pages.simulation.change",
            code=code,
            distribution=describe_distribution(given.response),
        )
        for code, given in sorted(config.administrations.items())
        if given.response is not None
    ]
    if config.arrivals.mean_gap_days() != default.arrivals.mean_gap_days():
        shown.append(
            t(
                "pages.simulation.change_arrivals",
                per_week=decimal(7 / config.arrivals.mean_gap_days()),
            )
        )
    if config.information_probability != default.information_probability:
        shown.append(
            t(
                "pages.simulation.change_information",
                share=decimal(config.information_probability * 100),
            )
        )
    return shown


def run_row(run: SimulationRun) -> dict[str, Any]:
    """One run as the list shows it."""
    result = RunResult.model_validate(run.result) if run.result else None
    answer = ""
    if result is not None:
        parallel, serial = result.modes.get("parallel"), result.modes.get("serial")
        answer = t(
            "pages.simulation.row_result",
            parallel=in_days(parallel.p50 if parallel else None),
            serial=in_days(serial.p50 if serial else None),
        )
    return {
        "url": f"{PATH}/{run.id}",
        "at": display.instant(run.requested_at, str(REPORTING_ZONE)),
        "dossiers": run.dossiers,
        "seed": run.seed,
        "changes": changes_of(run.scenario) or [t("pages.simulation.no_change")],
        "status": status_badge(run.status),
        "answer": answer,
    }


def result_view(result: RunResult) -> dict[str, Any]:
    """A finished run's answer: a row per mode, the ratio, the chart, the distributions."""
    modes = [
        (mode, result.modes[mode]) for mode in (Mode.PARALLEL.value, Mode.SERIAL.value)
        if mode in result.modes
    ]  # fmt: skip
    ratio = result.ratio or {}
    responses = []
    for code, given in sorted(result.responses.items()):
        source_key = SOURCE_KEYS.get(str(given.get("source")), SOURCE_KEYS["legal"])
        distribution = _DISTRIBUTION.validate_python(
            {k: v for k, v in given.items() if k not in ("source", "observed")}
        )
        responses.append(
            {
                "code": code,
                "distribution": describe_distribution(distribution),
                "source": t(source_key, count=given.get("observed", 0)),
            }
        )
    levels = ("p50", "p85", "p95")
    figures_chart: Chart | None = chart(
        "bar-chart",
        [t(LEVEL_KEYS[level]) for level in levels],
        [(t(MODE_KEYS[mode]), [getattr(f, level) for level in levels]) for mode, f in modes],
        unit=t("pages.pilotage.days_unit"),
    )
    parallel, serial = result.modes.get("parallel"), result.modes.get("serial")
    return {
        "modes": [
            {
                "label": t(MODE_KEYS[mode]),
                "n": f.n,
                "levels": [in_days(getattr(f, level)) for level in levels],
                "tacit": f.tacit,
                "requests": f.information_requests,
            }
            for mode, f in modes
        ],
        "ratio": [decimal(ratio.get(level), 2) for level in levels] if ratio else None,
        "sentence": t(
            "pages.simulation.sentence",
            parallel=in_days(parallel.p50),
            serial=in_days(serial.p50),
            ratio=decimal(ratio.get("p50"), 2),
        )
        if parallel and serial and ratio
        else "",
        "chart": figures_chart,
        "responses": responses,
        "notes": result.notes,
        "seconds": decimal(result.seconds),
    }


def administration_options(unit: Page, known: Sequence[str]) -> list[dict[str, str]]:
    """The administrations a change may name (the simulation's), with their names."""
    names = dict(unit.session.execute(select(Administration.code, Administration.name)).all())
    return [
        {"value": code, "label": f"{names[code]} ({code})" if code in names else code}
        for code in known
    ]


def simulation_page(unit: Page, *, forms: Forms | None = None, status: int = 200) -> Response:
    """The form (again with its errors, when refused) and the recent runs."""
    known = seed_administrations()
    runs = queries.recent_runs(unit.session, limit=RUNS)
    forms = forms or Forms()
    error_list = [
        {"field": name, "message": message}
        for name, message in forms.errors.items()
        if name != GENERAL
    ]
    return render(
        unit.request,
        "pilotage/simulation.html",
        {
            "sections": sections(PATH, unit.signed_in.role),
            "forms": forms,
            "form": FORM,
            "general": GENERAL,
            "error_list": error_list,
            "labels": field_labels(),
            "administrations": administration_options(unit, known),
            "units": [{"value": u, "label": t(UNIT_LABEL_KEYS[u])} for u in UNITS],
            "changes": range(1, CHANGES + 1),
            "maximum": MAX_PAGE_DOSSIERS,
            "runs": [run_row(run) for run in runs],
            "waiting": any(RunStatus(run.status) in WAITING for run in runs),
        },
        status=status,
    )


def field_labels() -> dict[str, str]:
    """Each field's label, for the error summary's links."""
    labels = {name: t(FIELD_KEYS[name]) for name in FIELDS}
    for index in range(1, CHANGES + 1):
        for part in PARTS:
            labels[field_name(index, part)] = t(PART_KEYS[part], number=index)
    return labels


# --- Routes --------------------------------------------------------------------------------


@router.get_page(PATH, policy=READERS)
def simulation(request: Request) -> Response:
    """The what-if form and the runs queued, running or finished, newest first."""
    with page_unit(request) as unit:
        return simulation_page(unit)


@router.post_form(PATH, policy=READERS)
def queue_simulation(request: Request, form: FormDep) -> Response:
    """Queue a what-if for the background flow, then to its page (303); refused fields, or
    too many runs waiting: the form again with the errors (422), nothing queued."""
    values = typed(form)
    try:
        with page_unit(request, form=form) as unit:
            data = read_what_if(values, seed_administrations())
            try:
                run = queue_what_if(unit.session, data=data, user=unit.signed_in, now=unit.now)
            except InvalidInput as refusal:
                raise FormRefused(Forms(FORM, {GENERAL: refusal.message}, values)) from None
            target = f"{PATH}/{run.id}"
    except FormRefused as refused:
        with page_unit(request, body_unread=True) as unit:
            return simulation_page(unit, forms=refused.forms, status=422)
    return RedirectResponse(target, status_code=303)


@router.get_page(PATH + "/{run_id}", policy=READERS)
def simulation_run(request: Request, run_id: str) -> Response:
    """One run: its parameters and status; once done, its answer as a table and a chart."""
    with page_unit(request) as unit:
        run = queries.get_run(unit.session, parse_id(run_id, t("pages.simulation.what")))
        found = RunStatus(run.status)
        started = run.started_at
        took = (
            decimal((run.finished_at - started).total_seconds() / 60)
            if run.finished_at is not None and started is not None
            else ""
        )
        return render(
            unit.request,
            "pilotage/simulation_run.html",
            {
                "sections": sections(PATH, unit.signed_in.role),
                "run": {
                    **run_row(run),
                    "state": found.value,
                    "started": display.instant(started) if started else "",
                    "finished": display.instant(run.finished_at) if run.finished_at else "",
                    "minutes": took,
                    "error": run.error or "",
                },
                "result": result_view(RunResult.model_validate(run.result)) if run.result else None,
                "back": PATH,
                "reload": f"{PATH}/{run.id}",
            },
        )
