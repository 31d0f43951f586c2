"""Read side of webhook deliveries, for monitoring."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accelerator.webhooks.models import WebhookDelivery


@dataclass(frozen=True)
class DeliveryFigures:
    """Webhook deliveries done, and those failing (not paused: a paused one is given up)."""

    delivered: int
    failing: int


def delivery_figures(session: Session) -> DeliveryFigures:
    """How many webhook deliveries succeeded, and how many are failing now."""
    delivered = session.scalar(
        select(func.count()).where(WebhookDelivery.delivered_at.is_not(None))
    )
    failing = session.scalar(
        select(func.count()).where(
            WebhookDelivery.delivered_at.is_(None),
            WebhookDelivery.skipped_at.is_(None),  # paused: not failing, given up
            WebhookDelivery.last_error.is_not(None),
        )
    )
    return DeliveryFigures(delivered or 0, failing or 0)
