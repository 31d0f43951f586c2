"""Webhook subscriptions of administrations (or their tools) and the log of deliveries."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accelerator.shared.db import Base, JSONType, UTCDateTime, new_id


class WebhookSubscription(Base):
    """A URL that receives some events, signed with the subscription's secret."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    #: None: a platform-wide subscription (administrators); else one administration's events.
    administration_code: Mapped[str | None] = mapped_column(
        ForeignKey("administrations.code"), nullable=True, index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))
    events: Mapped[list[str]] = mapped_column(JSONType)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class WebhookDelivery(Base):
    """One event for one subscription: attempts, last error, delivery."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("subscription_id", "event_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_subscriptions.id"), index=True
    )
    #: The outbox message that carried the event: receivers deduplicate on it.
    event_id: Mapped[uuid.UUID] = mapped_column()
    event: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: The class of the last failure (``targets.DeliveryError``), never the answer's text.
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: Set when the delivery was given up because its subscription was paused.
    skipped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
