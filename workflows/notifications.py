"""Deliver queued notifications by e-mail (or into an agent's daily digest).

Recipients and the dossier's details are read at delivery time, so outbox rows stay small and
ids-only. Each (message, address) is recorded once sent: a message retried after a partial
failure is not sent again to those who already got it. Without ``ACCELERATOR_SMTP_HOST`` the
notification is only written to the log.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.dossiers.models import Dossier
from accelerator.metrics.pack import build_pack, parse_week
from accelerator.notifications.actions import (
    keep_for_digest,
    mark_digest_sent,
    record_delivery,
)
from accelerator.notifications.queries import (
    already_served,
    digests_due,
    pending_digest,
    recipients,
)
from accelerator.shared.config import Settings, get_settings
from accelerator.shared.db import utcnow
from accelerator.shared.text import t
from accelerator.sla.calendars import zone_named
from accelerator.sla.definitions import KIND_LABELS, ClockKind
from accelerator.sla.models import Clock
from reports.weekly import render_pdf
from workflows import mailer
from workflows.steps import in_transaction

log = logging.getLogger("accelerator.notifications")

PARIS = "Europe/Paris"


def _local(instant: dt.datetime | None) -> str | None:
    return (
        None
        if instant is None
        else t("notification.instant", instant=instant.astimezone(zone_named(PARIS)))
    )


def context_for(session: Session, payload: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """What the templates need: the dossier, its link, the payload's context, a due date."""
    context: dict[str, Any] = dict(payload.get("context") or {})
    dossier_id = payload.get("dossier_id")
    dossier = session.get(Dossier, uuid.UUID(dossier_id)) if dossier_id else None
    if dossier is not None:
        context.update(
            reference=dossier.reference or t("mail.common.draft_reference"),
            title=dossier.title,
            dossier_url=f"{settings.public_url}/api/v1/dossiers/{dossier.id}",
        )
    if "clock_id" in context:
        clock = session.get(Clock, uuid.UUID(context["clock_id"]))
        if clock is not None:
            context.setdefault("due_at", _local(clock.due_at))
            context.setdefault("kind_label", KIND_LABELS.get(ClockKind(clock.kind), clock.kind))
    if "consultation_id" in context:
        # The consultation's deadline is its clock's (it moves with pauses and calendars).
        due_at = session.scalar(
            select(Clock.due_at).where(
                Clock.consultation_id == uuid.UUID(context["consultation_id"]),
                Clock.kind == ClockKind.CONSULTATION_DEADLINE.value,
            )
        )
        if due_at is not None:
            context.setdefault("due_at", _local(due_at))
    if "week" in context:
        context["pack_url"] = f"{settings.public_url}/pilotage/revues/{context['week']}.pdf"
    for key in ("due_at", "kind_label", "message", "pieces", "summary", "type", "silence"):
        context.setdefault(key, None)
    context.setdefault("dossier_url", None)
    return context


#: Packs built for delivery, by week: the e-mails of one Monday (one per manager) share one
#: rendering instead of laying the same PDF out again for each.
_PACKS: dict[str, tuple[float, bytes]] = {}
PACK_REUSE_SECONDS = 600.0


def weekly_pack_pdf(week: str) -> bytes:
    """The PDF of ``week``'s review pack, built now (or a few minutes ago)."""
    cached = _PACKS.get(week)
    if cached is not None and time.monotonic() - cached[0] < PACK_REUSE_SECONDS:
        return cached[1]
    settings = get_settings()
    pack = in_transaction(lambda s: build_pack(s, parse_week(week), now=utcnow()))
    pdf = render_pdf(pack, base_url=settings.public_url)
    _PACKS.clear()
    _PACKS[week] = (time.monotonic(), pdf)
    return pdf


def attachments_for(payload: dict[str, Any]) -> list[mailer.Attachment]:
    """The documents a notification names, built at delivery (the payload holds names only)."""
    found = []
    for item in payload.get("attachments") or []:
        if item.get("kind") != "weekly_pack":
            raise ValueError(f"unknown attachment kind {item.get('kind')!r}")
        week = str(parse_week(item["week"]))
        found.append(
            mailer.Attachment(
                t("mail.weekly_pack.filename", week=week), "application/pdf", weekly_pack_pdf(week)
            )
        )
    return found


def deliver(message_id: uuid.UUID, payload: dict[str, Any]) -> None:
    """Send one notification to each recipient not yet served (or keep it for their digest)."""
    settings = get_settings()
    template = payload["template"]
    people, context = in_transaction(
        lambda s: (recipients(s, payload), context_for(s, payload, settings))
    )
    if settings.smtp_host is None:
        log.info(
            "notification %s [%s] → %s (ACCELERATOR_SMTP_HOST absent : non envoyée)",
            message_id, template, ", ".join(p.email for p in people) or "(aucun destinataire)",
        )  # fmt: skip
        return
    files: list[mailer.Attachment] | None = None
    for person in people:
        if in_transaction(functools.partial(already_served, message_id=message_id, person=person)):
            continue
        mail = mailer.render(template, person.email, {**context, "recipient_name": person.name})
        if person.digest and payload.get("digest", True):
            in_transaction(
                functools.partial(
                    keep_for_digest,
                    message_id=message_id,
                    person=person,
                    subject=mail.subject,
                    text=mail.text,
                    now=utcnow(),
                )
            )
            continue
        if files is None:
            files = attachments_for(payload)
        mailer.send(
            settings, mail, message_id=f"<{message_id}.{person.id}@accelerateur>", attachments=files
        )
        in_transaction(
            functools.partial(
                record_delivery,
                message_id=message_id,
                email=person.email,
                template=template,
                now=utcnow(),
            )
        )


def send_digests(now: dt.datetime, *, hour: int = 8) -> int:
    """Send each waiting digest once a day, from ``hour`` (Paris time); returns how many."""
    settings = get_settings()
    if settings.smtp_host is None or now.astimezone(zone_named(PARIS)).hour < hour:
        return 0
    today = now.astimezone(zone_named(PARIS)).date()

    sent = 0
    for user_id, email, name in in_transaction(
        functools.partial(digests_due, today=today, zone=PARIS)
    ):
        items = in_transaction(functools.partial(pending_digest, user_id=user_id))
        mail = mailer.render(
            "digest", email, {"recipient_name": name, "items": items, "dossier_url": None}
        )
        mailer.send(settings, mail, message_id=f"<digest.{user_id}.{today}@accelerateur>")
        in_transaction(
            functools.partial(mark_digest_sent, ids=[item["id"] for item in items], now=now)
        )
        sent += 1
    return sent
