"""Deliver queued notifications.

For now a notification is written to the relay's log with its resolved recipients; e-mail
(SMTP) and webhooks plug in here (issue 4). Recipients are resolved at delivery time so that
the outbox row stays small and ids-only.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import ColumnElement, or_, select

from accelerator.identity.models import User
from accelerator.identity.roles import Role
from workflows.steps import in_transaction

log = logging.getLogger("accelerator.notifications")


def recipients(payload: dict[str, Any]) -> list[str]:
    """E-mail addresses a notification goes to."""

    def resolve(session: Any) -> list[str]:
        query = select(User.email).where(User.active.is_(True))
        conditions: list[ColumnElement[bool]] = []
        if payload.get("user_ids"):
            conditions.append(User.id.in_([uuid.UUID(u) for u in payload["user_ids"]]))
        if payload.get("administration"):
            conditions.append(
                (User.administration_code == payload["administration"])
                & (User.role == Role.AGENT.value)
            )
        if payload.get("organisation_id"):
            conditions.append(User.organisation_id == uuid.UUID(payload["organisation_id"]))
        if not conditions:
            return []
        return sorted(session.scalars(query.where(or_(*conditions))))

    return in_transaction(resolve)


def deliver(message_id: uuid.UUID, payload: dict[str, Any]) -> None:
    """Deliver one notification (logged until the e-mail channel lands)."""
    log.info(
        "notification %s [%s] dossier=%s → %s",
        message_id,
        payload.get("template"),
        payload.get("dossier_id"),
        ", ".join(recipients(payload)) or "(aucun destinataire)",
    )
