"""Accounts: organisations of holders, and users with one role each."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from accelerator.shared.db import Base, JSONType, UTCDateTime, new_id


class Organisation(Base):
    """A company or local authority that files dossiers."""

    __tablename__ = "organisations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class User(Base):
    """A person who signs in; ``role`` decides what they may do (see ``identity.access``)."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisations.id"), nullable=True, index=True
    )
    administration_code: Mapped[str | None] = mapped_column(
        ForeignKey("administrations.code"), nullable=True, index=True
    )
    arrondissements: Mapped[list[str]] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: ``immediate`` (one e-mail per event) or ``digest`` (one e-mail a day).
    notification_mode: Mapped[str] = mapped_column(String(16), default="immediate")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
