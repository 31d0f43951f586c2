"""Clocks: one commitment measured against a budget in a calendar."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from accelerator.db import Base, UTCDateTime, new_id


class Clock(Base):
    """A running, paused or stopped clock; its deadline derives from anchor and budget."""

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
    anchor_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    budget_amount: Mapped[int] = mapped_column(Integer)
    budget_unit: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    stopped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
