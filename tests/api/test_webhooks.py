"""Webhooks to a real HTTP receiver on loopback: signed, logged, retried, replayed; never
a server-side request forgery; paused and deleted by who manages them."""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from accelerator.shared.config import Settings, get_settings
from accelerator.webhooks import targets
from api.app import create_app
from tests.api.conftest import Api, file_and_launch
from tests.receivers import Receiver, valid_signature
from workflows.relay import drain

pytestmark = pytest.mark.usefixtures("prefect_engine")

SETTING = "ACCELERATOR_WEBHOOK_ALLOWED_HOSTS"
#: A name no DNS knows here: tests say what it resolves to (``resolves``).
NAME = "hooks.example.org"
PUBLIC = ipaddress.ip_address("8.8.8.8")
LOOPBACK = ipaddress.ip_address("127.0.0.1")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def other() -> Iterator[Receiver]:
    """A second receiver, allowed too: where a redirection would lead."""
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def allow(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """``allow("host:port,…")``: the allow-list of the relay (and of apps made after)."""

    def set_hosts(hosts: str) -> None:
        monkeypatch.setenv(SETTING, hosts)
        get_settings.cache_clear()

    yield set_hosts
    get_settings.cache_clear()


@pytest.fixture
def client(
    db: Any, receiver: Receiver, other: Receiver, allow: Callable[[str], None]
) -> Iterator[TestClient]:
    """The app (demo mode) with both loopback receivers, and only them, allow-listed."""
    allow(f"{receiver.allowed_host},{other.allowed_host}")
    app = create_app(Settings(database_url=db.url, demo=True))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def resolves(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """What ``NAME`` (and other names put here) resolve to: the product's resolver is its
    own function, so a test can play a DNS that changes its answer (rebinding)."""
    answers: dict[str, list[Any]] = {}
    real = targets.resolve

    def resolve(host: str, port: int) -> list[Any]:
        return list(answers[host]) if host in answers else real(host, port)

    monkeypatch.setattr(targets, "resolve", resolve)
    return answers


def _log(agent: Api, subscription_id: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = agent.get(f"/api/v1/webhooks/{subscription_id}/deliveries")
    return result


def _delete(who: Api, path: str, expect: int) -> None:
    response = who.client.delete(path, headers=who.headers)
    assert response.status_code == expect, response.text
    if expect == 204:
        assert response.content == b""


def _answer_opinion(api: Callable[[str], Api]) -> None:
    agent = api("agent.sdis-65@test.fr")
    [mine] = agent.get("/api/v1/consultations")
    agent.post(f"/api/v1/consultations/{mine['id']}/opinion", json={"nature": "favourable"})
    drain()


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
    assert receiver.received[0]["headers"]["Host"] == receiver.allowed_host

    # A failing receiver: the delivery is logged with its error class and retried later.
    receiver.status = 500
    _answer_opinion(api)
    log = _log(agent, subscription["id"])
    answered = next(d for d in log if d["event"] == "consultation.answered")
    assert answered["delivered_at"] is None and answered["last_status"] == 500
    assert answered["last_error"] == "http_status"
    # Replay once the receiver is back.
    receiver.status = 200
    agent.post(f"/api/v1/webhooks/{subscription['id']}/deliveries/{answered['id']}/replay", 202)
    drain()
    log = _log(agent, subscription["id"])
    answered = next(d for d in log if d["event"] == "consultation.answered")
    assert answered["delivered_at"] is not None and answered["attempts"] == 2
    assert answered["last_error"] is None
    event_ids = [r["headers"]["X-Accelerator-Event-Id"] for r in receiver.received]
    assert event_ids.count(answered["event_id"]) == 2  # same id: the receiver can deduplicate


def test_subscriptions_are_checked_and_private(
    api: Callable[[str], Api], receiver: Receiver
) -> None:
    agent = api("agent.sdis-65@test.fr")
    bad = agent.post("/api/v1/webhooks", 422, json={"url": "ftp://x", "events": ["dossier.filed"]})
    assert "http ou https" in bad["detail"]
    unknown = agent.post("/api/v1/webhooks", 422, json={"url": receiver.url, "events": ["nope"]})
    assert "nope" in unknown["detail"]
    api("holder@test.fr").post(
        "/api/v1/webhooks", 403, json={"url": receiver.url, "events": ["dossier.filed"]}
    )
    mine = agent.post(
        "/api/v1/webhooks", 201, json={"url": receiver.url, "events": ["dossier.filed"]}
    )
    api("agent.udap-65@test.fr").get(f"/api/v1/webhooks/{mine['id']}/deliveries", 404)
    long_name = agent.post(
        "/api/v1/webhooks", 422, json={"url": receiver.url, "events": ["x" * 10_000]}
    )
    assert "x" * 100 not in json.dumps(long_name)
    # Each event goes to each subscription: their number is bounded.
    for _ in range(19):
        agent.post("/api/v1/webhooks", 201, json={"url": receiver.url, "events": ["dossier.filed"]})
    refused = agent.post(
        "/api/v1/webhooks", 422, json={"url": receiver.url, "events": ["dossier.filed"]}
    )
    assert "Au plus 20 abonnements" in refused["detail"]
    api("agent.udap-65@test.fr").post(  # per administration
        "/api/v1/webhooks", 201, json={"url": receiver.url, "events": ["dossier.filed"]}
    )


FORBIDDEN_TARGETS = [
    "http://127.0.0.1:8399/internal/admin",
    "http://localhost",
    "http://localhost:8399/internal/admin",
    "http://app.localhost/",
    "http://[::1]",
    "http://[::1]:8399/",
    "http://0.0.0.0",
    "http://0.0.0.0:8399/",
    "http://[::]/",
    "http://2130706433",
    "http://2130706433:8399/",
    "http://0x7f.1",
    "http://0x7f000001/",
    "http://017700000001",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://127.0.0.1./",
    "http://user:pass@example.org",
    "http://user@example.org/",
    "http://@example.org/",
    "http://example.org\\@127.0.0.1/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://198.18.0.1/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://[fe80::1]/",
    "http://[fe80::1%25lo]/",
    "http://[fc00::1]/",
    "http://[fec0::1]/",
    "http://[ff02::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[64:ff9b:1::1]/",
    "http://[2002:7f00:1::]/",
    "http://[2002:a00:1::]/",
    "http://[2001::1]/",
    "http://[::127.0.0.1]/",
    "http://[2001:db8::1]/",
    "ftp://example.org/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:8399/",
    "javascript:alert(1)",
    "http:///path",
    "http://exa mple.org/",
    "http://exa_mple.org/",
    "http://nothing-here.invalid/",
    "http://example.org:0/",
    "http://example.org:99999/",
]


def test_targets_that_are_not_public_are_refused_at_subscription(
    api: Callable[[str], Api], resolves: dict[str, list[Any]]
) -> None:
    resolves["example.org"] = [PUBLIC]  # a public name (no DNS here): refused for the form
    agent = api("agent.sdis-65@test.fr")
    accepted = {}
    for url in FORBIDDEN_TARGETS:  # one loop, not one test each: an account set-up is slow
        response = agent.client.post(
            "/api/v1/webhooks",
            headers=agent.headers,
            json={"url": url, "events": ["dossier.filed"]},
        )
        detail = response.json().get("detail", "")
        if response.status_code != 422 or not detail.startswith(
            ("Adresse de webhook invalide", "L'adresse", "L'hôte")
        ):
            accepted[url] = f"{response.status_code} {detail}"
    assert accepted == {}
    assert agent.get("/api/v1/webhooks") == []
    refused = agent.post(
        "/api/v1/webhooks", 422,
        json={"url": "https://hook:s3cr3t-pw@example.org/", "events": ["dossier.filed"]},
    )  # fmt: skip
    assert "s3cr3t-pw" not in refused["detail"]  # a password is not shown back
    # The same public name in a proper form is accepted (the refusals are for the forms).
    agent.post(
        "/api/v1/webhooks", 201, json={"url": "http://example.org/", "events": ["dossier.filed"]}
    )


def test_a_name_resolving_to_any_private_address_is_refused_and_not_named(
    api: Callable[[str], Api], resolves: dict[str, list[Any]]
) -> None:
    agent = api("agent.sdis-65@test.fr")
    for answer in ([LOOPBACK], [PUBLIC, ipaddress.ip_address("10.1.2.3")]):
        resolves[NAME] = answer
        refused = agent.post(
            "/api/v1/webhooks", 422, json={"url": f"https://{NAME}/", "events": ["dossier.filed"]}
        )
        assert "ne mène pas à une adresse publique" in refused["detail"]
        # The internal address is not told: it would map the préfecture's network.
        assert str(answer[-1]) not in refused["detail"]
    resolves[NAME] = [PUBLIC, ipaddress.ip_address("2606:4700::1111")]
    agent.post(
        "/api/v1/webhooks", 201, json={"url": f"https://{NAME}/", "events": ["dossier.filed"]}
    )


def test_the_allow_list_is_by_host_and_port(api: Callable[[str], Api], receiver: Receiver) -> None:
    agent = api("agent.sdis-65@test.fr")
    # The receiver's address and port are listed; its address on another port is not, nor
    # a name that leads to it.
    agent.post("/api/v1/webhooks", 201, json={"url": receiver.url, "events": ["dossier.filed"]})
    for url in ("http://127.0.0.1:8399/hooks", f"http://localhost:{receiver.port}/hooks"):
        agent.post("/api/v1/webhooks", 422, json={"url": url, "events": ["dossier.filed"]})


def test_https_is_required_outside_demo_except_for_allowed_hosts(
    db: Any,
    accounts: dict[str, str],
    receiver: Receiver,
    resolves: dict[str, list[Any]],
    allow: Callable[[str], None],
) -> None:
    resolves[NAME] = [PUBLIC]
    allow(receiver.allowed_host)
    settings = Settings(database_url=db.url, demo=False, secret_key="k" * 40)
    with TestClient(create_app(settings)) as production:
        agent = Api(production, "agent.sdis-65@test.fr")
        refused = agent.post(
            "/api/v1/webhooks", 422, json={"url": f"http://{NAME}/", "events": ["dossier.filed"]}
        )
        assert "https est obligatoire" in refused["detail"]
        agent.post(
            "/api/v1/webhooks", 201, json={"url": f"https://{NAME}/", "events": ["dossier.filed"]}
        )
        # The operator's loopback receiver is allow-listed: plain http is accepted there.
        agent.post("/api/v1/webhooks", 201, json={"url": receiver.url, "events": ["dossier.filed"]})


def test_a_name_rebound_to_loopback_is_refused_at_delivery(
    api: Callable[[str], Api],
    receiver: Receiver,
    other: Receiver,
    resolves: dict[str, list[Any]],
    allow: Callable[[str], None],
) -> None:
    agent = api("agent.sdis-65@test.fr")
    resolves[NAME] = [PUBLIC]  # public when subscribed...
    subscription = agent.post(
        "/api/v1/webhooks", 201,
        json={"url": f"http://{NAME}:{receiver.port}/hooks", "events": ["consultation.created"]},
    )  # fmt: skip
    resolves[NAME] = [LOOPBACK]  # ... the receiver's address when delivered
    file_and_launch(api, ["SDIS-65"])
    assert receiver.snapshot() == [] and other.snapshot() == []
    [delivery] = _log(agent, subscription["id"])
    assert delivery["delivered_at"] is None and delivery["last_status"] is None
    assert delivery["last_error"] == "forbidden_address"

    # A public answer followed by a loopback one: every address is checked, not the first.
    resolves[NAME] = [PUBLIC, LOOPBACK]
    agent.post(f"/api/v1/webhooks/{subscription['id']}/deliveries/{delivery['id']}/replay", 202)
    drain()
    assert receiver.snapshot() == []
    assert _log(agent, subscription["id"])[0]["last_error"] == "forbidden_address"

    # Once the operator lists the name, the delivery goes to the address the resolver gave
    # (no other DNS knows this name), the name kept in Host.
    allow(f"{NAME}:{receiver.port}")
    resolves[NAME] = [LOOPBACK]
    agent.post(f"/api/v1/webhooks/{subscription['id']}/deliveries/{delivery['id']}/replay", 202)
    drain()
    [received] = receiver.snapshot()
    assert received["headers"]["Host"] == f"{NAME}:{receiver.port}"
    assert _log(agent, subscription["id"])[0]["delivered_at"] is not None


def test_a_redirection_is_not_followed(
    api: Callable[[str], Api], receiver: Receiver, other: Receiver
) -> None:
    receiver.status, receiver.headers = 302, {"Location": other.url}
    agent = api("agent.sdis-65@test.fr")
    subscription = agent.post(
        "/api/v1/webhooks", 201, json={"url": receiver.url, "events": ["consultation.created"]}
    )
    file_and_launch(api, ["SDIS-65"])
    assert len(receiver.snapshot()) == 1
    assert other.snapshot() == []  # allowed too: only the no-redirect rule kept it away
    [delivery] = _log(agent, subscription["id"])
    assert delivery["last_status"] == 302 and delivery["last_error"] == "redirect"
    assert delivery["delivered_at"] is None


def test_the_log_keeps_nothing_of_the_answer(
    api: Callable[[str], Api], db: Any, receiver: Receiver
) -> None:
    leak = "SECRET-INTERNE-4f1c9a"
    receiver.status, receiver.body = 500, f"<h1>{leak}</h1>".encode()
    receiver.headers = {"X-Internal": leak}
    agent = api("agent.sdis-65@test.fr")
    subscription = agent.post(
        "/api/v1/webhooks", 201,
        json={"url": receiver.url, "events": ["consultation.created", "consultation.answered"]},
    )  # fmt: skip
    file_and_launch(api, ["SDIS-65"])
    path = f"/api/v1/webhooks/{subscription['id']}/deliveries"
    # The first delivery must have met the 500 before the receiver answers 200 (on a loaded
    # machine the relay may not have tried yet when the launch returns).
    deadline = time.monotonic() + 120
    while not any(
        d["last_error"] == "http_status"
        for d in agent.client.get(path, headers=agent.headers).json()
    ):
        assert time.monotonic() < deadline, "the first delivery was never tried"
        drain()
        time.sleep(0.2)
    receiver.status = 200  # a 2xx answer's body is not kept either
    _answer_opinion(api)
    log = agent.client.get(
        f"/api/v1/webhooks/{subscription['id']}/deliveries", headers=agent.headers
    )
    assert log.status_code == 200 and len(log.json()) == 2
    assert {d["last_error"] for d in log.json()} == {"http_status", None}
    assert leak not in log.text
    with db.engine.connect() as connection:
        for table in ("webhook_deliveries", "outbox_messages"):
            rows = connection.execute(text(f"SELECT * FROM {table}")).all()
            assert rows and leak not in repr(rows), table


def _admin(db: Any, client: TestClient) -> Api:
    """The administrator of the accounts fixture, signed in."""
    return Api(client, "admin@test.fr")


def test_a_paused_subscription_gets_nothing_and_its_queue_is_skipped(
    api: Callable[[str], Api], receiver: Receiver
) -> None:
    agent = api("agent.sdis-65@test.fr")
    subscription = agent.post(
        "/api/v1/webhooks", 201,
        json={"url": receiver.url, "events": ["consultation.created", "consultation.answered"]},
    )  # fmt: skip
    path = f"/api/v1/webhooks/{subscription['id']}"
    receiver.status = 503  # the first delivery fails: it waits in the queue for a retry
    file_and_launch(api, ["SDIS-65"])
    [queued] = _log(agent, subscription["id"])
    assert queued["delivered_at"] is None and queued["skipped_at"] is None

    paused = agent.request("PATCH", path, 200, json={"active": False})
    assert paused["active"] is False and paused["secret"] is None
    assert agent.get("/api/v1/webhooks")[0]["active"] is False
    [skipped] = _log(agent, subscription["id"])
    assert skipped["skipped_at"] is not None and skipped["delivered_at"] is None
    replay = f"{path}/deliveries/{queued['id']}/replay"
    assert "pause" in agent.post(replay, 409)["detail"]

    receiver.status = 200
    received = len(receiver.snapshot())
    _answer_opinion(api)  # an event while paused: not sent, not logged
    assert len(receiver.snapshot()) == received
    assert [d["event"] for d in _log(agent, subscription["id"])] == ["consultation.created"]

    resumed = agent.request("PATCH", path, 200, json={"active": True})
    assert resumed["active"] is True
    agent.request("PATCH", path, 200, json={"active": True})  # idempotent
    drain()
    assert len(receiver.snapshot()) == received  # resuming resends nothing by itself
    agent.post(replay, 202)  # ... the skipped delivery can be replayed by hand
    drain()
    [replayed] = _log(agent, subscription["id"])
    assert replayed["delivered_at"] is not None and replayed["skipped_at"] is None


def test_a_pause_takes_a_strict_boolean(api: Callable[[str], Api], receiver: Receiver) -> None:
    agent = api("agent.sdis-65@test.fr")
    subscription = agent.post(
        "/api/v1/webhooks", 201, json={"url": receiver.url, "events": ["dossier.filed"]}
    )
    path = f"/api/v1/webhooks/{subscription['id']}"
    for body in ({"active": "false"}, {"active": 0}, {}, {"active": None}, [False],
                 {"active": True, "url": "http://127.0.0.1/"}):  # fmt: skip
        agent.request("PATCH", path, 422, json=body)
    assert agent.get("/api/v1/webhooks")[0] == {**subscription, "secret": None}


def test_a_deleted_subscription_gets_nothing_and_its_log_goes(
    api: Callable[[str], Api], db: Any, receiver: Receiver
) -> None:
    agent = api("agent.sdis-65@test.fr")
    subscription = agent.post(
        "/api/v1/webhooks", 201, json={"url": receiver.url, "events": ["consultation.created"]}
    )
    receiver.status = 500  # a delivery left to retry when the subscription goes
    file_and_launch(api, ["SDIS-65"])
    assert len(_log(agent, subscription["id"])) == 1
    path = f"/api/v1/webhooks/{subscription['id']}"
    _delete(agent, path, 204)
    assert agent.get("/api/v1/webhooks") == []
    agent.get(f"{path}/deliveries", 404)
    _delete(agent, path, 404)
    agent.request("PATCH", path, 404, json={"active": True})
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM webhook_deliveries")).scalar() == 0
        assert connection.execute(text("SELECT count(*) FROM webhook_subscriptions")).scalar() == 0
    receiver.status = 200
    received = len(receiver.snapshot())
    file_and_launch(api, ["SDIS-65"])  # a new consultation, and the queued retry: nothing sent
    drain()
    assert len(receiver.snapshot()) == received


def test_only_who_manages_a_subscription_pauses_or_deletes_it(
    api: Callable[[str], Api], db: Any, client: TestClient, receiver: Receiver
) -> None:
    agent, admin = api("agent.sdis-65@test.fr"), _admin(db, client)
    mine = agent.post(
        "/api/v1/webhooks", 201, json={"url": receiver.url, "events": ["dossier.filed"]}
    )
    platform = admin.post(
        "/api/v1/webhooks", 201, json={"url": receiver.url, "events": ["dossier.filed"]}
    )
    assert platform["administration"] is None
    outsiders = ["agent.udap-65@test.fr", "holder@test.fr", "referent@test.fr", "manager@test.fr"]
    for email in outsiders:
        someone = api(email)
        for subscription in (mine, platform):
            path = f"/api/v1/webhooks/{subscription['id']}"
            someone.request("PATCH", path, 404, json={"active": False})
            _delete(someone, path, 404)
    # The platform's subscription is not the agent's to manage.
    agent.request("PATCH", f"/api/v1/webhooks/{platform['id']}", 404, json={"active": False})
    _delete(agent, f"/api/v1/webhooks/{platform['id']}", 404)
    assert all(s["active"] for s in admin.get("/api/v1/webhooks"))
    # The admin manages both.
    admin.request("PATCH", f"/api/v1/webhooks/{mine['id']}", 200, json={"active": False})
    _delete(admin, f"/api/v1/webhooks/{platform['id']}", 204)
    assert [(s["id"], s["active"]) for s in admin.get("/api/v1/webhooks")] == [(mine["id"], False)]
    _delete(agent, f"/api/v1/webhooks/{mine['id']}", 204)
    _delete(agent, "/api/v1/webhooks/not-an-id", 404)
