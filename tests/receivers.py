"""A real webhook receiver on loopback, and the checks a subscriber makes of what it gets."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """An HTTP server that records every webhook it receives and answers ``status``, with
    ``headers`` and ``body`` (e.g. a redirection, or text the log must not keep)."""

    def __init__(
        self, status: int = 204, *, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = status
        self.headers = headers or {}
        self.body = body
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.received.append({"headers": dict(self.headers), "body": body})
                self.send_response(receiver.status)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port: int = self.server.server_address[1]
        #: What ``ACCELERATOR_WEBHOOK_ALLOWED_HOSTS`` must hold for webhooks to reach it.
        self.allowed_host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.allowed_host}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def snapshot(self) -> list[dict[str, Any]]:
        """What was received so far."""
        with self.lock:
            return list(self.received)

    def events(self) -> list[str]:
        """The event names received, in order."""
        return [event_of(record)["event"] for record in self.snapshot()]

    def stop(self) -> None:
        self.server.shutdown()


def valid_signature(secret: str, record: dict[str, Any]) -> bool:
    """Whether a received webhook carries a valid ``t=…,v1=HMAC-SHA256`` signature."""
    header = record["headers"]["X-Accelerator-Signature"]
    fields = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(
        secret.encode(), fields["t"].encode() + b"." + record["body"], hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


def event_of(record: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of a received webhook."""
    parsed: dict[str, Any] = json.loads(record["body"])
    return parsed
