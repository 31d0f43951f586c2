"""The administrators' changes to the platform's configuration, one action each.

Every action checks that its caller is an administrator, validates strictly (French messages),
locks what it changes, refuses a change that changes nothing, and writes its configuration
journal row (``journal.actions.record_change``: who, when, the object before and after) in the
caller's transaction: the change and its row commit together or not at all. None commits.

These are the only writers of the configuration for every entry point: the pages, the JSON API
and the command line (``by=Actor.command(...)``: the CLI has no account, its operator holds the
database's credentials) all call them, so a change is journaled however it is made
(tests/accelerator/test_journal_fields.py checks that no entry point writes around them).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accelerator.catalogue.actions import (
    remove_calendar_override,
    set_calendar_override,
    set_calendar_week,
)
from accelerator.catalogue.models import (
    Administration,
    Arrondissement,
    ConsultationType,
    RoutingRule,
)
from accelerator.configuration.rules import ConditionRefused, check_condition, dossier_facts
from accelerator.configuration.schemas import (
    AccountIn,
    AdministrationIn,
    ClosureIn,
    ClosureOut,
    InternalTargetIn,
    RoleIn,
    RoutingRuleIn,
)
from accelerator.consultations.actions import reproject_clocks
from accelerator.consultations.models import Consultation
from accelerator.consultations.status import FINISHED
from accelerator.dossiers.models import Dossier
from accelerator.dossiers.status import DossierStatus
from accelerator.history.actor import Actor
from accelerator.identity.actions import EMAIL, create_user, get_or_create_organisation
from accelerator.identity.models import Organisation, User
from accelerator.identity.roles import ROLE_LABELS, Role, require_role
from accelerator.journal.actions import record_change
from accelerator.journal.kinds import ChangeKind
from accelerator.routing.rules import GRANT_AUTHORITY
from accelerator.shared.errors import InvalidInput, NotFound
from accelerator.shared.text import t
from accelerator.sla.actions import calendar_version, latest_definitions
from accelerator.sla.clocks import PauseEffect
from accelerator.sla.definitions import TARGET_RUNGS, target_definition
from accelerator.sla.durations import make_duration
from accelerator.sla.explain import day_label
from accelerator.sla.models import Calendar, Clock, DeadlineDefinition

#: How far ahead a closure may be set.
CLOSURE_HORIZON = dt.timedelta(days=5 * 366)
#: Dossier statuses in which a référent still follows a dossier.
FOLLOWED = (
    DossierStatus.TAKEN_IN_CHARGE,
    DossierStatus.CONSULTING,
    DossierStatus.AWAITING_HOLDER,
    DossierStatus.CONSOLIDATED,
)


def _unchanged() -> InvalidInput:
    return InvalidInput(t("configuration.unchanged"))


def _author(by: User | Actor) -> Actor:
    """Who the journal names: an administrator (checked), or the command line's actor (which
    carries no account: a user's change comes as the ``User``, so that its role is checked)."""
    if isinstance(by, Actor):
        if by.user_id is not None:
            raise ValueError("a user's change is made with the User, so that its role is checked")
        return by
    require_role(by, Role.ADMIN)
    return Actor.of(by)


# --- Accounts and roles ---------------------------------------------------------------------


def account_snapshot(session: Session, user: User) -> dict[str, Any]:
    """An account as the journal keeps it: never its password's hash."""
    organisation = session.get(Organisation, user.organisation_id) if user.organisation_id else None
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "administration": user.administration_code,
        "organisation": organisation.name if organisation else None,
        "arrondissements": list(user.arrondissements or []),
        "active": user.active,
    }


def _lock_account(session: Session, user_id: uuid.UUID) -> User:
    found = session.scalar(select(User).where(User.id == user_id).with_for_update())
    if found is None:
        raise NotFound(t("configuration.account_unknown"))
    return found


def _lock_active_admins(session: Session) -> list[User]:
    """Every active administrator, locked: two administrators removing each other at once
    cannot both pass the last-administrator check."""
    return list(
        session.scalars(
            select(User)
            .where(User.role == Role.ADMIN.value, User.active.is_(True))
            .order_by(User.id)
            .with_for_update()
        )
    )


def _check_not_last_admin(session: Session, account: User, *, by: User) -> None:
    if Role(account.role) is Role.ADMIN and account.active:
        others = [a for a in _lock_active_admins(session) if a.id != account.id]
        if not others:
            raise InvalidInput(t("configuration.account_last_admin"))
    if account.id == by.id:
        raise InvalidInput(t("configuration.account_self"))


def _check_follows_nothing(session: Session, account: User) -> None:
    """A référent still following dossiers hands them over first (they would be orphaned)."""
    if Role(account.role) is not Role.REFERENT:
        return
    followed = int(
        session.scalar(
            select(func.count())
            .select_from(Dossier)
            .where(
                Dossier.referent_id == account.id, Dossier.status.in_([s.value for s in FOLLOWED])
            )
        )
        or 0
    )
    if followed:
        raise InvalidInput(t("configuration.account_follows_dossiers", count=followed))


def create_account(session: Session, *, data: AccountIn, user: User, now: dt.datetime) -> User:
    """Open an account with its role and what the role is attached to (journal: ``user``)."""
    return open_account(
        session,
        email=data.email,
        role=data.role,
        password=data.password,
        name=data.name,
        administration=data.administration,
        organisation=data.organisation,
        arrondissements=data.arrondissements,
        by=user,
        now=now,
    )


def open_account(
    session: Session,
    *,
    email: str,
    role: Role,
    password: str,
    name: str | None = None,
    administration: str | None = None,
    organisation: str | None = None,
    arrondissements: Sequence[str] = (),
    by: User | Actor,
    now: dt.datetime,
) -> User:
    """:func:`create_account` without its form's rules (the command line's ``users create``,
    which also opens the first administrator): ``identity.actions.create_user``'s checks, and
    the same journal row (``user``, ``created``)."""
    actor = _author(by)
    account = create_user(
        session,
        email=email,
        role=role,
        password=password,
        now=now,
        name=name,
        administration=administration,
        organisation=organisation,
        arrondissements=list(arrondissements),
    )
    record_change(
        session,
        actor=actor,
        at=now,
        kind=ChangeKind.USER,
        key=account.email,
        event="created",
        message=t("configuration.account_created", email=account.email, role=ROLE_LABELS[role]),
        before=None,
        after=account_snapshot(session, account),
    )
    return account


def _check_attachments(session: Session, data: RoleIn) -> None:
    """What the role requires, as ``identity.actions.create_user`` checks it."""
    if data.role is Role.AGENT:
        if data.administration is None:
            raise InvalidInput(t("identity.agent_needs_administration"))
        administration = session.get(Administration, data.administration)
        if administration is None:
            raise InvalidInput(t("catalogue.administration_unknown", code=data.administration))
        if not administration.active:
            raise InvalidInput(t("configuration.administration_inactive", code=data.administration))
    elif data.administration is not None:
        raise InvalidInput(t("identity.only_agent_administration"))
    if data.role is Role.HOLDER and not data.organisation:
        raise InvalidInput(t("identity.holder_needs_organisation"))
    if data.role is not Role.HOLDER and data.organisation:
        raise InvalidInput(t("identity.only_holder_organisation"))
    if data.arrondissements and data.role is not Role.REFERENT:
        raise InvalidInput(t("identity.only_referent_arrondissements"))
    for code in data.arrondissements:
        if session.get(Arrondissement, code) is None:
            raise InvalidInput(t("catalogue.arrondissement_unknown", code=code))


def change_role(
    session: Session, *, account_id: uuid.UUID, data: RoleIn, user: User, now: dt.datetime
) -> User:
    """Give an account another role (or other attachments). An administrator does not
    demote himself, the last active administrator stays one, and a référent following
    dossiers hands them over first. Journal: ``role``."""
    require_role(user, Role.ADMIN)
    account = _lock_account(session, account_id)
    if Role(account.role) is Role.ADMIN and data.role is not Role.ADMIN:
        _check_not_last_admin(session, account, by=user)
    if Role(account.role) is Role.REFERENT and data.role is not Role.REFERENT:
        _check_follows_nothing(session, account)
    _check_attachments(session, data)
    before = account_snapshot(session, account)
    account.role = data.role.value
    account.administration_code = data.administration
    account.organisation_id = (
        get_or_create_organisation(session, name=data.organisation, now=now).id
        if data.organisation
        else None
    )
    account.arrondissements = list(data.arrondissements)
    after = account_snapshot(session, account)
    if after == before:
        raise _unchanged()
    session.flush()
    record_change(
        session,
        actor=Actor.of(user),
        at=now,
        kind=ChangeKind.ROLE,
        key=account.email,
        event="role_changed",
        message=t(
            "configuration.role_changed",
            email=account.email,
            before=ROLE_LABELS[Role(before["role"])],
            after=ROLE_LABELS[data.role],
        ),
        before=before,
        after=after,
    )
    return account


def set_account_active(
    session: Session, *, account_id: uuid.UUID, active: bool, user: User, now: dt.datetime
) -> User:
    """Deactivate an account (its sessions and tokens stop working at once: every request
    loads active users only) or reactivate it. Not oneself, not the last active
    administrator, not a référent still following dossiers. Journal: ``user``."""
    require_role(user, Role.ADMIN)
    account = _lock_account(session, account_id)
    if account.active == active:
        raise InvalidInput(
            t("configuration.account_already_active")
            if active
            else t("configuration.account_already_inactive")
        )
    if not active:
        _check_not_last_admin(session, account, by=user)
        _check_follows_nothing(session, account)
    before = account_snapshot(session, account)
    account.active = active
    session.flush()
    record_change(
        session,
        actor=Actor.of(user),
        at=now,
        kind=ChangeKind.USER,
        key=account.email,
        event="reactivated" if active else "deactivated",
        message=t(
            "configuration.account_reactivated" if active else "configuration.account_deactivated",
            email=account.email,
        ),
        before=before,
        after=account_snapshot(session, account),
    )
    return account


# --- Administrations --------------------------------------------------------------------------


def administration_snapshot(administration: Administration) -> dict[str, Any]:
    """An administration as the journal keeps it."""
    return {
        "code": administration.code,
        "name": administration.name,
        "contact_email": administration.contact_email,
        "calendar": administration.calendar_code,
        "active": administration.active,
    }


def _lock_administration(session: Session, code: str) -> Administration:
    found = session.scalar(
        select(Administration).where(Administration.code == code).with_for_update()
    )
    if found is None:
        raise NotFound(t("catalogue.administration_unknown", code=code))
    return found


def update_administration(
    session: Session, *, code: str, data: AdministrationIn, user: User, now: dt.datetime
) -> Administration:
    """Rename an administration or change its contact e-mail. Journal: ``administration``."""
    require_role(user, Role.ADMIN)
    administration = _lock_administration(session, code)
    email = data.contact_email.lower() if data.contact_email else None
    if email is not None and not EMAIL.match(email):
        raise InvalidInput(t("identity.email_invalid", email=email))
    before = administration_snapshot(administration)
    administration.name, administration.contact_email = data.name, email
    after = administration_snapshot(administration)
    if after == before:
        raise _unchanged()
    session.flush()
    record_change(
        session,
        actor=Actor.of(user),
        at=now,
        kind=ChangeKind.ADMINISTRATION,
        key=administration.code,
        event="updated",
        message=t("configuration.administration_updated", code=administration.code),
        before=before,
        after=after,
    )
    return administration


def open_consultations(session: Session, code: str) -> int:
    """How many consultations of the administration are not finished."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Consultation)
            .where(
                Consultation.administration_code == code,
                Consultation.status.not_in([s.value for s in FINISHED]),
            )
        )
        or 0
    )


def set_administration_active(
    session: Session, *, code: str, active: bool, user: User, now: dt.datetime
) -> Administration:
    """Deactivate an administration (it is consulted no more) or reactivate it. One with
    open consultations is not deactivated: they finish first. Journal: ``administration``."""
    require_role(user, Role.ADMIN)
    administration = _lock_administration(session, code)
    if administration.active == active:
        raise InvalidInput(
            t("configuration.administration_already_active", code=code)
            if active
            else t("configuration.administration_already_inactive", code=code)
        )
    if not active:
        still_open = open_consultations(session, code)
        if still_open:
            raise InvalidInput(
                t("configuration.administration_has_open", code=code, count=still_open)
            )
    before = administration_snapshot(administration)
    administration.active = active
    session.flush()
    record_change(
        session,
        actor=Actor.of(user),
        at=now,
        kind=ChangeKind.ADMINISTRATION,
        key=code,
        event="reactivated" if active else "deactivated",
        message=t(
            "configuration.administration_reactivated"
            if active
            else "configuration.administration_deactivated",
            code=code,
        ),
        before=before,
        after=administration_snapshot(administration),
    )
    return administration


# --- Routing rules ----------------------------------------------------------------------------


def rule_snapshot(rule: RoutingRule) -> dict[str, Any]:
    """A routing rule as the journal keeps it."""
    return {
        "code": rule.code,
        "rank": rule.rank,
        "label": rule.label,
        "condition": rule.condition,
        "targets": list(rule.targets),
    }


def _checked_rule(session: Session, data: RoutingRuleIn) -> dict[str, Any]:
    """The rule's fields once its condition and targets are checked against the catalogue."""
    try:
        condition = check_condition(data.condition, dossier_facts())
    except ConditionRefused as refused:
        raise InvalidInput(str(refused)) from None
    administrations = {
        a.code: a for a in session.scalars(select(Administration).order_by(Administration.code))
    }
    types = set(session.scalars(select(ConsultationType.code)))
    targets: list[dict[str, str]] = []
    for target in data.targets:
        if target.administration != GRANT_AUTHORITY:
            known = administrations.get(target.administration)
            if known is None:
                raise InvalidInput(
                    t("catalogue.administration_unknown", code=target.administration)
                )
            if not known.active:
                raise InvalidInput(
                    t("configuration.administration_inactive", code=target.administration)
                )
        if target.consultation_type not in types:
            raise InvalidInput(
                t("catalogue.consultation_type_unknown", code=target.consultation_type)
            )
        if any(t_["administration"] == target.administration for t_ in targets):
            raise InvalidInput(t("configuration.rule_target_twice", code=target.administration))
        targets.append(
            {"administration": target.administration, "consultation_type": target.consultation_type}
        )
    return {"rank": data.rank, "label": data.label, "condition": condition, "targets": targets}


def add_routing_rule(
    session: Session, *, data: RoutingRuleIn, user: User, now: dt.datetime
) -> RoutingRule:
    """Add a routing rule: it applies to dossiers routed from now on (routed ones keep their
    proposal). Journal: ``routing_rule``."""
    require_role(user, Role.ADMIN)
    fields = _checked_rule(session, data)
    if session.get(RoutingRule, data.code) is not None:
        raise InvalidInput(t("configuration.rule_exists", code=data.code))
    rule = RoutingRule(code=data.code, **fields)
    session.add(rule)
    session.flush()
    record_change(
        session,
        actor=Actor.of(user),
        at=now,
        kind=ChangeKind.ROUTING_RULE,
        key=rule.code,
        event="created",
        message=t("configuration.rule_created", code=rule.code),
        before=None,
        after=rule_snapshot(rule),
    )
    return rule


def _lock_rule(session: Session, code: str) -> RoutingRule:
    found = session.scalar(select(RoutingRule).where(RoutingRule.code == code).with_for_update())
    if found is None:
        raise NotFound(t("configuration.rule_unknown", code=code))
    return found


def update_routing_rule(
    session: Session, *, code: str, data: RoutingRuleIn, user: User, now: dt.datetime
) -> RoutingRule:
    """Change a routing rule (its code stays). Journal: ``routing_rule``."""
    require_role(user, Role.ADMIN)
    rule = _lock_rule(session, code)
    if data.code != rule.code:
        raise InvalidInput(t("configuration.rule_code_fixed"))
    fields = _checked_rule(session, data)
    before = rule_snapshot(rule)
    rule.rank, rule.label = fields["rank"], fields["label"]
    rule.condition, rule.targets = fields["condition"], fields["targets"]
    after = rule_snapshot(rule)
    if after == before:
        raise _unchanged()
    session.flush()
    record_change(
        session,
        actor=Actor.of(user),
        at=now,
        kind=ChangeKind.ROUTING_RULE,
        key=rule.code,
        event="updated",
        message=t("configuration.rule_updated", code=rule.code),
        before=before,
        after=after,
    )
    return rule


def delete_routing_rule(session: Session, *, code: str, user: User, now: dt.datetime) -> None:
    """Remove a routing rule; proposals already made keep naming it. Journal:
    ``routing_rule``."""
    require_role(user, Role.ADMIN)
    rule = _lock_rule(session, code)
    before = rule_snapshot(rule)
    session.delete(rule)
    session.flush()
    record_change(
        session,
        actor=Actor.of(user),
        at=now,
        kind=ChangeKind.ROUTING_RULE,
        key=code,
        event="deleted",
        message=t("configuration.rule_deleted", code=code),
        before=before,
        after=None,
    )


# --- Internal targets -------------------------------------------------------------------------


def target_snapshot(definition: DeadlineDefinition | None) -> dict[str, Any] | None:
    """An internal target's definition version as the journal keeps it."""
    if definition is None:
        return None
    return {
        "code": definition.code,
        "version": definition.version,
        "budget": make_duration(definition.budget_amount, definition.budget_unit).label(),
        "budget_amount": definition.budget_amount,
        "budget_unit": definition.budget_unit,
    }


def set_internal_target(
    session: Session, *, data: InternalTargetIn, user: User, now: dt.datetime
) -> DeadlineDefinition:
    """Set the platform's internal target for a consultation type, for every administration
    or for one: a new version of its definition, pinned by the consultations sent from now on
    (running ones keep theirs). Legal deadlines come from the law and are not set here.
    Journal: ``deadline_target``."""
    require_role(user, Role.ADMIN)
    kind = session.get(ConsultationType, data.consultation_type)
    if kind is None:
        raise InvalidInput(t("catalogue.consultation_type_unknown", code=data.consultation_type))
    if data.administration is not None and session.get(Administration, data.administration) is None:
        raise InvalidInput(t("catalogue.administration_unknown", code=data.administration))
    budget = make_duration(data.amount, data.unit.value)
    code = target_definition(kind.code, data.administration)
    # Serialise the versions of one code: the latest is read under the type's lock.
    session.scalar(
        select(ConsultationType).where(ConsultationType.code == kind.code).with_for_update()
    )
    latest = latest_definitions(session, [code]).get(code)
    if latest is not None and (latest.budget_amount, latest.budget_unit) == (
        budget.amount,
        budget.unit.value,
    ):
        raise _unchanged()
    definition = DeadlineDefinition(
        code=code,
        version=(latest.version + 1) if latest else 1,
        label=t("catalogue.definition.target_label", label=kind.label)
        + (f" ({data.administration})" if data.administration else ""),
        budget_amount=budget.amount,
        budget_unit=budget.unit.value,
        prorogation=False,
        pause_effect=PauseEffect.SUSPENSION.value,
        request_window=None,
        rungs=TARGET_RUNGS,
        legal=False,
        source=t("configuration.target_source", email=user.email),
        on_breach=None,
        created_at=now,
    )
    session.add(definition)
    session.flush()
    record_change(
        session,
        actor=Actor.of(user),
        at=now,
        kind=ChangeKind.DEADLINE_TARGET,
        key=code,
        event="updated" if latest else "created",
        message=t(
            "configuration.target_set",
            type_label=kind.label,
            scope=data.administration or t("configuration.target_every_administration"),
            budget=budget.label(),
        ),
        before=target_snapshot(latest),
        after=target_snapshot(definition),
    )
    return definition


# --- Closures ---------------------------------------------------------------------------------


def _closure_calendar(
    session: Session, data_calendar: str, day: dt.date, now: dt.datetime
) -> Calendar:
    calendar = session.get(Calendar, data_calendar)
    if calendar is None:
        raise InvalidInput(t("calendar.unknown", code=data_calendar))
    today = now.astimezone(ZoneInfo(calendar.timezone)).date()
    if day < today:
        raise InvalidInput(t("configuration.closure_past"))
    if day > today + CLOSURE_HORIZON:
        raise InvalidInput(t("configuration.closure_too_far"))
    return calendar


def _closure_of(calendar: Calendar, day: dt.date) -> dict[str, Any] | None:
    """The day's exceptional hours as the journal keeps them (None: an ordinary day)."""
    for override in calendar.spec.get("overrides", []):
        if override["date"] == day.isoformat():
            return {
                "date": override["date"],
                "name": override["name"],
                "intervals": [list(i) for i in override["intervals"]],
            }
    return None


def _week_of(calendar: Calendar) -> dict[str, Any]:
    """A calendar's weekly hours as the journal keeps them."""
    spec = calendar.spec
    return {
        "weekly": {day: [list(i) for i in hours] for day, hours in spec.get("weekly", {}).items()},
        "whit_monday_worked": bool(spec.get("whit_monday_worked", False)),
    }


def _locked_calendar(session: Session, code: str) -> Calendar:
    found = session.scalar(select(Calendar).where(Calendar.code == code).with_for_update())
    if found is None:
        raise InvalidInput(t("calendar.unknown", code=code))
    return found


def set_day(
    session: Session,
    *,
    calendar: str,
    day: dt.date,
    name: str,
    intervals: Sequence[tuple[str, str]],
    by: User | Actor,
    now: dt.datetime,
) -> Calendar:
    """Close (no hours), exceptionally open or shorten one day of a calendar, as the API and
    the command line do: a new calendar version that new clocks pin; running clocks keep
    theirs until ``consultations.actions.reproject_clocks`` (``accelerator clocks reproject``,
    ``POST /api/v1/clocks/reproject``). Journal: ``closure`` when the day is closed or was
    (the row :func:`add_closure` writes, without the clocks it moves), else ``calendar``."""
    actor = _author(by)
    found = _locked_calendar(session, calendar)
    before = _closure_of(found, day)
    set_calendar_override(
        session, code=found.code, day=day, name=name, intervals=list(intervals), now=now
    )
    after = _closure_of(found, day)
    assert after is not None
    closed_before = before is not None and not before["intervals"]
    if not after["intervals"] or closed_before:
        kind, event = ChangeKind.CLOSURE, "updated" if closed_before else "created"
    else:
        kind, event = ChangeKind.CALENDAR, "day_set"
    record_change(
        session,
        actor=actor,
        at=now,
        kind=kind,
        key=f"{found.code}:{day.isoformat()}",
        event=event,
        message=t(
            "configuration.day_closed" if not after["intervals"] else "configuration.day_set",
            calendar=found.code,
            date=day_label(day),
            name=after["name"],
        ),
        before=before,
        after=after,
    )
    return found


def set_week(
    session: Session,
    *,
    calendar: str,
    weekly: dict[int, list[tuple[str, str]]],
    whit_monday_worked: bool,
    by: User | Actor,
    now: dt.datetime,
) -> Calendar:
    """Change a calendar's weekly working hours and its solidarity day: a new version that
    new clocks pin (running ones as for :func:`set_day`). Journal: ``calendar``."""
    actor = _author(by)
    found = _locked_calendar(session, calendar)
    before = _week_of(found)
    set_calendar_week(
        session, code=found.code, weekly=weekly, whit_monday_worked=whit_monday_worked, now=now
    )
    record_change(
        session,
        actor=actor,
        at=now,
        kind=ChangeKind.CALENDAR,
        key=found.code,
        event="week_set",
        message=t("configuration.week_set", calendar=found.code),
        before=before,
        after=_week_of(found),
    )
    return found


def _reproject(
    session: Session, *, calendar: str, user: User, now: dt.datetime
) -> Sequence[tuple[Clock, dt.datetime | None, dt.datetime | None]]:
    """The calendar's open clocks re-pinned to its new version (each recorded in its dossier's
    history); a consultation's deadline is its clock's."""
    changed = reproject_clocks(session, actor_label=user.email, now=now, calendar_code=calendar)
    return changed


def add_closure(session: Session, *, data: ClosureIn, user: User, now: dt.datetime) -> ClosureOut:
    """Close a calendar's offices for a day: a new calendar version, and the open clocks of
    that calendar re-projected on it at once (their deadlines move). Journal: ``closure``."""
    require_role(user, Role.ADMIN)
    calendar = _closure_calendar(session, data.calendar, data.date, now)
    before = _closure_of(calendar, data.date)
    if before is not None and not before["intervals"]:
        raise InvalidInput(t("configuration.closure_exists", date=data.date.isoformat()))
    if data.date.isoweekday() == 7:
        raise InvalidInput(t("configuration.closure_sunday"))
    holiday = calendar_version(session, calendar.code).holiday_name(data.date)
    if holiday is not None:
        raise InvalidInput(t("configuration.closure_holiday", holiday=holiday))
    set_calendar_override(
        session, code=calendar.code, day=data.date, name=data.name, intervals=[], now=now
    )
    changed = _reproject(session, calendar=calendar.code, user=user, now=now)
    key = f"{calendar.code}:{data.date.isoformat()}"
    record_change(
        session,
        actor=Actor.of(user),
        at=now,
        kind=ChangeKind.CLOSURE,
        key=key,
        event="created",
        message=t(
            "configuration.closure_added",
            calendar=calendar.code,
            date=day_label(data.date),
            name=data.name,
            count=len(changed),
        ),
        before=before,
        after={**(_closure_of(calendar, data.date) or {}), "clocks_moved": len(changed)},
    )
    return ClosureOut(
        calendar=calendar.code,
        date=data.date.isoformat(),
        name=data.name,
        clocks_moved=len(changed),
    )


def remove_closure(
    session: Session, *, calendar: str, day: dt.date, user: User, now: dt.datetime
) -> ClosureOut:
    """Open again a day closed by :func:`add_closure` (a new calendar version; open clocks
    re-projected). Journal: ``closure``."""
    require_role(user, Role.ADMIN)
    found = _closure_calendar(session, calendar, day, now)
    before = _closure_of(found, day)
    if before is None or before["intervals"]:
        raise InvalidInput(t("configuration.closure_unknown", date=day.isoformat()))
    remove_calendar_override(session, code=found.code, day=day, now=now)
    changed = _reproject(session, calendar=found.code, user=user, now=now)
    record_change(
        session,
        actor=Actor.of(user),
        at=now,
        kind=ChangeKind.CLOSURE,
        key=f"{found.code}:{day.isoformat()}",
        event="deleted",
        message=t(
            "configuration.closure_removed",
            calendar=found.code,
            date=day_label(day),
            count=len(changed),
        ),
        before=before,
        after=None,
    )
    return ClosureOut(
        calendar=found.code, date=day.isoformat(), name=before["name"], clocks_moved=len(changed)
    )
