"""Calendars (read by all; exceptional days and re-projection by administrators)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from accelerator.access import require_role
from accelerator.catalogue.actions import set_calendar_override, set_calendar_week
from accelerator.catalogue.models import Calendar
from accelerator.catalogue.queries import list_calendars
from accelerator.db import utcnow
from accelerator.identity.roles import Role
from accelerator.sla.actions import reproject_open_clocks
from api.contract import errors_documented
from api.deps import CurrentUser, SessionDep
from api.idempotency import idempotent
from api.unit_of_work import Router

router = Router(prefix="/api/v1", tags=["calendriers"])


class CalendarOut(BaseModel):
    """A calendar and the version in force."""

    code: str
    name: str
    timezone: str
    version: int
    weekly: dict[str, list[list[str]]]
    whit_monday_worked: bool
    overrides: list[dict[str, object]]


def _out(calendar: Calendar) -> CalendarOut:
    spec = calendar.spec
    return CalendarOut(
        code=calendar.code,
        name=calendar.name,
        timezone=calendar.timezone,
        version=calendar.version,
        weekly=spec.get("weekly", {}),
        whit_monday_worked=bool(spec.get("whit_monday_worked", False)),
        overrides=list(spec.get("overrides", [])),
    )


class OverrideIn(BaseModel):
    """One exceptional day: no hours is a closure."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    date: dt.date
    name: str = Field(min_length=2, max_length=200)
    hours: list[tuple[str, str]] = Field(default_factory=list, max_length=6)


class WeekIn(BaseModel):
    """Weekly working hours by ISO weekday (1 = Monday) and the solidarity day."""

    model_config = ConfigDict(extra="forbid")

    weekly: dict[int, list[tuple[str, str]]]
    whit_monday_worked: bool = False


class ReprojectIn(BaseModel):
    """Which change to apply to open clocks."""

    model_config = ConfigDict(extra="forbid")

    calendar: str | None = None
    definition: str | None = None


class ReprojectedOut(BaseModel):
    """One clock re-projected."""

    clock_id: str
    before: str | None
    after: str | None


@router.get("/calendars")
def index(session: SessionDep, _user: CurrentUser) -> list[CalendarOut]:
    """Every calendar with its version in force and its exceptional days."""
    return [_out(c) for c in list_calendars(session)]


@router.post("/calendars/{code}/overrides", status_code=201)
@idempotent(201)
def override(code: str, data: OverrideIn, session: SessionDep, user: CurrentUser) -> CalendarOut:
    """Close, open or shorten a day (admin): a new version, pinned by new clocks only."""
    require_role(user, Role.ADMIN)
    calendar = set_calendar_override(
        session,
        code=code.upper(),
        day=data.date,
        name=data.name,
        intervals=[(start, end) for start, end in data.hours],
        now=utcnow(),
    )
    return _out(calendar)


@router.put("/calendars/{code}/week")
def week(code: str, data: WeekIn, session: SessionDep, user: CurrentUser) -> CalendarOut:
    """Change the weekly working hours (admin): a new version, pinned by new clocks only."""
    require_role(user, Role.ADMIN)
    calendar = set_calendar_week(
        session,
        code=code.upper(),
        weekly=data.weekly,
        whit_monday_worked=data.whit_monday_worked,
        now=utcnow(),
    )
    return _out(calendar)


@router.post("/clocks/reproject", responses=errors_documented(404))
@idempotent()
def reproject(data: ReprojectIn, session: SessionDep, user: CurrentUser) -> list[ReprojectedOut]:
    """Apply the versions now in force to open clocks (admin); each change is recorded."""
    require_role(user, Role.ADMIN)
    changed = reproject_open_clocks(
        session,
        actor_label=user.email,
        now=utcnow(),
        calendar_code=data.calendar.upper() if data.calendar else None,
        definition_code=data.definition,
    )
    return [
        ReprojectedOut(
            clock_id=str(clock.id),
            before=before.isoformat() if before else None,
            after=after.isoformat() if after else None,
        )
        for clock, before, after in changed
    ]
