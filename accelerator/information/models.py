"""Requests for missing documents or information, answered by the holder."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from accelerator.shared.db import Base, JSONType, UTCDateTime, new_id


class InformationRequest(Base):
    """What the référent (for the dossier or relaying an administration) asks the holder."""

    __tablename__ = "information_requests"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id"), index=True)
    consultation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("consultations.id"), nullable=True, index=True
    )
    message: Mapped[str] = mapped_column(Text)
    pieces: Mapped[list[str]] = mapped_column(JSONType, default=list)
    requested_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: The status the dossier or consultation had before waiting (restored on answer).
    previous_status: Mapped[str] = mapped_column(String(32))
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
