"""Calendars (read by all; exceptional days and re-projection by administrators)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from accelerator.catalogue.queries import list_calendars
from accelerator.configuration.actions import set_day, set_week
from accelerator.consultations.actions import reproject_clocks
from accelerator.identity.roles import Role, require_role
from accelerator.shared.db import utcnow
from accelerator.shared.validation import (
    STRICT_INPUT,
    Code,
    Interval,
    IsoDate,
    Lax,
    SingleLine,
)
from accelerator.sla.models import Calendar
from api.contract import errors_documented
from api.deps import CurrentUser, SessionDep
from api.idempotency import idempotent
from api.policies import SIGNED_IN, Scope, allow
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

    model_config = STRICT_INPUT

    date: IsoDate
    name: SingleLine = Field(min_length=2, max_length=200)
    hours: list[Interval] = Field(default_factory=list, max_length=6)


class WeekIn(BaseModel):
    """Weekly working hours by ISO weekday (1 = Monday) and the solidarity day."""

    model_config = STRICT_INPUT

    #: JSON keys are strings: ``"1"`` is read as Monday.
    weekly: dict[
        Annotated[int, Lax, Field(ge=1, le=7)], Annotated[list[Interval], Field(max_length=6)]
    ] = Field(max_length=7)
    whit_monday_worked: bool = False


class ReprojectIn(BaseModel):
    """Which change to apply to open clocks."""

    model_config = STRICT_INPUT

    calendar: Annotated[Code, Field(max_length=16)] | None = None
    definition: Annotated[SingleLine, Field(max_length=100)] | None = None


class ReprojectedOut(BaseModel):
    """One clock re-projected."""

    clock_id: str
    before: str | None
    after: str | None


@router.get("/calendars", policy=SIGNED_IN)
def index(session: SessionDep, _user: CurrentUser) -> list[CalendarOut]:
    """Every calendar with its version in force and its exceptional days."""
    return [_out(c) for c in list_calendars(session)]


@router.post("/calendars/{code}/overrides", status_code=201, policy=allow(admin=Scope.ANY))
@idempotent(201)
def override(code: str, data: OverrideIn, session: SessionDep, user: CurrentUser) -> CalendarOut:
    """Close, open or shorten a day (admin): a new version, pinned by new clocks only;
    written in the configuration journal as the admin pages write it."""
    calendar = set_day(
        session,
        calendar=code.upper(),
        day=data.date,
        name=data.name,
        intervals=[(start, end) for start, end in data.hours],
        by=user,
        now=utcnow(),
    )
    return _out(calendar)


@router.put("/calendars/{code}/week", policy=allow(admin=Scope.ANY))
def week(code: str, data: WeekIn, session: SessionDep, user: CurrentUser) -> CalendarOut:
    """Change the weekly working hours (admin): a new version, pinned by new clocks only;
    written in the configuration journal."""
    calendar = set_week(
        session,
        calendar=code.upper(),
        weekly={day: list(hours) for day, hours in data.weekly.items()},
        whit_monday_worked=data.whit_monday_worked,
        by=user,
        now=utcnow(),
    )
    return _out(calendar)


@router.post("/clocks/reproject", policy=allow(admin=Scope.ANY), responses=errors_documented(404))
@idempotent()
def reproject(data: ReprojectIn, session: SessionDep, user: CurrentUser) -> list[ReprojectedOut]:
    """Apply the versions now in force to open clocks (admin); each change is recorded."""
    require_role(user, Role.ADMIN)
    changed = reproject_clocks(
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
