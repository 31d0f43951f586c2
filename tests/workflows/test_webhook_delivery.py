"""One webhook attempt against real loopback servers that misbehave: it is bounded in time
and size, follows nothing, keeps an error class, and connects only where it checked."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpcore
import pytest

from accelerator.shared.addresses import AllowList
from accelerator.webhooks import targets
from accelerator.webhooks.targets import DeliveryError, Policy
from tests.receivers import Receiver
from workflows import webhooks
from workflows.webhooks import post

#: Loopback allowed (as the tests' receivers are), plain http allowed.
LOOPBACK = Policy(AllowList.parse("127.0.0.1"), require_https=False)
HEADERS = {"Content-Type": "application/json"}


class RawServer:
    """A TCP server on loopback whose ``answer(connection)`` does what a test needs."""

    def __init__(self, answer: Callable[[socket.socket], None]) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.stopping = threading.Event()

        def serve() -> None:
            while not self.stopping.is_set():
                try:
                    connection, _ = self.listener.accept()
                except OSError:
                    return
                self.connections += 1
                threading.Thread(target=self._run, args=(answer, connection), daemon=True).start()

        threading.Thread(target=serve, daemon=True).start()

    def _run(self, answer: Callable[[socket.socket], None], connection: socket.socket) -> None:
        with connection, contextlib.suppress(OSError):  # the client hung up: expected
            answer(connection)

    def stop(self) -> None:
        self.stopping.set()
        self.listener.close()


@pytest.fixture
def raw() -> Iterator[Callable[[Callable[[socket.socket], None]], RawServer]]:
    servers: list[RawServer] = []

    def start(answer: Callable[[socket.socket], None]) -> RawServer:
        servers.append(RawServer(answer))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


def test_a_delivery_reaches_an_allowed_receiver(receiver: Receiver) -> None:
    outcome = post(receiver.url, b'{"a": 1}', HEADERS, policy=LOOPBACK)
    assert (outcome.status, outcome.error) == (204, None)
    [received] = receiver.snapshot()
    assert received["body"] == b'{"a": 1}' and received["headers"]["Host"] == receiver.allowed_host


def test_a_receiver_that_never_answers_times_out(
    raw: Callable[..., RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhooks, "READ_TIMEOUT", 0.5)
    server = raw(lambda connection: time.sleep(5))
    started = time.monotonic()
    outcome = post(f"http://127.0.0.1:{server.port}/", b"{}", HEADERS, policy=LOOPBACK)
    assert (outcome.status, outcome.error) == (None, DeliveryError.TIMEOUT)
    assert time.monotonic() - started < 3


def test_a_receiver_answering_byte_after_byte_meets_the_deadline(
    raw: Callable[..., RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each read comes in time; the whole attempt still ends at the deadline."""
    monkeypatch.setattr(webhooks, "DEADLINE", 1.0)

    def drip(connection: socket.socket) -> None:
        connection.recv(65536)
        connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        for _ in range(100):
            connection.sendall(b"a")
            time.sleep(0.05)

    server = raw(drip)
    started = time.monotonic()
    outcome = post(f"http://127.0.0.1:{server.port}/", b"{}", HEADERS, policy=LOOPBACK)
    assert outcome.error is DeliveryError.TIMEOUT
    assert time.monotonic() - started < 2.5


def test_an_endless_answer_is_cut(raw: Callable[..., RawServer]) -> None:
    def flood(connection: socket.socket) -> None:
        connection.recv(65536)
        connection.sendall(b"HTTP/1.1 200 OK\r\n")
        for index in range(10_000):
            connection.sendall(f"X-{index}: {'a' * 1000}\r\n".encode())

    server = raw(flood)
    outcome = post(f"http://127.0.0.1:{server.port}/", b"{}", HEADERS, policy=LOOPBACK)
    assert (outcome.status, outcome.error) == (None, DeliveryError.RESPONSE_TOO_LARGE)


def test_a_200_with_a_huge_body_is_delivered_without_reading_it(
    raw: Callable[..., RawServer],
) -> None:
    sent = []

    def big(connection: socket.socket) -> None:
        connection.recv(65536)
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n")
        for _ in range(10_000):
            connection.sendall(b"b" * 10_000)
            sent.append(1)

    server = raw(big)
    started = time.monotonic()
    outcome = post(f"http://127.0.0.1:{server.port}/", b"{}", HEADERS, policy=LOOPBACK)
    assert (outcome.status, outcome.error) == (200, None)
    assert time.monotonic() - started < 3 and len(sent) < 10_000


def test_a_failed_handshake_is_a_tls_error(raw: Callable[..., RawServer]) -> None:
    def plain(connection: socket.socket) -> None:
        connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 6\r\n\r\nSECRET")

    server = raw(plain)
    outcome = post(f"https://127.0.0.1:{server.port}/", b"{}", HEADERS, policy=LOOPBACK)
    assert (outcome.status, outcome.error) == (None, DeliveryError.TLS)


def test_a_closed_port_is_a_refused_connection() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outcome = post(f"http://127.0.0.1:{port}/", b"{}", HEADERS, policy=LOOPBACK)
    assert outcome.error is DeliveryError.CONNECTION_REFUSED


def test_the_policy_is_applied_at_delivery(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever was accepted when subscribing, the delivery checks again, now."""
    strict = Policy(AllowList(), require_https=True)
    assert post(receiver.url, b"{}", HEADERS, policy=strict).error is (
        DeliveryError.FORBIDDEN_ADDRESS
    )
    answers = {"hooks.example.org": [ipaddress.ip_address("8.8.8.8")]}
    monkeypatch.setattr(targets, "resolve", lambda host, port: answers[host])
    assert post("http://hooks.example.org/", b"{}", HEADERS, policy=strict).error is (
        DeliveryError.HTTPS_REQUIRED
    )
    answers["hooks.example.org"] = [ipaddress.ip_address("127.0.0.1")]
    url = f"http://hooks.example.org:{receiver.port}/hooks"
    only_receiver = Policy(AllowList.parse(receiver.allowed_host), require_https=False)
    assert post(receiver.url, b"{}", HEADERS, policy=only_receiver).error is None
    assert post(url, b"{}", HEADERS, policy=only_receiver).error is (
        DeliveryError.FORBIDDEN_ADDRESS
    )  # the receiver's address, by a name that is not listed
    assert post("http://user:pw@hooks.example.org/", b"{}", HEADERS, policy=LOOPBACK).error is (
        DeliveryError.INVALID_URL
    )
    assert len(receiver.snapshot()) == 1  # the one allowed


class Elsewhere(httpcore.SyncBackend):
    """A network that connects somewhere else than asked (what the peer check is for)."""

    def __init__(self, port: int) -> None:
        self.port = port

    def connect_tcp(self, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        return super().connect_tcp("127.0.0.1", self.port, *args, **kwargs)


def test_the_address_connected_is_the_address_checked(receiver: Receiver) -> None:
    other = Receiver()
    try:
        outcome = post(receiver.url, b"{}", HEADERS, policy=LOOPBACK, backend=Elsewhere(other.port))
    finally:
        other.stop()
    assert outcome.error is DeliveryError.FORBIDDEN_ADDRESS
    assert receiver.snapshot() == [] and other.snapshot() == []
