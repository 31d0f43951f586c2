"""Dossier tables: the dossier, the routing proposal, and reference counters."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accelerator.shared.db import Base, JSONType, UTCDateTime, new_id


class Dossier(Base):
    """One investment project filed by a holder; the unit the accelerator works on."""

    __tablename__ = "dossiers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    reference: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    commune_insee: Mapped[str] = mapped_column(String(5))
    procedures: Mapped[list[str]] = mapped_column(JSONType, default=list)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    investment_eur: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    jobs_created: Mapped[int | None] = mapped_column(Integer, nullable=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    calendar_code: Mapped[str] = mapped_column(ForeignKey("calendars.code"))

    status: Mapped[str] = mapped_column(String(32), index=True)
    cycle: Mapped[int] = mapped_column(Integer, default=1)
    referent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id"), nullable=True, index=True
    )
    referent_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    filed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    routed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    taken_in_charge_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    consolidated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    outcome: Mapped[str | None] = mapped_column(String(64), nullable=True)
    outcome_binding: Mapped[bool | None] = mapped_column(nullable=True)
    outcome_decided_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    outcome_summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    closing_message: Mapped[str | None] = mapped_column(Text, nullable=True)

    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy convention


class ProposedAdministration(Base):
    """An administration the routing rules say must be consulted, and why."""

    __tablename__ = "proposed_administrations"
    __table_args__ = (UniqueConstraint("dossier_id", "administration_code"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id"), index=True)
    administration_code: Mapped[str] = mapped_column(ForeignKey("administrations.code"))
    consultation_type_code: Mapped[str] = mapped_column(ForeignKey("consultation_types.code"))
    rule_code: Mapped[str] = mapped_column(String(64))
    rule_codes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    rank: Mapped[int] = mapped_column(Integer)


class Counter(Base):
    """A named monotonic counter (dossier references), incremented under a row lock."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
