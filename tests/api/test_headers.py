"""Every answer carries the security headers; /docs and /redoc load nothing from elsewhere."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from accelerator.shared.config import Settings
from api.app import create_app
from tests.api.conftest import HOTEL, PASSWORD, Api


def _directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in policy.split(";"):
        name, *values = directive.split()
        parsed[name] = values
    return parsed


def _assert_secure(response: Any, *, what: str) -> None:
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff", what
    assert headers["X-Frame-Options"] == "DENY", what
    assert headers["Referrer-Policy"] in ("no-referrer", "strict-origin-when-cross-origin"), what
    policy = _directives(headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"], what
    assert policy["frame-ancestors"] == ["'none'"], what
    scripts = policy.get("script-src", policy["default-src"])
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, what
    assert not any(s.startswith(("http:", "https:", "*")) for v in policy.values() for s in v)


def _answers(client: TestClient, holder: Api) -> dict[str, Any]:
    """One answer of every kind: success, each error, documentation, assets."""
    app: FastAPI = client.app  # type: ignore[assignment]

    def fail() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/boom-headers", fail, methods=["GET"])
    big = {"content": b"x" * (2 << 20), "headers": {"Content-Type": "application/json"}}
    return {
        "200 signed in": client.get("/api/v1/dossiers", headers=holder.headers),
        "201 signed in": client.post("/api/v1/dossiers", json=HOTEL, headers=holder.headers),
        "200 anonymous": client.get("/healthz"),
        "401": client.get("/api/v1/dossiers"),
        "404 signed in": client.get("/api/v1/dossiers/nope", headers=holder.headers),
        "404 unknown route": client.get("/nowhere"),
        "405": client.delete("/api/v1/dossiers"),
        "413": client.post("/api/v1/auth/token", **big),
        "422": client.post("/api/v1/dossiers", json={}, headers=holder.headers),
        "500": client.get("/boom-headers"),
        "openapi": client.get("/openapi.json"),
        "docs": client.get("/docs"),
        "redoc": client.get("/redoc"),
        "asset": client.get("/docs/assets/swagger-ui-bundle.js"),
    }


def test_every_answer_carries_the_security_headers(
    client: TestClient, api: Callable[[str], Api]
) -> None:
    holder = api("holder@test.fr")
    for what, response in _answers(client, holder).items():
        _assert_secure(response, what=what)
        # The demo runs on plain http://127.0.0.1: no HSTS there.
        assert "Strict-Transport-Security" not in response.headers, what


def test_authenticated_answers_are_never_stored(
    client: TestClient, api: Callable[[str], Api]
) -> None:
    holder = api("holder@test.fr")
    for what, response in _answers(client, holder).items():
        if "signed in" in what or what in ("401", "422"):
            assert response.headers["Cache-Control"] == "no-store", what
    forged = client.get("/api/v1/dossiers", headers={"Authorization": "Bearer x"})
    assert forged.headers["Cache-Control"] == "no-store"
    token = client.post(
        "/api/v1/auth/token", json={"email": "holder@test.fr", "password": PASSWORD}
    )
    assert token.status_code == 200 and token.headers["Cache-Control"] == "no-store"


def test_hsts_outside_demo_mode(db: Any) -> None:
    settings = Settings(database_url=db.url, demo=False, secret_key="k" * 40)
    with TestClient(create_app(settings)) as client:
        for path in ("/healthz", "/nowhere", "/docs"):
            hsts = client.get(path).headers["Strict-Transport-Security"]
            assert re.fullmatch(r"max-age=(\d+); includeSubDomains", hsts), path
            assert int(hsts.split("=")[1].split(";")[0]) >= 31_536_000


class _Page(HTMLParser):
    """The scripts, styles and URLs of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            self._in_script = "src" not in values
        for name in ("src", "href"):
            if values.get(name):
                self.sources.append(str(values[name]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts.append(data)


def test_docs_load_nothing_from_another_host(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        response = client.get(page)
        assert response.status_code == 200 and response.headers["content-type"].startswith(
            "text/html"
        )
        assert not re.search(r"https?://", response.text), page
        parsed = _Page()
        parsed.feed(response.text)
        assert parsed.inline_scripts == [], page
        assert parsed.sources, page
        for source in parsed.sources:
            assert source.startswith("/") and not source.startswith("//"), source
            asset = client.get(source)
            assert asset.status_code == 200 and asset.content, source
            assert asset.headers["X-Content-Type-Options"] == "nosniff"
        policy = _directives(response.headers["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"]
    init = client.get("/docs/assets/swagger-init.js").text
    assert "SwaggerUIBundle(" in init and "validatorUrl: null" in init
    assert client.get("/docs/assets/../app.py").status_code == 404
    assert client.get("/docs/assets/unknown.js").status_code == 404
