"""What the administrators' pages read: an account, the routing rules, the internal targets
beside the legal deadlines, the closures to come (a fixed number of queries each)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.catalogue.models import ConsultationType, RoutingRule
from accelerator.identity.models import User
from accelerator.shared.errors import NotFound
from accelerator.shared.text import t
from accelerator.sla.durations import make_duration
from accelerator.sla.models import Calendar, DeadlineDefinition


def account(session: Session, account_id: uuid.UUID) -> User:
    """The account ``account_id``; ``NotFound`` otherwise."""
    found = session.get(User, account_id)
    if found is None:
        raise NotFound(t("configuration.account_unknown"))
    return found


def routing_rules(session: Session) -> list[RoutingRule]:
    """Every routing rule, by rank then code."""
    return list(session.scalars(select(RoutingRule).order_by(RoutingRule.rank, RoutingRule.code)))


def routing_rule(session: Session, code: str) -> RoutingRule:
    """The routing rule ``code``; ``NotFound`` otherwise."""
    found = session.get(RoutingRule, code) if len(code) <= 64 else None
    if found is None:
        raise NotFound(t("configuration.rule_unknown", code=code[:64]))
    return found


@dataclass(frozen=True)
class TargetRow:
    """A consultation type: its legal deadline (from the law) and the platform's targets."""

    code: str
    label: str
    legal: str
    source: str
    target: str
    #: Administrations with a target of their own: (code, budget).
    own: list[tuple[str, str]] = field(default_factory=list)


def targets(session: Session) -> list[TargetRow]:
    """Each consultation type with its legal deadline and the internal targets in force
    (two queries)."""
    latest: dict[str, DeadlineDefinition] = {}
    for definition in session.scalars(
        select(DeadlineDefinition).where(DeadlineDefinition.code.like("target:%"))
    ):
        known = latest.get(definition.code)
        if known is None or definition.version > known.version:
            latest[definition.code] = definition

    def budget(definition: DeadlineDefinition) -> str:
        return make_duration(definition.budget_amount, definition.budget_unit).label()

    rows = []
    for kind in session.scalars(select(ConsultationType).order_by(ConsultationType.label)):
        generic = latest.get(f"target:{kind.code}")
        prefix = f"target:{kind.code}:"
        own = sorted(
            (code.removeprefix(prefix), budget(d))
            for code, d in latest.items()
            if code.startswith(prefix)
        )
        rows.append(
            TargetRow(
                code=kind.code,
                label=kind.label,
                legal=make_duration(kind.duration_amount, kind.duration_unit).label(),
                source=kind.source,
                target=budget(generic) if generic else "",
                own=own,
            )
        )
    return rows


@dataclass(frozen=True)
class ClosureRow:
    """A closure to come in one calendar."""

    calendar: str
    calendar_name: str
    day: dt.date
    name: str


def closures(session: Session, *, now: dt.datetime) -> list[ClosureRow]:
    """Every closure from today on (in each calendar's zone), by date then calendar."""
    rows = []
    for calendar in session.scalars(select(Calendar).order_by(Calendar.code)):
        today = now.astimezone(ZoneInfo(calendar.timezone)).date()
        for override in calendar.spec.get("overrides", []):
            day = dt.date.fromisoformat(override["date"])
            if not override["intervals"] and day >= today:
                rows.append(ClosureRow(calendar.code, calendar.name, day, override["name"]))
    return sorted(rows, key=lambda row: (row.day, row.calendar))
