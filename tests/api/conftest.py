"""API fixtures: an app on the test database, accounts of every role, signed-in clients."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from accelerator.identity.actions import create_user
from accelerator.identity.roles import Role
from accelerator.shared import logs
from accelerator.shared.db import utcnow
from tests.apps import shared_app

PASSWORD = "correct horse battery staple"


class Api:
    """A client signed in as one user; raises with the body on unexpected statuses."""

    def __init__(self, client: TestClient, email: str) -> None:
        self.client = client
        self.email = email
        response = client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    def request(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        """Call ``path`` and check the status."""
        headers = {**self.headers, **kwargs.pop("headers", {})}
        response = self.client.request(method, path, headers=headers, **kwargs)
        assert response.status_code == expect, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json()

    def get(self, path: str, expect: int = 200, **kwargs: Any) -> Any:
        """GET ``path``."""
        return self.request("GET", path, expect, **kwargs)

    def post(self, path: str, expect: int = 200, **kwargs: Any) -> Any:
        """POST ``path``."""
        return self.request("POST", path, expect, **kwargs)

    def patch(self, path: str, expect: int = 200, **kwargs: Any) -> Any:
        """PATCH ``path`` and check the status."""
        return self.request("PATCH", path, expect, **kwargs)


@pytest.fixture
def client(db: Any) -> Iterator[TestClient]:
    """A test client of the session's app on the test database (``tests.apps``)."""
    with shared_app(db.url) as app, TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def accounts(db: Any) -> dict[str, str]:
    """One account per role (two holders in two organisations, two référents, five agents)."""
    specs: list[tuple[str, Role, dict[str, Any]]] = [
        ("holder@test.fr", Role.HOLDER, {"organisation": "Hôtel des Gaves"}),
        ("holder2@test.fr", Role.HOLDER, {"organisation": "Commune de Lourdes"}),
        ("referent@test.fr", Role.REFERENT, {"arrondissements": ["651", "653"]}),
        ("referent2@test.fr", Role.REFERENT, {"arrondissements": ["652"]}),
        ("manager@test.fr", Role.MANAGER, {}),
        ("admin@test.fr", Role.ADMIN, {}),
    ]
    for code in ("UDAP-65", "SDIS-65", "DDT-65", "PREF-65", "DREAL-OCC"):
        specs.append((f"agent.{code.lower()}@test.fr", Role.AGENT, {"administration": code}))
    with db.transaction() as session:
        for email, role, extra in specs:
            create_user(session, email=email, role=role, password=PASSWORD, now=utcnow(), **extra)
    return {email: email for email, _, _ in specs}


@pytest.fixture
def api(client: TestClient, accounts: dict[str, str]) -> Callable[[str], Api]:
    """``api("holder@test.fr")`` → a client signed in as that user."""
    return lambda email: Api(client, email)


@pytest.fixture
def json_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The JSON lines the ``accelerator`` loggers write during the test."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.ContextFilter())
    logger = logging.getLogger("accelerator")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(level)


HOTEL = {
    "title": "Extension de l'hôtel des Thermes à Cauterets",
    "description": "24 chambres de plus, aux abords de l'église classée.",
    "commune_insee": "65138",
    "procedures": ["PC"],
    "attributes": {"public_access_building": True, "near_monument": True},
    "investment_eur": 3_200_000,
    "jobs_created": 12,
}


def file_and_launch(api: Callable[[str], Api], administrations: list[str] | None) -> dict[str, Any]:
    """The hotel filed by holder@, taken in charge by referent@, consultations launched."""
    from workflows.relay import drain

    holder, referent = api("holder@test.fr"), api("referent@test.fr")
    dossier = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    holder.post(f"/api/v1/dossiers/{dossier['id']}/file")
    drain()
    referent.post(f"/api/v1/dossiers/{dossier['id']}/take-charge")
    body = None if administrations is None else {"administrations": administrations}
    referent.post(f"/api/v1/dossiers/{dossier['id']}/consultations", 202, json=body)
    drain()
    result: dict[str, Any] = referent.get(f"/api/v1/dossiers/{dossier['id']}")
    return result
