"""Notifications by e-mail through a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from accelerator.identity.models import User
from accelerator.outbox.models import OutboxMessage
from accelerator.shared.config import get_settings
from accelerator.shared.db import Database
from tests.factories import filed, launched, paris
from workflows import notifications
from workflows.relay import drain

pytestmark = pytest.mark.usefixtures("prefect_engine")


class Inbox:
    """Collects every message the SMTP server receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("ACCELERATOR_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ACCELERATOR_SMTP_PORT", str(port))
    get_settings.cache_clear()
    yield handler
    controller.stop()
    monkeypatch.delenv("ACCELERATOR_SMTP_HOST")
    get_settings.cache_clear()


def body(message: Message, kind: str) -> str:
    for part in message.walk():
        if part.get_content_type() == f"text/{kind}":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"no text/{kind} part")


def test_filing_sends_one_receipt_in_french(db: Database, inbox: Inbox) -> None:
    dossier_id = filed(db, now=paris(2026, 3, 2, 10))
    drain()
    [receipt] = inbox.to("holder@f.test")
    assert receipt["Subject"].startswith("Dossier ACC-") and receipt["Subject"].endswith("déposé")
    assert "sous 24 heures" in body(receipt, "plain")
    assert "<a href=" in body(receipt, "html") and str(dossier_id) in body(receipt, "html")
    assert receipt["Message-ID"].endswith("@accelerateur>")
    # Delivering the same outbox message again sends nothing more.
    with db.transaction() as session:
        message = session.scalars(
            select(OutboxMessage).where(OutboxMessage.topic == "notify")
        ).first()
        assert message is not None
        message_id, payload = message.id, dict(message.payload)
    notifications.deliver(message_id, payload)
    assert len(inbox.to("holder@f.test")) == 1


def test_an_agent_who_prefers_a_digest_gets_one_mail_a_day(db: Database, inbox: Inbox) -> None:
    dossier_id = filed(db, now=paris(2026, 3, 2, 10))
    with db.transaction() as session:
        session.execute(
            update(User)
            .where(User.email == "agent.sdis-65@f.test")
            .values(notification_mode="digest")
        )
    launched(db, dossier_id, ["SDIS-65", "UDAP-65"], now=paris(2026, 3, 3, 10))
    drain()
    assert len(inbox.to("agent.udap-65@f.test")) == 1  # immediate
    assert inbox.to("agent.sdis-65@f.test") == []  # kept for the digest
    assert notifications.send_digests(paris(2026, 3, 4, 7)) == 0  # before 08:00
    assert notifications.send_digests(paris(2026, 3, 4, 8, 30)) == 1
    [digest] = inbox.to("agent.sdis-65@f.test")
    assert "1 notification(s)" in digest["Subject"]
    assert "Consultation sur le dossier" in body(digest, "plain")
    assert notifications.send_digests(paris(2026, 3, 4, 17)) == 0  # once a day
