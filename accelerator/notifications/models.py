"""E-mail bookkeeping: what was sent to whom (so a retried message is not sent twice), and
the items waiting for an agent's daily digest."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accelerator.shared.db import Base, UTCDateTime, new_id


class EmailDelivery(Base):
    """One outbox message sent to one address."""

    __tablename__ = "email_deliveries"
    __table_args__ = (UniqueConstraint("outbox_message_id", "recipient"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    outbox_message_id: Mapped[uuid.UUID] = mapped_column(index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    template: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class DigestItem(Base):
    """A notification kept for the recipient's daily digest."""

    __tablename__ = "digest_items"
    __table_args__ = (UniqueConstraint("outbox_message_id", "user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    outbox_message_id: Mapped[uuid.UUID] = mapped_column()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    subject: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
