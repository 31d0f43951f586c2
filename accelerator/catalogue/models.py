"""Catalogue tables: reference data an admin maintains (`accelerator catalogue load`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from accelerator.shared.db import Base, JSONType


class Administration(Base):
    """A State administration that gives opinions (DDT, DREAL, ABF, SDIS...)."""

    __tablename__ = "administrations"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    rules_on: Mapped[str] = mapped_column(Text, default="")
    calendar_code: Mapped[str] = mapped_column(ForeignKey("calendars.code"))
    #: Where the platform writes to the administration as a whole (set by an administrator).
    contact_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    #: An inactive administration is consulted no more (open consultations first finish).
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class ConsultationType(Base):
    """What an administration is asked, its deadline and what its silence means."""

    __tablename__ = "consultation_types"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(300))
    duration_amount: Mapped[int] = mapped_column(Integer)
    duration_unit: Mapped[str] = mapped_column(String(32))
    silence_nature: Mapped[str] = mapped_column(String(64))
    silence_label: Mapped[str] = mapped_column(String(200))
    binding: Mapped[bool] = mapped_column(Boolean, default=False)
    legal: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(String(200), default="")


class Procedure(Base):
    """A procedure a dossier follows (PC, DP, ICPE_E...), with its legal delay."""

    __tablename__ = "procedures"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    label: Mapped[str] = mapped_column(String(300))
    duration_amount: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration_unit: Mapped[str | None] = mapped_column(String(32), nullable=True)
    silence_outcome: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")


class ProcedurePiece(Base):
    """A piece a procedure's dossier must (or may) hold, by its cerfa code (PC1, DP2...)."""

    __tablename__ = "procedure_pieces"

    procedure_code: Mapped[str] = mapped_column(ForeignKey("procedures.code"), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    label: Mapped[str] = mapped_column(String(300))
    mandatory: Mapped[bool] = mapped_column(Boolean, default=True)
    #: A dossier attribute that makes the piece expected (``public_access_building``): none,
    #: always expected.
    condition: Mapped[str | None] = mapped_column(String(64), nullable=True)
    rank: Mapped[int] = mapped_column(Integer, default=0)


class RoutingRule(Base):
    """When a dossier's attributes satisfy ``condition``, consult ``targets``."""

    __tablename__ = "routing_rules"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(300))
    condition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    targets: Mapped[list[dict[str, str]]] = mapped_column(JSONType)


class Arrondissement(Base):
    """An arrondissement of the department and the authority that instructs its grants."""

    __tablename__ = "arrondissements"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    grant_authority: Mapped[str] = mapped_column(ForeignKey("administrations.code"))


class Commune(Base):
    """A commune of the official list (COG) by its INSEE code: the only communes accepted."""

    __tablename__ = "communes"

    insee: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Department code (``65``, ``2A``, ``971``): it decides the working calendar.
    department: Mapped[str] = mapped_column(String(3))
    #: The COG's arrondissement code; no foreign key: the COG names arrondissements of every
    #: department, the catalogue describes (grant authority) only those it serves.
    arrondissement_code: Mapped[str | None] = mapped_column(String(8), nullable=True)
