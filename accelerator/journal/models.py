"""The configuration journal: one row per change an administrator made, never updated nor
deleted (the dossiers' own history is ``history_entries``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from accelerator.shared.db import Base, JSONType, UTCDateTime, new_id


class ConfigChange(Base):
    """Who changed which piece of configuration, when, and what it was before and after."""

    __tablename__ = "config_changes"
    __table_args__ = (
        Index("ix_config_changes_kind_at", "kind", "at"),
        Index("ix_config_changes_kind_key", "kind", "key"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    #: The administrator's e-mail (kept if the account is later removed).
    actor_label: Mapped[str] = mapped_column(String(320))
    #: What was changed (``journal.kinds.ChangeKind``).
    kind: Mapped[str] = mapped_column(String(32))
    #: The object's key: an e-mail, an administration or rule code, ``FR:2026-05-15``...
    key: Mapped[str] = mapped_column(String(200))
    #: What was done (``created``, ``updated``, ``deleted``, ``deactivated``...).
    event: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text, default="")
    #: The object as it was (None: it did not exist) and as it became (None: removed).
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
