"""The holder's step-by-step filing form (DSFR stepper), saving the draft at each step.

1. « Le projet » (title, description, commune found by name or INSEE code) creates the draft;
2. « Les procédures »; 3. « Les questions » (the facts that decide which administrations are
consulted, in plain words, and the figures); 4. « Pièces et dépôt » (the pieces the
procedures expect, what is missing, and the button that files). Each step posts to the same
actions as the API (``create_dossier``, ``update_draft``) with the API's own input models; a
refused field is shown again under its field. Filing leads to the dossier page, whose notice
gives the reference (the receipt).
"""

from __future__ import annotations

import re
import uuid
from enum import StrEnum
from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.catalogue.models import Commune, Procedure
from accelerator.dossiers import actions as dossiers
from accelerator.dossiers.access import access_dossier
from accelerator.dossiers.schemas import DossierCreate, DossierDraftIn
from accelerator.dossiers.status import DossierStatus
from accelerator.shared.text import t
from accelerator.views.queries import build_views
from api.deps import parse_id
from api.pages.forms import FormRefused, Forms, validated
from api.pages.rendering import render
from api.pages.web import FormDep, Page, PageRouter, page_unit
from api.policies import Scope, allow

router = PageRouter(tags=["pages"])

HOLDER = allow(holder=Scope.OWN_ORGANISATION)
#: « Cauterets (65138) », as the commune list offers it.
_WITH_CODE = re.compile(r"\(\s*([0-9]{2}[0-9AB][0-9]{2}|2[AB][0-9]{3})\s*\)\s*$")


class Step(StrEnum):
    """The steps of the form (``?etape=``)."""

    PROJECT = "projet"
    PROCEDURES = "procedures"
    QUESTIONS = "questions"
    PIECES = "pieces"


STEP_KEYS: dict[Step, str] = {
    Step.PROJECT: "pages.filing.step.projet",
    Step.PROCEDURES: "pages.filing.step.procedures",
    Step.QUESTIONS: "pages.filing.step.questions",
    Step.PIECES: "pages.filing.step.pieces",
}
ORDER = list(Step)

#: The yes/no questions, in plain words (the fields of ``DossierAttributes``).
QUESTIONS: dict[str, str] = {
    "near_monument": "pages.filing.question.near_monument",
    "protected_area": "pages.filing.question.protected_area",
    "public_access_building": "pages.filing.question.public_access_building",
    "high_rise": "pages.filing.question.high_rise",
    "archaeological_zone": "pages.filing.question.archaeological_zone",
    "environmental_assessment": "pages.filing.question.environmental_assessment",
    "water_impact": "pages.filing.question.water_impact",
    "protected_species": "pages.filing.question.protected_species",
    "farmland_consumption": "pages.filing.question.farmland_consumption",
    "water_catchment": "pages.filing.question.water_catchment",
    "health_facility": "pages.filing.question.health_facility",
    "hiring_aid": "pages.filing.question.hiring_aid",
    "public_grant": "pages.filing.question.public_grant",
}
#: The figures asked with the questions (empty: not given).
FIGURES: dict[str, str] = {
    "site_area_ha": "pages.filing.figure.site_area_ha",
    "retail_area_m2": "pages.filing.figure.retail_area_m2",
    "investment_eur": "pages.filing.figure.investment_eur",
    "jobs_created": "pages.filing.figure.jobs_created",
}
ICPE: dict[str, str] = {
    "": "pages.filing.icpe.none",
    "industrial": "pages.filing.icpe.industrial",
    "agricultural": "pages.filing.icpe.agricultural",
}


def commune_code(session: Session, typed: str) -> str:
    """The INSEE code of what the holder typed: « Nom (code) », a code, or a name that only
    one commune of the catalogue bears; else what was typed (the model refuses it)."""
    typed = typed.strip()
    found = _WITH_CODE.search(typed)
    if found:
        return found.group(1)
    if re.fullmatch(r"[0-9]{2}[0-9AB][0-9]{2}|2[AB][0-9]{3}", typed):
        return typed
    named = list(session.scalars(select(Commune.insee).where(Commune.name == typed[:200]).limit(2)))
    return named[0] if len(named) == 1 else typed


def _number(value: str | None, kind: type[int] | type[float]) -> Any:
    """A figure typed in French (« 3 200 000 », « 1,5 »): the number, None when empty, or the
    text itself for the model to refuse with its message."""
    text = (value or "").replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if not text:
        return None
    try:
        return kind(text.replace(",", ".")) if kind is float else int(text)
    except ValueError:
        return value


def _communes(session: Session) -> list[str]:
    return [
        f"{name} ({insee})"
        for insee, name in session.execute(
            select(Commune.insee, Commune.name).order_by(Commune.name)
        )
    ]


def _procedures(session: Session) -> list[dict[str, str]]:
    return [
        {"code": code, "label": label}
        for code, label in session.execute(
            select(Procedure.code, Procedure.label).order_by(Procedure.code)
        )
    ]


def _stepper(step: Step) -> dict[str, object]:
    index = ORDER.index(step)
    return {
        "number": index + 1,
        "count": len(ORDER),
        "title": t(STEP_KEYS[step]),
        "next": t(STEP_KEYS[ORDER[index + 1]]) if index + 1 < len(ORDER) else "",
    }


def filing_page(
    unit: Page,
    step: Step,
    *,
    dossier_id: uuid.UUID | None = None,
    forms: Forms | None = None,
    status: int = 200,
) -> Response:
    """One step of the form, with the draft's current values (none before step 1)."""
    session, user = unit.session, unit.signed_in
    view = None
    if dossier_id is not None:
        dossier = access_dossier(session, user, dossier_id)
        view = build_views(session, [dossier], viewer=user)[0]
    forms = forms or Forms()
    values: dict[str, Any] = {}
    if view is not None:
        commune = f"{view.commune_name} ({view.commune_insee})" if view.commune_name else ""
        values = {
            "title": view.title,
            "description": view.description,
            "commune": commune,
            "procedures": view.procedures,
            **{name: view.attributes.get(name) for name in (*QUESTIONS, "icpe")},
            "site_area_ha": view.attributes.get("site_area_ha"),
            "retail_area_m2": view.attributes.get("retail_area_m2"),
            "investment_eur": view.investment_eur,
            "jobs_created": view.jobs_created,
        }
    if forms.name:
        posted = dict(forms.values)
        posted.update(posted.pop("attributes", None) or {})
        values.update(posted)
    context = {
        "step": step.value,
        "stepper": _stepper(step),
        "dossier": view,
        "values": values,
        "forms": forms,
        "action": f"/dossiers/{view.id}/brouillon" if view else "/nouveau-dossier",
        "previous": ORDER[ORDER.index(step) - 1].value if ORDER.index(step) > 0 else "",
        "communes": _communes(session) if step is Step.PROJECT else [],
        "procedures": _procedures(session) if step is Step.PROCEDURES else [],
        "questions": [(name, t(key)) for name, key in QUESTIONS.items()],
        "figures": [(name, t(key)) for name, key in FIGURES.items()],
        "icpe": [(value, t(key)) for value, key in ICPE.items()],
    }
    return render(unit.request, "filing.html", context, status=status)


def _project_fields(session: Session, form: Any) -> dict[str, Any]:
    return {
        "title": form.get("title") or "",
        "description": form.get("description") or "",
        "commune_insee": commune_code(session, form.get("commune") or ""),
    }


def _step_data(session: Session, step: Step, form: Any) -> dict[str, Any]:
    """What the step's form changes of the draft, as ``DossierDraftIn`` takes it."""
    if step is Step.PROJECT:
        return _project_fields(session, form)
    if step is Step.PROCEDURES:
        return {"procedures": form.all("procedures")}
    if step is Step.QUESTIONS:
        attributes: dict[str, Any] = {name: form.get(name) == "oui" for name in QUESTIONS}
        attributes["icpe"] = form.get("icpe") or None
        attributes["site_area_ha"] = _number(form.get("site_area_ha"), float)
        attributes["retail_area_m2"] = _number(form.get("retail_area_m2"), float)
        return {
            "attributes": attributes,
            "investment_eur": _number(form.get("investment_eur"), int),
            "jobs_created": _number(form.get("jobs_created"), int),
        }
    return {}


@router.get_page("/nouveau-dossier", policy=allow(holder=Scope.ANY))
def new_dossier(request: Request) -> Response:
    """The first step of a new dossier."""
    with page_unit(request) as unit:
        return filing_page(unit, Step.PROJECT)


@router.post_form("/nouveau-dossier", policy=allow(holder=Scope.ANY))
def create_draft(request: Request, form: FormDep) -> Response:
    """Step 1 sent: the draft exists from now on."""
    try:
        with page_unit(request, form=form) as unit:
            fields = _project_fields(unit.session, form)
            data = validated("projet", DossierCreate, fields)
            dossier = dossiers.create_dossier(
                unit.session, data=data, user=unit.signed_in, now=unit.now
            )
            dossier_id = dossier.id
    except FormRefused as refused:
        refused.forms.values["commune"] = form.get("commune") or ""
        with page_unit(request, form=form) as unit:
            return filing_page(unit, Step.PROJECT, forms=refused.forms, status=422)
    return RedirectResponse(
        f"/dossiers/{dossier_id}/brouillon?etape={Step.PROCEDURES.value}", status_code=303
    )


@router.get_page("/dossiers/{dossier_id}/brouillon", policy=HOLDER)
def draft_step(request: Request, dossier_id: str, etape: Step = Step.PROJECT) -> Response:
    """One step of a draft; a filed dossier has its own page."""
    parsed = parse_id(dossier_id, "Dossier")
    with page_unit(request) as unit:
        dossier = access_dossier(unit.session, unit.signed_in, parsed)
        if dossier.status != DossierStatus.DRAFT:
            return RedirectResponse(f"/dossiers/{parsed}", status_code=303)
        return filing_page(unit, etape, dossier_id=parsed)


@router.post_form("/dossiers/{dossier_id}/brouillon", policy=HOLDER)
def save_step(request: Request, dossier_id: str, form: FormDep) -> Response:
    """A step sent: the draft saved, then the next step (or the previous one, « Retour »)."""
    parsed = parse_id(dossier_id, "Dossier")
    try:
        step = Step(form.get("etape") or "")
    except ValueError:
        step = Step.PROJECT
    try:
        with page_unit(request, form=form) as unit:
            fields = _step_data(unit.session, step, form)
            if fields:
                data = validated(step.value, DossierDraftIn, fields)
                dossiers.update_draft(
                    unit.session, dossier_id=parsed, data=data, user=unit.signed_in, now=unit.now
                )
            else:
                access_dossier(unit.session, unit.signed_in, parsed)
    except FormRefused as refused:
        if step is Step.PROJECT:
            refused.forms.values["commune"] = form.get("commune") or ""
        with page_unit(request, form=form) as unit:
            return filing_page(unit, step, dossier_id=parsed, forms=refused.forms, status=422)
    index = ORDER.index(step)
    going = ORDER[max(0, index - 1)] if form.get("retour") else ORDER[min(index + 1, 3)]
    return RedirectResponse(f"/dossiers/{parsed}/brouillon?etape={going.value}", status_code=303)
