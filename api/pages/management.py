"""The administrators' pages under ``/gestion/...``: accounts and roles, administrations,
routing rules, internal targets, closures, and the configuration journal.

Each form posts to one action of ``accelerator.configuration.actions`` in the page's unit of
work (CSRF checked, admin role only: another role gets the 403 page), then redirects (303) to
its page with a notice. Fields the input model refuses come back under their field, and a
refusal of the action (oneself, the last administrator, open consultations...) at the top of
the form: the page again, 422, rendered in a read-only unit of its own, nothing written.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

from babel.dates import get_day_names
from fastapi import Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from accelerator.catalogue.models import Arrondissement, ConsultationType
from accelerator.catalogue.queries import get_administration, list_calendars
from accelerator.configuration import actions, queries
from accelerator.configuration.schemas import (
    AccountIn,
    AdministrationIn,
    ClosureIn,
    InternalTargetIn,
    RoleIn,
    RoutingRuleIn,
)
from accelerator.dossiers.worklists import pages_for
from accelerator.identity import directory
from accelerator.identity.models import Organisation
from accelerator.identity.roles import ROLE_LABELS, Role
from accelerator.journal import queries as journal
from accelerator.journal.kinds import KIND_LABELS, ChangeKind, field_label
from accelerator.journal.models import ConfigChange
from accelerator.shared.errors import InvalidInput
from accelerator.shared.text import t
from accelerator.sla.durations import UNIT_LABELS, Unit
from accelerator.sla.explain import day_label
from api.deps import parse_id
from api.pages import display
from api.pages.forms import GENERAL, FormRefused, Forms, validated
from api.pages.rendering import render
from api.pages.web import Form, FormDep, Page, PageRouter, page_unit, side_menu
from api.policies import Scope, allow

router = PageRouter(tags=["pages"])


ADMIN = allow(admin=Scope.ANY)
#: The last page number a list accepts (a larger one shows the last page).
MAX_PAGE = 100_000
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE)]
#: The journal's filter: one kind of change, or empty for every kind.
KindFilter = Annotated[str | None, Query(pattern="^(" + "|".join(ChangeKind) + ")?$")]
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
_RULE = re.compile(r"[a-z0-9_]{1,64}")


class Done(StrEnum):
    """What the last form did (``?fait=``), told in a success notice."""

    ACCOUNT_CREATED = "compte-cree"
    ROLE_CHANGED = "role-modifie"
    DEACTIVATED = "desactive"
    REACTIVATED = "reactive"
    ADMINISTRATION_UPDATED = "administration-modifiee"
    RULE_ADDED = "regle-ajoutee"
    RULE_UPDATED = "regle-modifiee"
    RULE_DELETED = "regle-supprimee"
    TARGET_SET = "objectif-enregistre"
    CLOSURE_ADDED = "fermeture-ajoutee"
    CLOSURE_REMOVED = "fermeture-retiree"


DONE: dict[Done, str] = {
    Done.ACCOUNT_CREATED: "pages.gestion.done.account_created",
    Done.ROLE_CHANGED: "pages.gestion.done.role_changed",
    Done.DEACTIVATED: "pages.gestion.done.deactivated",
    Done.REACTIVATED: "pages.gestion.done.reactivated",
    Done.ADMINISTRATION_UPDATED: "pages.gestion.done.administration_updated",
    Done.RULE_ADDED: "pages.gestion.done.rule_added",
    Done.RULE_UPDATED: "pages.gestion.done.rule_updated",
    Done.RULE_DELETED: "pages.gestion.done.rule_deleted",
    Done.TARGET_SET: "pages.gestion.done.target_set",
    Done.CLOSURE_ADDED: "pages.gestion.done.closure_added",
    Done.CLOSURE_REMOVED: "pages.gestion.done.closure_removed",
}

#: The sections of the administrators' space, as the side menu lists them.
SECTIONS: list[tuple[str, str]] = [
    ("/gestion", "pages.gestion.section.overview"),
    ("/gestion/comptes", "pages.gestion.section.accounts"),
    ("/gestion/administrations", "pages.gestion.section.administrations"),
    ("/gestion/aiguillage", "pages.gestion.section.routing"),
    ("/gestion/objectifs", "pages.gestion.section.targets"),
    ("/gestion/fermetures", "pages.gestion.section.closures"),
    ("/gestion/journal", "pages.gestion.section.journal"),
]


def sections(current: str) -> list[dict[str, object]]:
    """The side menu, the current section marked."""
    return side_menu(SECTIONS, current)


def _show(
    unit: Page,
    template: str,
    section: str,
    context: dict[str, Any],
    *,
    done: Done | None = None,
    forms: Forms | None = None,
    status: int = 200,
) -> Response:
    unit.request.state.reload_url = unit.request.url.path
    return render(
        unit.request,
        template,
        {
            "sections": sections(section),
            "done": t(DONE[done]) if done else "",
            "forms": forms or Forms(),
            "general": GENERAL,
            **context,
        },
        status=status,
    )


def _act(
    request: Request,
    form: Form,
    *,
    name: str,
    action: Callable[[Page], str],
    again: Callable[[Page, Forms], Response],
) -> Response:
    """Run one form's action, then to the page it names (303); refused fields or a refusal
    of the action: the page again with the errors (422), from a read-only unit."""
    try:
        with page_unit(request, form=form) as unit:
            try:
                target = action(unit)
            except InvalidInput as refusal:
                raise FormRefused(Forms(name, {GENERAL: refusal.message}, _values(form))) from None
    except FormRefused as refused:
        forms = refused.forms
        forms.values = {**_values(form), **forms.values}
        with page_unit(request, body_unread=True) as unit:
            return again(unit, forms)
    return RedirectResponse(target, status_code=303)


def _values(form: Form) -> dict[str, Any]:
    """What the user typed, to show it again (never a password)."""
    return {
        name: values if len(values) > 1 else values[0]
        for name, values in form.values.items()
        if values and name not in ("password", "csrf_token")
    }


def _optional(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def _code(code: str) -> str:
    """A path's administration code as the catalogue writes it; a malformed one (a NUL byte,
    a megabyte) becomes one no administration has, so that the 404 comes after the sign-in
    and role checks like any other."""
    return code.upper() if _CODE.fullmatch(code) else ""


def _rule_code(code: str) -> str:
    """A path's routing rule code, as :func:`_code`."""
    return code if _RULE.fullmatch(code) else ""


def _done(path: str, done: Done) -> str:
    return f"{path}?fait={done.value}"


def _administration_choices(unit: Page) -> list[dict[str, str]]:
    return [
        {"value": a.code, "label": f"{a.name} ({a.code})"}
        for a in directory.administrations(unit.session)
        if a.active
    ]


def _arrondissements(unit: Page) -> list[dict[str, str]]:
    return [
        {"code": a.code, "name": a.name}
        for a in unit.session.scalars(select(Arrondissement).order_by(Arrondissement.code))
    ]


def _roles() -> list[dict[str, str]]:
    return [{"value": r.value, "label": ROLE_LABELS[r]} for r in Role]


# --- The journal's rows --------------------------------------------------------------------


#: Each weekday's name (ISO number as the calendars' ``weekly`` keys it: "1" is Monday).
WEEKDAYS = get_day_names("wide", locale=display.LOCALE)


def _hours(intervals: Any) -> str:
    """« 09:00–12:00, 14:00–17:00 », or « fermé » for a day without hours."""
    if not intervals:
        return t("pages.gestion.journal.closed")
    return ", ".join(f"{start}–{end}" for start, end in intervals)


def _weekly(weekly: Any) -> str:
    """« lundi : 08:30–12:00, 13:30–17:30 ; mardi : … » (days without hours left out)."""
    return " ; ".join(
        f"{WEEKDAYS[int(day) - 1]} : {_hours(hours)}"
        for day, hours in sorted(weekly.items(), key=lambda item: int(item[0]))
        if hours
    )


def _targets(targets: Any) -> str:
    return ", ".join(f"{t_['administration']} ({t_['consultation_type']})" for t_ in targets)


#: How a field's value reads in the journal, by field name (the others: as recorded).
VALUE_FORMATS: dict[str, Callable[[Any], str]] = {
    "role": lambda v: ROLE_LABELS.get(Role(v), v) if v in set(Role) else str(v),
    "date": lambda v: day_label(dt.date.fromisoformat(v)),
    "intervals": _hours,
    "weekly": _weekly,
    "arrondissements": lambda v: ", ".join(v) or "—",
    "targets": _targets,
    "condition": lambda v: json.dumps(v, ensure_ascii=False),
    "budget_unit": lambda v: UNIT_LABELS.get(Unit(v), v) if v in set(Unit) else str(v),
}


def shown_value(name: str, value: object) -> str:
    """One recorded value as people read it: « Oui » / « Non », a date in French, a role's,
    a unit's label, hours as « 09:00–12:00 »; « — » for none."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return t("pages.gestion.yes") if value else t("pages.gestion.no")
    if name in VALUE_FORMATS:
        return VALUE_FORMATS[name](value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def change_rows(rows: list[ConfigChange] | Any, zone: str) -> list[dict[str, object]]:
    """Journal rows as the table shows them: what changed, field by field, each field by its
    French label (``journal.kinds.FIELD_LABELS``), when in the préfecture's time zone."""
    shown = []
    for row in rows:
        kind = ChangeKind(row.kind)
        before, after = row.before or {}, row.after or {}
        fields = []
        for name in dict.fromkeys([*before, *after]):
            was, now = shown_value(name, before.get(name)), shown_value(name, after.get(name))
            if was != now:  # none and an empty list both read « — »
                fields.append({"name": field_label(kind, name), "before": was, "after": now})
        shown.append(
            {
                "at": display.instant(row.at, zone),
                "actor": row.actor_label,
                "kind": KIND_LABELS[kind],
                "key": row.key,
                "message": row.message,
                "fields": fields,
            }
        )
    return shown


# --- Overview ------------------------------------------------------------------------------


@router.get_page("/gestion", policy=ADMIN)
def overview(request: Request, page: PageNumber = 1) -> Response:
    """The administrators' space: the administrations, the accounts, the latest changes."""
    with page_unit(request) as unit:
        administrations = directory.administrations(unit.session)
        count, page, users = directory.users(
            unit.session, page=page, page_size=unit.settings.page_size
        )
        pages = pages_for(count, unit.settings.page_size)
        _, _, latest = journal.changes(unit.session, kind=None, page=1, page_size=5)
        return _show(
            unit,
            "admin.html",
            "/gestion",
            {
                "administrations": administrations,
                "users": users,
                "count": count,
                "page": page,
                "pages": pages,
                "latest": change_rows(latest, unit.settings.prefecture_timezone),
            },
        )


# --- Accounts ------------------------------------------------------------------------------


def accounts_page(
    unit: Page, *, page: int = 1, done: Done | None = None, forms: Forms | None = None,
    status: int = 200,
) -> Response:  # fmt: skip
    """The accounts, a page at a time, and the form that opens one."""
    count, page, users = directory.users(unit.session, page=page, page_size=unit.settings.page_size)
    pages = pages_for(count, unit.settings.page_size)
    return _show(
        unit,
        "management/accounts.html",
        "/gestion/comptes",
        {
            "users": users,
            "count": count,
            "page": page,
            "pages": pages,
            "roles": _roles(),
            "administrations": _administration_choices(unit),
            "arrondissements": _arrondissements(unit),
        },
        done=done,
        forms=forms,
        status=status,
    )


@router.get_page("/gestion/comptes", policy=ADMIN)
def accounts(request: Request, page: PageNumber = 1, fait: Done | None = None) -> Response:
    """The accounts and the form that opens one."""
    with page_unit(request) as unit:
        return accounts_page(unit, page=page, done=fait)


def _role_fields(form: Form) -> dict[str, Any]:
    return {
        "role": form.get("role") or "",
        "administration": _optional(form.get("administration")),
        "organisation": _optional(form.get("organisation")),
        "arrondissements": form.all("arrondissements"),
    }


@router.post_form("/gestion/comptes", policy=ADMIN)
def create_account_form(request: Request, form: FormDep) -> Response:
    """Open an account (its role, what it is attached to, a first password)."""

    def act(unit: Page) -> str:
        data = validated(
            "account",
            AccountIn,
            {
                "email": form.get("email") or "",
                "name": form.get("name") or "",
                "password": form.get("password") or "",
                **_role_fields(form),
            },
        )
        actions.create_account(unit.session, data=data, user=unit.signed_in, now=unit.now)
        return _done("/gestion/comptes", Done.ACCOUNT_CREATED)

    return _act(
        request, form, name="account", action=act,
        again=lambda unit, forms: accounts_page(unit, forms=forms, status=422),
    )  # fmt: skip


def account_page(
    unit: Page, account_id: uuid.UUID, *, done: Done | None = None, forms: Forms | None = None,
    status: int = 200,
) -> Response:  # fmt: skip
    """One account: its role form, its activation, its changes."""
    found = queries.account(unit.session, account_id)
    organisation = (
        unit.session.get(Organisation, found.organisation_id) if found.organisation_id else None
    )
    return _show(
        unit,
        "management/account.html",
        "/gestion/comptes",
        {
            "account": {
                "id": str(found.id),
                "email": found.email,
                "name": found.name,
                "role": found.role,
                "role_label": ROLE_LABELS[Role(found.role)],
                "administration": found.administration_code or "",
                "organisation": organisation.name if organisation else "",
                "arrondissements": list(found.arrondissements or []),
                "active": found.active,
                "self": found.id == unit.signed_in.id,
            },
            "roles": _roles(),
            "administrations": _administration_choices(unit),
            "arrondissements": _arrondissements(unit),
            "changes": change_rows(
                journal.changes_of(unit.session, [ChangeKind.USER, ChangeKind.ROLE], found.email),
                unit.settings.prefecture_timezone,
            ),
        },
        done=done,
        forms=forms,
        status=status,
    )


@router.get_page("/gestion/comptes/{account_id}", policy=ADMIN)
def account(request: Request, account_id: str, fait: Done | None = None) -> Response:
    """One account."""
    parsed = parse_id(account_id, "Compte")
    with page_unit(request) as unit:
        return account_page(unit, parsed, done=fait)


@router.post_form("/gestion/comptes/{account_id}/role", policy=ADMIN)
def role_form(request: Request, account_id: str, form: FormDep) -> Response:
    """Give the account another role (or other attachments)."""
    parsed = parse_id(account_id, "Compte")

    def act(unit: Page) -> str:
        data = validated("role", RoleIn, _role_fields(form))
        actions.change_role(
            unit.session, account_id=parsed, data=data, user=unit.signed_in, now=unit.now
        )
        return _done(f"/gestion/comptes/{parsed}", Done.ROLE_CHANGED)

    return _act(
        request, form, name="role", action=act,
        again=lambda unit, forms: account_page(unit, parsed, forms=forms, status=422),
    )  # fmt: skip


def _account_activation(request: Request, account_id: str, form: Form, active: bool) -> Response:
    parsed = parse_id(account_id, "Compte")

    def act(unit: Page) -> str:
        actions.set_account_active(
            unit.session, account_id=parsed, active=active, user=unit.signed_in, now=unit.now
        )
        return _done(f"/gestion/comptes/{parsed}", Done.REACTIVATED if active else Done.DEACTIVATED)

    return _act(
        request, form, name="activation", action=act,
        again=lambda unit, forms: account_page(unit, parsed, forms=forms, status=422),
    )  # fmt: skip


@router.post_form("/gestion/comptes/{account_id}/desactivation", policy=ADMIN)
def deactivate_account_form(request: Request, account_id: str, form: FormDep) -> Response:
    """Deactivate the account (its sessions end at once)."""
    return _account_activation(request, account_id, form, False)


@router.post_form("/gestion/comptes/{account_id}/reactivation", policy=ADMIN)
def reactivate_account_form(request: Request, account_id: str, form: FormDep) -> Response:
    """Reactivate the account."""
    return _account_activation(request, account_id, form, True)


# --- Administrations -----------------------------------------------------------------------


@router.get_page("/gestion/administrations", policy=ADMIN)
def administrations(request: Request) -> Response:
    """The administrations of the catalogue: name, contact, calendar, agents, state."""
    with page_unit(request) as unit:
        return _show(
            unit,
            "management/administrations.html",
            "/gestion/administrations",
            {"administrations": directory.administrations(unit.session)},
        )


def administration_page(
    unit: Page, code: str, *, done: Done | None = None, forms: Forms | None = None,
    status: int = 200,
) -> Response:  # fmt: skip
    """One administration: its form, its activation, its changes."""
    found = get_administration(unit.session, code)
    return _show(
        unit,
        "management/administration.html",
        "/gestion/administrations",
        {
            "administration": found,
            "open_consultations": actions.open_consultations(unit.session, found.code),
            "changes": change_rows(
                journal.changes_of(unit.session, [ChangeKind.ADMINISTRATION], found.code),
                unit.settings.prefecture_timezone,
            ),
        },
        done=done,
        forms=forms,
        status=status,
    )


@router.get_page("/gestion/administrations/{code}", policy=ADMIN)
def administration(request: Request, code: str, fait: Done | None = None) -> Response:
    """One administration."""
    parsed = _code(code)
    with page_unit(request) as unit:
        return administration_page(unit, parsed, done=fait)


@router.post_form("/gestion/administrations/{code}", policy=ADMIN)
def administration_form(request: Request, code: str, form: FormDep) -> Response:
    """Rename the administration or change its contact e-mail."""
    parsed = _code(code)

    def act(unit: Page) -> str:
        get_administration(unit.session, parsed)
        data = validated(
            "administration",
            AdministrationIn,
            {"name": form.get("name") or "", "contact_email": _optional(form.get("contact_email"))},
        )
        actions.update_administration(
            unit.session, code=parsed, data=data, user=unit.signed_in, now=unit.now
        )
        return _done(f"/gestion/administrations/{parsed}", Done.ADMINISTRATION_UPDATED)

    return _act(
        request, form, name="administration", action=act,
        again=lambda unit, forms: administration_page(unit, parsed, forms=forms, status=422),
    )  # fmt: skip


def _administration_activation(request: Request, code: str, form: Form, active: bool) -> Response:
    parsed = _code(code)

    def act(unit: Page) -> str:
        actions.set_administration_active(
            unit.session, code=parsed, active=active, user=unit.signed_in, now=unit.now
        )
        done = Done.REACTIVATED if active else Done.DEACTIVATED
        return _done(f"/gestion/administrations/{parsed}", done)

    return _act(
        request, form, name="activation", action=act,
        again=lambda unit, forms: administration_page(unit, parsed, forms=forms, status=422),
    )  # fmt: skip


@router.post_form("/gestion/administrations/{code}/desactivation", policy=ADMIN)
def deactivate_administration_form(request: Request, code: str, form: FormDep) -> Response:
    """Deactivate the administration (refused while it has open consultations)."""
    return _administration_activation(request, code, form, False)


@router.post_form("/gestion/administrations/{code}/reactivation", policy=ADMIN)
def reactivate_administration_form(request: Request, code: str, form: FormDep) -> Response:
    """Reactivate the administration."""
    return _administration_activation(request, code, form, True)


# --- Routing rules -------------------------------------------------------------------------


def _rule_view(rule: Any) -> dict[str, object]:
    return {
        "code": rule.code,
        "rank": rule.rank,
        "label": rule.label,
        "condition": json.dumps(rule.condition, ensure_ascii=False, indent=1),
        "targets": "\n".join(
            f"{t_['administration']} {t_['consultation_type']}" for t_ in rule.targets
        ),
        "target_list": [
            f"{t_['administration']} ({t_['consultation_type']})" for t_ in rule.targets
        ],
    }


def _types(unit: Page) -> list[str]:
    return list(unit.session.scalars(select(ConsultationType.code).order_by(ConsultationType.code)))


def routing_page(
    unit: Page, *, done: Done | None = None, forms: Forms | None = None, status: int = 200
) -> Response:
    """The routing rules, and the form that adds one."""
    return _show(
        unit,
        "management/routing.html",
        "/gestion/aiguillage",
        {
            "rules": [_rule_view(r) for r in queries.routing_rules(unit.session)],
            "types": list(
                unit.session.scalars(select(ConsultationType.code).order_by(ConsultationType.code))
            ),
        },
        done=done,
        forms=forms,
        status=status,
    )


def _rule_data(form_name: str, form: Form, code: str | None = None) -> RoutingRuleIn:
    """The rule's fields: the condition as JSON, one target a line (``CODE type``)."""
    errors: dict[str, str] = {}
    condition: Any = None
    try:
        condition = json.loads(form.get("condition") or "")
    except ValueError:
        errors["condition"] = t("pages.gestion.rule.condition_not_json")
    if condition is not None and not isinstance(condition, dict):
        errors["condition"] = t("pages.gestion.rule.condition_not_json")
    targets = []
    for number, line in enumerate((form.get("targets") or "").splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2:
            errors["targets"] = t("pages.gestion.rule.target_line", number=number)
            break
        targets.append({"administration": parts[0].upper(), "consultation_type": parts[1]})
    rank_text = (form.get("rank") or "").strip()
    data = {
        "code": code if code is not None else (form.get("code") or "").strip(),
        "rank": int(rank_text) if rank_text.isdecimal() and len(rank_text) < 7 else -1,
        "label": form.get("label") or "",
        "condition": condition if isinstance(condition, dict) else {},
        "targets": targets,
    }
    try:
        checked = validated(form_name, RoutingRuleIn, data)
    except FormRefused as refused:
        refused.forms.errors = {**refused.forms.errors, **errors}
        raise
    if errors:
        raise FormRefused(Forms(form_name, errors, data))
    return checked


@router.get_page("/gestion/aiguillage", policy=ADMIN)
def routing(request: Request, fait: Done | None = None) -> Response:
    """The routing rules: when a dossier's facts match, which administrations to consult."""
    with page_unit(request) as unit:
        return routing_page(unit, done=fait)


@router.post_form("/gestion/aiguillage", policy=ADMIN)
def add_rule_form(request: Request, form: FormDep) -> Response:
    """Add a routing rule."""

    def act(unit: Page) -> str:
        data = _rule_data("rule", form)
        actions.add_routing_rule(unit.session, data=data, user=unit.signed_in, now=unit.now)
        return _done("/gestion/aiguillage", Done.RULE_ADDED)

    return _act(
        request, form, name="rule", action=act,
        again=lambda unit, forms: routing_page(unit, forms=forms, status=422),
    )  # fmt: skip


def rule_page(
    unit: Page, code: str, *, done: Done | None = None, forms: Forms | None = None,
    status: int = 200,
) -> Response:  # fmt: skip
    """One routing rule: its form, its removal, its changes."""
    rule = queries.routing_rule(unit.session, code)
    return _show(
        unit,
        "management/rule.html",
        "/gestion/aiguillage",
        {
            "rule": _rule_view(rule),
            "types": _types(unit),
            "changes": change_rows(
                journal.changes_of(unit.session, [ChangeKind.ROUTING_RULE], rule.code),
                unit.settings.prefecture_timezone,
            ),
        },
        done=done,
        forms=forms,
        status=status,
    )


@router.get_page("/gestion/aiguillage/{code}", policy=ADMIN)
def rule(request: Request, code: str, fait: Done | None = None) -> Response:
    """One routing rule."""
    parsed = _rule_code(code)
    with page_unit(request) as unit:
        return rule_page(unit, parsed, done=fait)


@router.post_form("/gestion/aiguillage/{code}", policy=ADMIN)
def rule_form(request: Request, code: str, form: FormDep) -> Response:
    """Change a routing rule."""
    parsed = _rule_code(code)

    def act(unit: Page) -> str:
        queries.routing_rule(unit.session, parsed)
        data = _rule_data("rule", form, code=parsed)
        actions.update_routing_rule(
            unit.session, code=parsed, data=data, user=unit.signed_in, now=unit.now
        )
        return _done(f"/gestion/aiguillage/{parsed}", Done.RULE_UPDATED)

    return _act(
        request, form, name="rule", action=act,
        again=lambda unit, forms: rule_page(unit, parsed, forms=forms, status=422),
    )  # fmt: skip


@router.post_form("/gestion/aiguillage/{code}/suppression", policy=ADMIN)
def delete_rule_form(request: Request, code: str, form: FormDep) -> Response:
    """Remove a routing rule."""
    parsed = _rule_code(code)

    def act(unit: Page) -> str:
        actions.delete_routing_rule(unit.session, code=parsed, user=unit.signed_in, now=unit.now)
        return _done("/gestion/aiguillage", Done.RULE_DELETED)

    return _act(
        request, form, name="delete", action=act,
        again=lambda unit, forms: rule_page(unit, parsed, forms=forms, status=422),
    )  # fmt: skip


# --- Internal targets ----------------------------------------------------------------------


def targets_page(
    unit: Page, *, done: Done | None = None, forms: Forms | None = None, status: int = 200
) -> Response:
    """The legal deadlines (read only: the law sets them) and the internal targets."""
    rows = queries.targets(unit.session)
    return _show(
        unit,
        "management/targets.html",
        "/gestion/objectifs",
        {
            "targets": rows,
            "type_options": [{"value": r.code, "label": r.label} for r in rows],
            "administrations": _administration_choices(unit),
            "units": [{"value": u.value, "label": UNIT_LABELS[u]} for u in Unit],
        },
        done=done,
        forms=forms,
        status=status,
    )


@router.get_page("/gestion/objectifs", policy=ADMIN)
def targets(request: Request, fait: Done | None = None) -> Response:
    """The internal targets of the platform, beside the legal deadlines."""
    with page_unit(request) as unit:
        return targets_page(unit, done=fait)


@router.post_form("/gestion/objectifs", policy=ADMIN)
def target_form(request: Request, form: FormDep) -> Response:
    """Set an internal target (every administration, or one)."""

    def act(unit: Page) -> str:
        amount = (form.get("amount") or "").strip()
        data = validated(
            "target",
            InternalTargetIn,
            {
                "consultation_type": form.get("consultation_type") or "",
                "administration": _optional(form.get("administration")),
                "amount": int(amount) if amount.isdecimal() and len(amount) < 7 else 0,
                "unit": form.get("unit") or "",
            },
        )
        actions.set_internal_target(unit.session, data=data, user=unit.signed_in, now=unit.now)
        return _done("/gestion/objectifs", Done.TARGET_SET)

    return _act(
        request, form, name="target", action=act,
        again=lambda unit, forms: targets_page(unit, forms=forms, status=422),
    )  # fmt: skip


# --- Closures ------------------------------------------------------------------------------


def closures_page(
    unit: Page, *, done: Done | None = None, forms: Forms | None = None, status: int = 200
) -> Response:
    """The closures to come, each calendar's, and the form that adds one."""
    return _show(
        unit,
        "management/closures.html",
        "/gestion/fermetures",
        {
            "closures": [
                {
                    "calendar": c.calendar,
                    "calendar_name": c.calendar_name,
                    "date": c.day.isoformat(),
                    "day": display.day(c.day),
                    "name": c.name,
                }
                for c in queries.closures(unit.session, now=unit.now)
            ],
            "calendars": [
                {"value": c.code, "label": f"{c.name} ({c.code})"}
                for c in list_calendars(unit.session)
            ],
        },
        done=done,
        forms=forms,
        status=status,
    )


@router.get_page("/gestion/fermetures", policy=ADMIN)
def closures(request: Request, fait: Done | None = None) -> Response:
    """The days a calendar's offices close, beyond its holidays."""
    with page_unit(request) as unit:
        return closures_page(unit, done=fait)


@router.post_form("/gestion/fermetures", policy=ADMIN)
def add_closure_form(request: Request, form: FormDep) -> Response:
    """Add a closure: the calendar's running deadlines are computed again."""

    def act(unit: Page) -> str:
        data = validated(
            "closure",
            ClosureIn,
            {
                "calendar": form.get("calendar") or "",
                "date": form.get("date") or "",
                "name": form.get("name") or "",
            },
        )
        actions.add_closure(unit.session, data=data, user=unit.signed_in, now=unit.now)
        return _done("/gestion/fermetures", Done.CLOSURE_ADDED)

    return _act(
        request, form, name="closure", action=act,
        again=lambda unit, forms: closures_page(unit, forms=forms, status=422),
    )  # fmt: skip


@router.post_form("/gestion/fermetures/suppression", policy=ADMIN)
def remove_closure_form(request: Request, form: FormDep) -> Response:
    """Remove a closure: the calendar's running deadlines are computed again."""

    def act(unit: Page) -> str:
        data = validated(
            "remove",
            ClosureIn,
            {
                "calendar": form.get("calendar") or "",
                "date": form.get("date") or "",
                "name": "—-",
            },
        )
        actions.remove_closure(
            unit.session, calendar=data.calendar, day=data.date, user=unit.signed_in, now=unit.now
        )
        return _done("/gestion/fermetures", Done.CLOSURE_REMOVED)

    return _act(
        request, form, name="remove", action=act,
        again=lambda unit, forms: closures_page(unit, forms=forms, status=422),
    )  # fmt: skip


# --- The journal ---------------------------------------------------------------------------


@router.get_page("/gestion/journal", policy=ADMIN)
def journal_page(request: Request, page: PageNumber = 1, type: KindFilter = None) -> Response:
    """Every configuration change, newest first, a page at a time, by kind (``?type=``; empty:
    every kind)."""
    kind = ChangeKind(type) if type else None
    with page_unit(request) as unit:
        size = unit.settings.page_size
        count, page, rows = journal.changes(unit.session, kind=kind, page=page, page_size=size)
        pages = pages_for(count, size)
        return _show(
            unit,
            "management/journal.html",
            "/gestion/journal",
            {
                "rows": change_rows(rows, unit.settings.prefecture_timezone),
                "count": count,
                "page": page,
                "pages": pages,
                "kinds": [
                    {"value": k.value, "label": KIND_LABELS[k], "selected": k is kind}
                    for k in ChangeKind
                ],
                "kind": kind.value if kind else "",
                "extra": f"&type={kind.value}" if kind else "",
            },
        )
