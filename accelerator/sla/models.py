"""Clocks: one commitment measured against a budget in a calendar, with its pauses and rungs.

A clock stores its facts (anchor, budget, pinned calendar and definition versions, pauses);
its deadline and rung instants are DERIVED from them (``sla.clocks.project``) and cached on the
rows so that sweeps and dashboards can query them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accelerator.shared.db import Base, JSONType, UTCDateTime, new_id


class DeadlineDefinition(Base):
    """A versioned rule for a kind of clock: budget, pause effect, request window, rungs."""

    __tablename__ = "deadline_definitions"

    code: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(300))
    budget_amount: Mapped[int] = mapped_column(Integer)
    budget_unit: Mapped[str] = mapped_column(String(32))
    prorogation: Mapped[bool] = mapped_column(Boolean, default=False)
    #: ``suspension`` or ``interruption``; None: requests for documents do not pause it.
    pause_effect: Mapped[str | None] = mapped_column(String(16), nullable=True)
    #: How long after the anchor a request for documents may still pause the clock.
    request_window: Mapped[str | None] = mapped_column(String(32), nullable=True)
    rungs: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    legal: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(String(200), default="")
    #: What else a breach does (``definitions.OnBreach``); None: the rung's reminder only.
    on_breach: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CalendarVersion(Base):
    """One version of a calendar; clocks pin the version in force when they started."""

    __tablename__ = "calendar_versions"

    code: Mapped[str] = mapped_column(ForeignKey("calendars.code"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")


class Clock(Base):
    """A running, paused or stopped clock; its deadline derives from anchor, budget, pauses."""

    __tablename__ = "clocks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    #: Unique name of the commitment (e.g. ``take_charge:<dossier>``): starting twice is a no-op.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(64))
    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id"), index=True)
    consultation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("consultations.id"), nullable=True, index=True
    )
    calendar_code: Mapped[str] = mapped_column(ForeignKey("calendars.code"))
    calendar_version: Mapped[int] = mapped_column(Integer, default=1)
    definition_code: Mapped[str | None] = mapped_column(String(100), nullable=True)
    definition_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    anchor_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    budget_amount: Mapped[int] = mapped_column(Integer)
    budget_unit: Mapped[str] = mapped_column(String(32))
    prorogation: Mapped[bool] = mapped_column(Boolean, default=False)
    pause_effect: Mapped[str | None] = mapped_column(String(16), nullable=True)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    stopped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: Earliest unfired rung of a running clock: what the sweep looks for (indexed).
    next_rung_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    #: While paused, the budget that will count from the resumption (``Projection.
    #: left_on_resume``; derived, like ``due_at``, at each projection).
    left_amount: Mapped[int | None] = mapped_column(Integer, nullable=True)
    left_unit: Mapped[str | None] = mapped_column(String(32), nullable=True)


class ClockPause(Base):
    """One reason a clock was paused, from ``started_at`` to ``ended_at`` (open if None)."""

    __tablename__ = "clock_pauses"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    clock_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clocks.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    information_request_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("information_requests.id"), nullable=True
    )
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ClockRung(Base):
    """A step of escalation at a fraction of the budget; fires at most once."""

    __tablename__ = "clock_rungs"
    __table_args__ = (UniqueConstraint("clock_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    clock_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clocks.id"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    fraction: Mapped[float] = mapped_column(Float)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    fired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Calendar(Base):
    """A working calendar: time zone, working intervals, holiday rules."""

    __tablename__ = "calendars"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: The version in force (``calendar_versions``); new clocks pin it.
    version: Mapped[int] = mapped_column(Integer, default=1)
