"""Clocks in the database: start (pinning versions), pause, resume, stop, re-project.

Every change re-derives the deadline and the rung instants from the stored facts
(``sla.clocks.project``) and caches them on the rows; nothing edits a deadline directly.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Mapping, Sequence

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from accelerator.shared.db import new_id
from accelerator.shared.errors import InvalidInput, NotFound
from accelerator.shared.text import t
from accelerator.sla.calendars import WorkingCalendar
from accelerator.sla.clocks import (
    ClockFacts,
    PauseEffect,
    PauseFact,
    Projection,
    project,
    rung_instant,
)
from accelerator.sla.definitions import ClockKind, ClockState
from accelerator.sla.durations import Duration, add, make_duration, parse_duration
from accelerator.sla.models import (
    Calendar,
    CalendarVersion,
    Clock,
    ClockPause,
    ClockRung,
    DeadlineDefinition,
)


def latest_definition(session: Session, code: str) -> DeadlineDefinition:
    """The version in force of a deadline definition."""
    definition = session.scalar(
        select(DeadlineDefinition)
        .where(DeadlineDefinition.code == code)
        .order_by(DeadlineDefinition.version.desc())
        .limit(1)
    )
    if definition is None:
        raise NotFound(t("sla.definition_unknown", code=code))
    return definition


def latest_definitions(session: Session, codes: Collection[str]) -> dict[str, DeadlineDefinition]:
    """The version in force of each of ``codes`` that exists, in one query."""
    latest: dict[str, DeadlineDefinition] = {}
    for definition in session.scalars(
        select(DeadlineDefinition).where(DeadlineDefinition.code.in_(set(codes)))
    ):
        known = latest.get(definition.code)
        if known is None or definition.version > known.version:
            latest[definition.code] = definition
    return latest


def calendar_version(session: Session, code: str, version: int | None = None) -> WorkingCalendar:
    """A calendar as it was at ``version`` (default: the version in force)."""
    if version is None:
        current = session.get(Calendar, code)
        if current is None:
            raise NotFound(t("calendar.unknown", code=code))
        version = current.version
    # A version never changes once written: build it once per database and keep its caches.
    key = (session.get_bind().engine, code, version)
    cached = _CALENDARS.get(key)
    if cached is not None:
        return cached
    row = session.get(CalendarVersion, (code, version))
    if row is None:
        raise NotFound(t("calendar.version_unknown", code=code, version=version))
    calendar = WorkingCalendar.from_spec(code, row.timezone, row.spec)
    if len(_CALENDARS) > 256:
        _CALENDARS.clear()
    _CALENDARS[key] = calendar
    return calendar


_CALENDARS: dict[tuple[Engine, str, int], WorkingCalendar] = {}


def facts_of(
    session: Session, clock: Clock, *, pauses: Sequence[ClockPause] | None = None
) -> ClockFacts:
    """The stored facts of a clock, with its pinned calendar version (pauses may be preloaded)."""
    if pauses is None:
        pauses = list(session.scalars(select(ClockPause).where(ClockPause.clock_id == clock.id)))
    return ClockFacts(
        anchor=clock.anchor_at,
        budget=budget_of(clock),
        calendar=calendar_version(session, clock.calendar_code, clock.calendar_version),
        prorogation=clock.prorogation,
        pause_effect=PauseEffect(clock.pause_effect) if clock.pause_effect else None,
        pauses=[PauseFact(p.reason, p.started_at, p.ended_at) for p in pauses],
        stopped_at=clock.stopped_at,
    )


def refresh(
    session: Session,
    clock: Clock,
    *,
    pauses: Sequence[ClockPause] | None = None,
    rungs: Sequence[ClockRung] | None = None,
) -> Projection:
    """Re-derive the deadline, the state and the unfired rungs' instants from the facts.

    ``pauses`` and ``rungs`` may be preloaded (the sweep loads them for a whole batch).
    """
    facts = facts_of(session, clock, pauses=pauses)
    projection = project(facts)
    clock.due_at = projection.deadline
    left = projection.left_on_resume
    clock.left_amount, clock.left_unit = (left.amount, left.unit.value) if left else (None, None)
    if clock.state != ClockState.STOPPED:
        clock.state = (ClockState.PAUSED if projection.paused else ClockState.RUNNING).value
    if rungs is None:
        rungs = list(session.scalars(select(ClockRung).where(ClockRung.clock_id == clock.id)))
    for rung in rungs:
        if rung.fired_at is None:
            rung.due_at = rung_instant(facts, projection, rung.fraction)
    pending = [r.due_at for r in rungs if r.fired_at is None and r.due_at is not None]
    clock.next_rung_at = (
        min(pending) if pending and clock.state == ClockState.RUNNING.value else None
    )
    return projection


def start_clock(
    session: Session,
    *,
    key: str,
    kind: ClockKind,
    dossier_id: uuid.UUID,
    calendar_code: str,
    anchor_at: dt.datetime,
    definition_code: str,
    budget: Duration | None = None,
    consultation_id: uuid.UUID | None = None,
    existing: Mapping[str, Clock] | None = None,
    definitions: Mapping[str, DeadlineDefinition] | None = None,
) -> tuple[Clock, bool]:
    """Start the clock ``key`` unless it exists, pinned to the versions in force.

    ``budget`` overrides the definition's (e.g. a procedure delay with legal extensions).
    ``existing`` (the dossier's clocks by key) and ``definitions`` (the versions in force by
    code) may be preloaded by a caller that starts several clocks. Returns the clock and
    whether it is new.
    """
    found = (
        session.scalar(select(Clock).where(Clock.key == key))
        if existing is None
        else existing.get(key)
    )
    if found is not None:
        return found, False
    preloaded = None if definitions is None else definitions.get(definition_code)
    definition = preloaded or latest_definition(session, definition_code)
    calendar = session.get(Calendar, calendar_code)
    if calendar is None:
        raise NotFound(t("calendar.unknown", code=calendar_code))
    chosen = budget or make_duration(definition.budget_amount, definition.budget_unit)
    clock = Clock(
        id=new_id(),
        key=key,
        kind=kind.value,
        dossier_id=dossier_id,
        consultation_id=consultation_id,
        calendar_code=calendar_code,
        calendar_version=calendar.version,
        definition_code=definition.code,
        definition_version=definition.version,
        anchor_at=anchor_at,
        budget_amount=chosen.amount,
        budget_unit=chosen.unit.value,
        prorogation=definition.prorogation,
        pause_effect=definition.pause_effect,
        state=ClockState.RUNNING.value,
    )
    rungs = [
        ClockRung(clock_id=clock.id, name=rung["name"], fraction=float(rung["fraction"]))
        for rung in definition.rungs
    ]
    # Derived before the rows are written (a new clock has no pause): one INSERT each, with
    # the caller's next flush, instead of inserting and then updating what refresh computes.
    refresh(session, clock, pauses=[], rungs=rungs)
    session.add(clock)
    session.add_all(rungs)
    return clock, True


def stop_clock(session: Session, *, key: str, now: dt.datetime) -> Clock | None:
    """Stop the clock ``key``; an open pause is booked up to the stop. None if never started."""
    clock = session.scalar(select(Clock).where(Clock.key == key).with_for_update())
    if clock is None or clock.state == ClockState.STOPPED:
        return clock
    _stop(session, clock, now)
    return clock


def _stop(session: Session, clock: Clock, now: dt.datetime) -> None:
    """Stop a locked running or paused clock; an open pause is booked up to the stop."""
    for pause in session.scalars(
        select(ClockPause).where(ClockPause.clock_id == clock.id, ClockPause.ended_at.is_(None))
    ):
        pause.ended_at = now
    clock.state = ClockState.STOPPED.value
    clock.stopped_at = now
    session.flush()
    refresh(session, clock)


def stop_dossier_clocks(session: Session, *, dossier_id: uuid.UUID, now: dt.datetime) -> int:
    """Stop every clock of the dossier still running or paused (a withdrawn dossier);
    returns how many were stopped."""
    clocks = list(
        session.scalars(
            select(Clock)
            .where(Clock.dossier_id == dossier_id, Clock.state != ClockState.STOPPED.value)
            .order_by(Clock.key)
            .with_for_update()
        )
    )
    for clock in clocks:
        _stop(session, clock, now)
    return len(clocks)


def pause_allowed(session: Session, clock: Clock, at: dt.datetime) -> tuple[bool, str]:
    """Whether a request for documents at ``at`` pauses ``clock``, and why (French)."""
    if clock.state == ClockState.STOPPED:
        return False, t("sla.pause.already_stopped")
    if clock.pause_effect is None:
        return False, t("sla.pause.not_suspendable")
    definition = session.get(DeadlineDefinition, (clock.definition_code, clock.definition_version))
    if definition is not None and definition.request_window:
        calendar = calendar_version(session, clock.calendar_code, clock.calendar_version)
        limit = add(clock.anchor_at, parse_duration(definition.request_window), calendar)
        if at > limit:
            window = parse_duration(definition.request_window).label()
            return False, (t("sla.pause.too_late", window=window))
    if clock.due_at is not None and at >= clock.due_at:
        return False, t("sla.pause.already_breached")
    return True, (
        t("sla.pause.suspended")
        if clock.pause_effect == PauseEffect.SUSPENSION
        else t("sla.pause.interrupted")
    )


def pause_clock(
    session: Session,
    clock: Clock,
    *,
    reason: str,
    at: dt.datetime,
    information_request_id: uuid.UUID | None = None,
) -> ClockPause:
    """Open a pause on ``clock`` (overlapping pauses count once)."""
    pause = ClockPause(
        clock_id=clock.id,
        reason=reason,
        information_request_id=information_request_id,
        started_at=at,
    )
    session.add(pause)
    session.flush()
    refresh(session, clock)
    return pause


def end_pauses(
    session: Session, *, information_request_id: uuid.UUID, at: dt.datetime
) -> list[Clock]:
    """Close the pauses a request opened; each clock resumes once its last pause ends."""
    touched: list[Clock] = []
    for pause in session.scalars(
        select(ClockPause).where(
            ClockPause.information_request_id == information_request_id,
            ClockPause.ended_at.is_(None),
        )
    ):
        pause.ended_at = at
        clock = session.get_one(Clock, pause.clock_id)
        touched.append(clock)
    session.flush()
    for clock in touched:
        refresh(session, clock)
    return touched


def budget_of(clock: Clock) -> Duration:
    """A clock's budget."""
    return make_duration(clock.budget_amount, clock.budget_unit)


def take_charge_key(dossier_id: uuid.UUID) -> str:
    """Key of a dossier's take-in-charge clock."""
    return f"{ClockKind.TAKE_CHARGE}:{dossier_id}"


def consultation_key(consultation_id: uuid.UUID) -> str:
    """Key of a consultation's deadline clock."""
    return f"{ClockKind.CONSULTATION_DEADLINE}:{consultation_id}"


def target_key(consultation_id: uuid.UUID) -> str:
    """Key of a consultation's internal-target clock."""
    return f"{ClockKind.CONSULTATION_TARGET}:{consultation_id}"


def procedure_key(dossier_id: uuid.UUID, procedure: str) -> str:
    """Key of a dossier's legal delay for one procedure."""
    return f"{ClockKind.PROCEDURE_DEADLINE}:{dossier_id}:{procedure}"


def reproject_open_clocks(
    session: Session,
    *,
    actor_label: str,
    now: dt.datetime,
    calendar_code: str | None = None,
    definition_code: str | None = None,
) -> list[tuple[Clock, dt.datetime | None, dt.datetime | None]]:
    """Re-pin open clocks to the versions now in force and re-derive them (recorded).

    Closed clocks are never rewritten. Returns (clock, old deadline, new deadline).
    """
    from accelerator.history.actions import record
    from accelerator.history.actor import Actor

    if calendar_code is None and definition_code is None:
        raise InvalidInput(t("sla.reproject_needs_target"))
    query = select(Clock).where(Clock.state != ClockState.STOPPED.value)
    if calendar_code is not None:
        current = session.get(Calendar, calendar_code)
        if current is None:
            raise NotFound(t("calendar.unknown", code=calendar_code))
        query = query.where(
            Clock.calendar_code == calendar_code, Clock.calendar_version < current.version
        )
    if definition_code is not None:
        latest = latest_definition(session, definition_code)
        query = query.where(
            Clock.definition_code == definition_code, Clock.definition_version < latest.version
        )
    changed = []
    for clock in session.scalars(query.with_for_update()):
        before = clock.due_at
        old = t(
            "sla.versions",
            calendar_version=clock.calendar_version,
            definition_version=clock.definition_version,
        )
        if calendar_code is not None:
            clock.calendar_version = session.get_one(Calendar, calendar_code).version
        if definition_code is not None:
            definition = latest_definition(session, definition_code)
            clock.definition_version = definition.version
            clock.prorogation = definition.prorogation
            clock.pause_effect = definition.pause_effect
            if clock.kind != ClockKind.PROCEDURE_DEADLINE:
                # Procedure delays carry legal extensions computed from the dossier: kept.
                clock.budget_amount = definition.budget_amount
                clock.budget_unit = definition.budget_unit
        refresh(session, clock)
        new = t(
            "sla.versions",
            calendar_version=clock.calendar_version,
            definition_version=clock.definition_version,
        )
        record(
            session,
            dossier_id=clock.dossier_id,
            consultation_id=clock.consultation_id,
            actor=Actor(actor_label),
            at=now,
            entity="clock",
            event="clock_reprojected",
            message=(
                t(
                    "sla.reprojected",
                    kind=clock.kind,
                    old=old,
                    new=new,
                    before=before.isoformat() if before else "—",
                    after=clock.due_at.isoformat() if clock.due_at else "—",
                )
            ),
            details={"clock_id": str(clock.id)},
        )
        changed.append((clock, before, clock.due_at))
    return changed
