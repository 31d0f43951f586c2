"""Distributed mode end to end, every part real and on loopback: PostgreSQL, Prefect's server
on PostgreSQL, two process workers, two relays, two API processes, an SMTP server, an HTTP
receiver and an S3-compatible server for the documents. One hundred dossiers go through; each
effect must happen exactly once."""

from __future__ import annotations

import collections
from typing import Any

import pytest
from sqlalchemy import func, select

from accelerator.dossiers.models import ProposedAdministration
from accelerator.notifications.models import EmailDelivery
from accelerator.outbox.models import OutboxMessage
from accelerator.webhooks.models import WebhookDelivery
from tests.receivers import event_of, valid_signature
from tests.system.cluster import wait_for
from tests.system.conftest import ADMINISTRATIONS, HOLDERS, System, agent
from tests.system.steps import (
    consultations_of,
    converge,
    exchange_documents,
    file_dossiers,
    intake_done,
    launch_all,
    query,
    subscribe,
)

#: A whole cluster starts, works and stops: longer than the suite's 600 s per test.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

DOSSIERS = 100


def test_a_hundred_dossiers_through_two_workers_and_two_apis(
    s3_storage: dict[str, str], system_factory: Any
) -> None:
    # Documents go to an S3-compatible bucket: each API process reads what the other stored.
    # The relays wait up to 5 s for a fuller batch of flow messages, as operations advise for a
    # burst of filings (docs/operations.md): fewer runs, each a new process on a worker.
    system: System = system_factory(**s3_storage, ACCELERATOR_FLOW_BATCH_WINDOW_SECONDS="5")
    exchange_documents(system)
    secrets = subscribe(system)

    ids = file_dossiers(system, DOSSIERS)
    assert len(set(ids)) == DOSSIERS

    converge(system, lambda: intake_done(system, ids), 240, "every dossier routed, assigned")

    # Each référent takes its dossiers in charge and launches the consultations.
    launch_all(system, ids)

    proposed = query(
        system,
        select(ProposedAdministration.dossier_id, ProposedAdministration.administration_code)
        .where(ProposedAdministration.dossier_id.in_(ids)),
    )  # fmt: skip
    assert len(proposed) >= 3 * DOSSIERS

    converge(
        system,
        lambda: len(consultations_of(system, ids)) >= len(proposed),
        240,
        "every consultation",
    )

    # Every consultation created exactly once: one per proposed administration, none more.
    created = consultations_of(system, ids)
    pairs = collections.Counter((row.dossier_id, row.administration_code) for row in created)
    assert set(pairs) == {(row.dossier_id, row.administration_code) for row in proposed}
    assert set(pairs.values()) == {1}
    # Agents see them through the API, on either process.
    for index, code in enumerate(ADMINISTRATIONS):
        visible = system.client(agent(code), api=index).get(
            "/api/v1/consultations", params={"limit": 500}
        )
        expected = sum(1 for row in created if row.administration_code == code)
        assert len(visible) == expected, code

    # Once the outbox is empty, every e-mail it sent reached the SMTP server exactly once.
    def settled() -> bool:
        [(pending,)] = query(
            system,
            select(func.count(OutboxMessage.id)).where(OutboxMessage.delivered_at.is_(None)),
        )
        sent = query(system, select(func.count(EmailDelivery.id)))[0][0]
        return bool(pending == 0 and len(system.inbox.snapshot()) == sent)

    wait_for(settled, 120, "the outbox to drain and the e-mails to arrive")
    deliveries = query(system, select(EmailDelivery.recipient, EmailDelivery.template))
    received = system.inbox.snapshot()
    message_ids = collections.Counter(m["Message-ID"] for m in received)
    assert set(message_ids.values()) == {1}, "an e-mail arrived twice"
    assert len(received) == len(deliveries)
    # Each holder got one receipt per filed dossier, each agent one notice per consultation.
    templates = collections.Counter(d.template for d in deliveries)
    assert templates["dossier_filed"] == DOSSIERS
    receipts = [m for m in received if m["Subject"].endswith("déposé")]
    assert len(receipts) == DOSSIERS
    assert {m["To"] for m in receipts} == set(HOLDERS)
    for code in ADMINISTRATIONS:
        expected = sum(1 for row in created if row.administration_code == code)
        to_agent = [m for m in received if m["To"] == agent(code)]
        assert len(to_agent) >= expected, code

    # Every webhook received, each signature valid, each consultation announced once.
    hooks = system.receiver.snapshot()
    announced = collections.Counter()
    for record in hooks:
        body = event_of(record)
        assert valid_signature(secrets[body["administration"]], record)
        announced[body["data"]["consultation_id"]] += 1
    assert set(announced) == {str(row.id) for row in created}
    assert set(announced.values()) == {1}
    [(undelivered,)] = query(
        system,
        select(func.count(WebhookDelivery.id)).where(WebhookDelivery.delivered_at.is_(None)),
    )
    assert undelivered == 0
