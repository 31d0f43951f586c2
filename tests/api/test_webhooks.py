"""Webhooks to a real HTTP receiver on loopback: signed, logged, retried, replayed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from tests.api.conftest import Api, file_and_launch
from tests.receivers import Receiver, valid_signature
from workflows.relay import drain

pytestmark = pytest.mark.usefixtures("prefect_engine")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


def test_an_administration_hears_about_its_consultations(
    api: Callable[[str], Api], receiver: Receiver
) -> None:
    agent = api("agent.sdis-65@test.fr")
    subscription = agent.post(
        "/api/v1/webhooks", 201,
        json={"url": receiver.url, "events": ["consultation.created", "consultation.answered"]},
    )  # fmt: skip
    secret = subscription["secret"]
    assert subscription["administration"] == "SDIS-65" and len(secret) >= 32
    assert agent.get("/api/v1/webhooks")[0]["secret"] is None  # shown once
    dossier = file_and_launch(api, ["SDIS-65", "UDAP-65"])
    # Only SDIS-65's consultation is announced to SDIS-65.
    assert receiver.events() == ["consultation.created"]
    created = json.loads(receiver.received[0]["body"])
    assert created["dossier"]["reference"] == dossier["reference"]
    assert created["administration"] == "SDIS-65"
    assert all(valid_signature(secret, r) for r in receiver.received)
    assert not valid_signature("wrong-secret", receiver.received[0])

    # A failing receiver: the delivery is logged with its error and retried later.
    receiver.status = 500
    [mine] = agent.get("/api/v1/consultations")
    agent.post(f"/api/v1/consultations/{mine['id']}/opinion", json={"nature": "favourable"})
    drain()
    log = agent.get(f"/api/v1/webhooks/{subscription['id']}/deliveries")
    answered = next(d for d in log if d["event"] == "consultation.answered")
    assert answered["delivered_at"] is None and answered["last_status"] == 500
    assert "HTTP 500" in answered["last_error"]
    # Replay once the receiver is back.
    receiver.status = 200
    agent.post(f"/api/v1/webhooks/{subscription['id']}/deliveries/{answered['id']}/replay", 202)
    drain()
    log = agent.get(f"/api/v1/webhooks/{subscription['id']}/deliveries")
    answered = next(d for d in log if d["event"] == "consultation.answered")
    assert answered["delivered_at"] is not None and answered["attempts"] == 2
    event_ids = [r["headers"]["X-Accelerator-Event-Id"] for r in receiver.received]
    assert event_ids.count(answered["event_id"]) == 2  # same id: the receiver can deduplicate


def test_subscriptions_are_checked_and_private(api: Callable[[str], Api]) -> None:
    agent = api("agent.sdis-65@test.fr")
    bad = agent.post("/api/v1/webhooks", 422, json={"url": "ftp://x", "events": ["dossier.filed"]})
    assert "http ou https" in bad["detail"]
    unknown = agent.post("/api/v1/webhooks", 422, json={"url": "http://x.test", "events": ["nope"]})
    assert "nope" in unknown["detail"]
    api("holder@test.fr").post(
        "/api/v1/webhooks", 403, json={"url": "http://x.test", "events": ["dossier.filed"]}
    )
    mine = agent.post(
        "/api/v1/webhooks", 201, json={"url": "http://x.test", "events": ["dossier.filed"]}
    )
    api("agent.udap-65@test.fr").get(f"/api/v1/webhooks/{mine['id']}/deliveries", 404)
