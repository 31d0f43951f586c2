"""The API's edges hold: the token is checked and the body bounded before the body is read,
tokens outliving their lifetime are refused, an unexpected failure is a traceable JSON 500."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import httpx
import jwt
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from accelerator.shared.config import DEMO_SECRET_KEY, Settings
from api.app import create_app
from api.policies import SIGNED_IN
from api.unit_of_work import Router
from tests.api.conftest import HOTEL, Api

MB = 1 << 20
CHUNK = 64 * 1024
FAKE_ID = "0b6f3c1e-8a3e-4c1e-9d2a-2f0c6f1d9e11"


class Stream:
    """A request body streamed in chunks, counting what the server consumed."""

    def __init__(self, total: int, chunk: bytes = b"x" * CHUNK) -> None:
        self.total, self.chunk, self.consumed = total, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.consumed < self.total:
            self.consumed += len(self.chunk)
            yield self.chunk


def send(
    app: FastAPI, method: str, path: str, body: Stream, headers: dict[str, str]
) -> httpx.Response:
    """``method path`` sent to ``app`` in-process, the body streamed as it is read."""

    async def main() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, content=body, headers=headers)

    return anyio.run(main)


def operations_needing_a_user(app: FastAPI) -> list[tuple[str, str]]:
    """Every documented operation that declares the bearer scheme, path ids filled in."""
    found = []
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            if operation.get("security"):
                concrete = path
                for parameter in operation.get("parameters", []):
                    if parameter["in"] == "path":
                        concrete = concrete.replace("{" + parameter["name"] + "}", FAKE_ID)
                found.append((method.upper(), concrete))
    return found


def test_anonymous_gets_401_before_the_body_is_read(client: TestClient) -> None:
    operations = operations_needing_a_user(client.app)  # type: ignore[arg-type]
    assert len(operations) > 20 and ("POST", "/api/v1/dossiers") in operations
    forged = jwt.encode(
        {"sub": FAKE_ID, "iat": int(time.time()), "exp": int(time.time()) + 60},
        "another-key-of-at-least-thirty-two-characters",
        algorithm="HS256",
    )
    for authorization in (None, "Bearer not-a-token", f"Bearer {forged}", "Basic dXNlcjpwdw=="):
        for method, path in operations:
            headers = {"Content-Type": "application/json"}
            if authorization:
                headers["Authorization"] = authorization
            body = Stream(100 * MB)
            response = send(client.app, method, path, body, headers)  # type: ignore[arg-type]
            assert response.status_code == 401, (method, path, authorization, response.text)
            assert response.headers["WWW-Authenticate"] == "Bearer"
            assert body.consumed == 0, (method, path, body.consumed)
            # Malformed JSON, declared length: still authentication first.
            malformed = client.request(method, path, content=b'{"title": ', headers=headers)
            assert malformed.status_code == 401, (method, path, malformed.text)


def test_a_streamed_body_past_the_limit_gets_413_before_more_is_read(client: TestClient) -> None:
    body = Stream(500 * MB)
    headers = {"Content-Type": "application/json"}
    response = send(client.app, "POST", "/api/v1/auth/token", body, headers)  # type: ignore[arg-type]
    assert response.status_code == 413
    detail = response.json()["detail"]
    assert detail.startswith("Corps de la requête trop volumineux : au plus 1 Mo")
    assert response.headers["Connection"] == "close"
    # Refused at the chunk that crossed 1 MB (the last chunk is pulled by the stream itself).
    assert MB < body.consumed <= MB + 2 * CHUNK


def test_a_declared_length_past_the_limit_gets_413_without_reading(
    client: TestClient, api: Callable[[str], Api]
) -> None:
    holder = api("holder@test.fr")
    declared = {"Content-Type": "application/json", "Content-Length": str(100 * MB)}
    for path, headers in (
        ("/api/v1/auth/token", declared),
        ("/api/v1/dossiers", {**declared, **holder.headers}),
    ):
        body = Stream(100 * MB)
        response = send(client.app, "POST", path, body, headers)  # type: ignore[arg-type]
        assert response.status_code == 413, (path, response.text)
        assert body.consumed == 0
    # Signed in, a body just past the limit in one piece: 413, not a 422 about its content.
    big = {**HOTEL, "description": "x" * (MB + 1)}
    refused = holder.post("/api/v1/dossiers", 413, json=big)
    assert "trop volumineux" in refused["detail"]
    holder.post("/api/v1/dossiers", 201, json=HOTEL)


def test_the_limit_is_a_setting(db: Any) -> None:
    app = create_app(Settings(database_url=db.url, demo=True, max_json_body_bytes=2048))
    with TestClient(app) as small:
        credentials = {"email": "x@test.fr", "password": "y" * 900}
        assert small.post("/api/v1/auth/token", json=credentials).status_code == 401
        credentials["password"] = "y" * 3000
        refused = small.post("/api/v1/auth/token", json=credentials)
        assert refused.status_code == 413 and "2 Ko (2048 octets)" in refused.json()["detail"]


def test_a_route_can_declare_a_larger_limit(db: Any) -> None:
    from api.limits import body_limit

    router = Router()

    @router.post("/upload-test", policy=SIGNED_IN)
    @body_limit(3 * MB)
    async def upload(request: Request) -> dict[str, int]:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return {"size": size}

    app = create_app(Settings(database_url=db.url, demo=True))
    app.include_router(router)
    accepted = send(app, "POST", "/upload-test", Stream(2 * MB), {})
    assert accepted.status_code == 200 and accepted.json() == {"size": 2 * MB}
    body = Stream(10 * MB)
    refused = send(app, "POST", "/upload-test", body, {})
    assert refused.status_code == 413 and "3 Mo" in refused.json()["detail"]
    assert body.consumed <= 3 * MB + 2 * CHUNK


@pytest.fixture
def live(db: Any) -> Iterator[tuple[FastAPI, int]]:
    """The app served by a real uvicorn on a free loopback port."""
    app = create_app(Settings(database_url=db.url, demo=True))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield app, port
    server.should_exit = True
    thread.join(10)


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


def _read_response(connection: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length read from ``connection``."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = connection.recv(65536)
        assert more, f"connection closed before a full answer: {data!r}"
        data += more
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        more = connection.recv(65536)
        assert more
        rest += more
    return int(lines[0].split()[1]), headers, rest[:length]


def test_an_anonymous_500_mb_upload_is_cut_short_on_a_real_server(
    live: tuple[FastAPI, int],
) -> None:
    _app, port = live
    before = _rss()
    sent = 0
    chunk = b"x" * CHUNK
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(
            b"POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        connection.setblocking(False)
        pending = b""
        while sent < 500 * MB:
            if not pending:
                pending, sent = framed, sent + len(chunk)
            try:
                pending = pending[connection.send(pending) :]
            except BlockingIOError:
                time.sleep(0.001)
            except (BrokenPipeError, ConnectionResetError):
                break
            try:
                if connection.recv(1, socket.MSG_PEEK) is not None:
                    break  # answered (or closed): stop sending
            except BlockingIOError:
                pass
        connection.settimeout(30)
        if sent >= 500 * MB:
            connection.sendall(pending + b"0\r\n\r\n")  # all sent: end the body
        status, headers, body = _read_response(connection)
    assert status == 413 and headers["connection"] == "close"
    assert "trop volumineux" in json.loads(body)["detail"]
    # The server stopped reading: what it took is the limit plus the socket buffers.
    assert sent < 40 * MB, sent
    assert _rss() - before < 20 * MB


def _token(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, DEMO_SECRET_KEY, algorithm="HS256")


def test_tokens_must_carry_their_claims_and_live_no_longer_than_configured(
    api: Callable[[str], Api],
) -> None:
    holder = api("holder@test.fr")
    subject = jwt.decode(
        holder.headers["Authorization"].removeprefix("Bearer "),
        DEMO_SECRET_KEY,
        algorithms=["HS256"],
    )["sub"]
    now = int(time.time())
    lifetime = Settings(demo=True).token_lifetime_minutes * 60
    refused = {
        "no exp": {"sub": subject, "iat": now},
        "no iat": {"sub": subject, "exp": now + 600},
        "no sub": {"iat": now, "exp": now + 600},
        "exp in 9999": {
            "sub": subject,
            "iat": now,
            "exp": int(dt.datetime(9999, 1, 1, tzinfo=dt.UTC).timestamp()),
        },
        "longer than the lifetime": {"sub": subject, "iat": now - 60, "exp": now + lifetime + 600},
        "issued in the future": {"sub": subject, "iat": now + 3600, "exp": now + 3700},
        "exp not a number": {"sub": subject, "iat": now, "exp": "demain"},
        "sub not a user id": {"sub": "admin", "iat": now, "exp": now + 600},
    }
    for case, claims in refused.items():
        response = holder.client.get(
            "/api/v1/dossiers", headers={"Authorization": f"Bearer {_token(claims)}"}
        )
        assert response.status_code == 401, (case, response.text)
        assert response.json()["detail"] == "Jeton d'accès invalide.", case
    valid = _token({"sub": subject, "iat": now, "exp": now + lifetime})
    ok = holder.client.get("/api/v1/dossiers", headers={"Authorization": f"Bearer {valid}"})
    assert ok.status_code == 200
    expired = _token({"sub": subject, "iat": now - 7200, "exp": now - 3600})
    late = holder.client.get("/api/v1/dossiers", headers={"Authorization": f"Bearer {expired}"})
    assert late.status_code == 401 and "expirée" in late.json()["detail"]


def _failing_route(app: FastAPI) -> None:
    def fail() -> None:
        raise RuntimeError("secret internal detail")

    app.add_api_route("/boom-test", fail, methods=["GET"])


def test_an_unexpected_failure_is_a_traceable_json_500(
    api: Callable[[str], Api], json_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    admin = api("admin@test.fr")
    _failing_route(admin.client.app)  # type: ignore[arg-type]
    response = admin.client.get("/boom-test", headers={"X-Request-ID": "incident-7"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.headers["X-Request-ID"] == "incident-7"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    detail = response.json()["detail"]
    assert detail.startswith("Erreur interne : ") and detail.endswith("(référence incident-7).")
    assert "secret internal detail" not in response.text
    lines = [line for line in json_lines() if line.get("request_id") == "incident-7"]
    [access] = [line for line in lines if line["logger"] == "accelerator.api.access"]
    assert access["status"] == 500 and access["route"] == "/boom-test"
    assert any("secret internal detail" in line.get("exception", "") for line in lines)
    metrics = admin.client.get("/metrics", headers=admin.headers).text
    assert 'method="GET",route="/boom-test",status="500"' in metrics


def test_a_500_keeps_the_connection_open(live: tuple[FastAPI, int]) -> None:
    app, port = live
    _failing_route(app)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(b"GET /boom-test HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        status, headers, body = _read_response(connection)
        assert status == 500 and headers["content-type"] == "application/json"
        assert "référence" in json.loads(body)["detail"]
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        status, _, body = _read_response(connection)
        assert status == 200 and json.loads(body) == {"status": "ok"}


def test_an_unsafe_request_id_is_replaced(client: TestClient) -> None:
    for unsafe in ("x" * 65, "a b", "évènement".encode(), "id\x01", "a\tb"):
        response = client.get("/healthz", headers={"X-Request-ID": unsafe})
        assert response.headers["X-Request-ID"] != unsafe
        assert len(response.headers["X-Request-ID"]) == 32
    assert client.get("/healthz", headers={"X-Request-ID": "ok-1.2_3"}).headers["X-Request-ID"] == (
        "ok-1.2_3"
    )


def test_metrics_answer_only_an_admin_or_the_scrape_token(
    api: Callable[[str], Api], db: Any
) -> None:
    admin = api("admin@test.fr")
    client = admin.client
    assert client.get("/metrics").status_code == 401
    for email in ("holder@test.fr", "referent@test.fr", "agent.sdis-65@test.fr", "manager@test.fr"):
        refused = client.get("/metrics", headers=api(email).headers)
        assert refused.status_code == 403, email
        assert "accelerator_" not in refused.text
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    shown = client.get("/metrics", headers=admin.headers)
    assert shown.status_code == 200 and "accelerator_outbox_lag_seconds" in shown.text
    # Demo mode has a scrape token of its own; outside it there is none unless configured.
    demo = Settings(demo=True).metrics_scrape_token
    assert demo is not None
    scraped = client.get("/metrics", headers={"Authorization": f"Bearer {demo}"})
    assert scraped.status_code == 200
    production = Settings(database_url=db.url, secret_key="k" * 40, demo=False, metrics_token=None)
    assert production.metrics_scrape_token is None
    with TestClient(create_app(production)) as closed:
        refused = closed.get("/metrics", headers={"Authorization": f"Bearer {demo}"})
        assert refused.status_code == 401
    token = uuid.uuid4().hex * 2
    configured = Settings(database_url=db.url, secret_key="k" * 40, metrics_token=token)
    with TestClient(create_app(configured)) as open_to_scraper:
        ok = open_to_scraper.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and "accelerator_outbox_lag_seconds" in ok.text
    with pytest.raises(ValueError):
        Settings(metrics_token="short")
