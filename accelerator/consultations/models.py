"""Consultation tables: one consultation per administration and review cycle, and launches."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accelerator.shared.db import Base, JSONType, UTCDateTime, new_id


class ConsultationLaunch(Base):
    """The référent's decision to consult a set of administrations at one instant.

    The launch flow creates one consultation per entry; keeping the decision as a row lets the
    flow be re-run (or reconciled) with the same inputs and the same ``requested_at`` anchor.
    """

    __tablename__ = "consultation_launches"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id"), index=True)
    cycle: Mapped[int] = mapped_column(Integer)
    entries: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    requested_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Consultation(Base):
    """What one administration is asked about one dossier, and its opinion."""

    __tablename__ = "consultations"
    __table_args__ = (UniqueConstraint("dossier_id", "administration_code", "cycle"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id"), index=True)
    administration_code: Mapped[str] = mapped_column(ForeignKey("administrations.code"), index=True)
    consultation_type_code: Mapped[str] = mapped_column(ForeignKey("consultation_types.code"))
    launch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("consultation_launches.id"))
    cycle: Mapped[int] = mapped_column(Integer)
    rule_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    binding: Mapped[bool] = mapped_column(Boolean, default=False)

    status: Mapped[str] = mapped_column(String(32), index=True)
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    opinion_nature: Mapped[str | None] = mapped_column(String(64), nullable=True)
    opinion_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    opinion_tacit: Mapped[bool] = mapped_column(Boolean, default=False)

    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy convention
