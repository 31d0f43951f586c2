"""GET /api/v1/metrics/packs/{week}.pdf and .html: managers and admins only, a real PDF, the
HTML under its own content security policy, documented in the OpenAPI document."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from reports.weekly import CONTENT_SECURITY_POLICY
from tests.api.conftest import Api
from tests.metrics_dataset import build


@pytest.fixture
def history(db: Any, accounts: dict[str, str]) -> Any:
    return build(db)


@pytest.mark.parametrize("email", ["manager@test.fr", "admin@test.fr"])
def test_managers_and_admins_get_the_pdf(
    api: Callable[[str], Api], history: Any, email: str
) -> None:
    caller = api(email)
    response = caller.client.get("/api/v1/metrics/packs/2026-W24.pdf", headers=caller.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert 'filename="revue-2026-W24.pdf"' in response.headers["content-disposition"]
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert "La moitié en moins de 7,0 j, 90 % en moins de 7,0 j." in text


def test_the_html_pack_brings_its_own_policy(api: Callable[[str], Api], history: Any) -> None:
    manager = api("manager@test.fr")
    response = manager.client.get("/api/v1/metrics/packs/2026-W29.html", headers=manager.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "Consultations en retard (1)" in response.text


@pytest.mark.parametrize("email", ["holder@test.fr", "agent.ddt-65@test.fr", "referent@test.fr"])
def test_others_are_refused(api: Callable[[str], Api], email: str) -> None:
    for suffix in ("pdf", "html"):
        body = api(email).get(f"/api/v1/metrics/packs/2026-W24.{suffix}", 403)
        assert "pilotage" in body["detail"]


def test_anonymous_callers_sign_in_first(client: TestClient) -> None:
    assert client.get("/api/v1/metrics/packs/2026-W24.pdf").status_code == 401


@pytest.mark.parametrize(
    ("week", "message"),
    [("2026-48", None), ("2025-W53", "inexistante"), ("2100-W01", "pas encore commencé")],
)
def test_bad_weeks_are_refused(
    api: Callable[[str], Api], accounts: dict[str, str], week: str, message: str | None
) -> None:
    body = api("manager@test.fr").get(f"/api/v1/metrics/packs/{week}.pdf", 422)
    if message is not None:
        assert message in body["detail"]


def test_the_pack_routes_are_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    pdf = paths["/api/v1/metrics/packs/{week}.pdf"]["get"]
    assert "application/pdf" in pdf["responses"]["200"]["content"]
    assert {"401", "403", "422"} <= set(pdf["responses"])
    html = paths["/api/v1/metrics/packs/{week}.html"]["get"]
    assert "text/html" in html["responses"]["200"]["content"]
    [week] = [p for p in pdf["parameters"] if p["name"] == "week"]
    assert week["in"] == "path" and week["schema"]["pattern"] == "^[0-9]{4}-W[0-9]{2}$"
