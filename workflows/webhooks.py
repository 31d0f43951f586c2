"""Deliver webhook events: signed HTTP POSTs, retried with the outbox's backoff.

Signature: ``X-Accelerator-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.
A receiver recomputes it over the raw body and refuses old timestamps (replays). The event id
(``X-Accelerator-Event-Id``) is the outbox message's: receivers deduplicate on it.

Against server-side request forgery, each delivery goes through ``GuardedBackend``: at
connection time it resolves the host, checks EVERY address with the policy of
``accelerator.webhooks.targets`` (the same as at subscription: a name may now resolve to
127.0.0.1, DNS rebinding) and connects to a checked address only, then verifies the peer of
the socket is that address. TLS keeps the name (SNI, certificate) and so does ``Host``. No
redirect is followed (httpcore follows none: a 3xx is a failed delivery), no proxy from the
environment is used, and nothing of the answer is read but its status line and headers, in a
bounded time and size. The log keeps the status and an error class, never the body or an
exception's text, which could echo what the target answered.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import ssl
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpcore
from sqlalchemy.orm import Session

from accelerator.shared.addresses import Address
from accelerator.shared.config import get_settings
from accelerator.shared.db import utcnow
from accelerator.webhooks.actions import fan_out, record_attempt, to_send
from accelerator.webhooks.targets import (
    DeliveryError,
    Policy,
    Target,
    TargetRefused,
    check,
    parse_target,
)
from workflows.steps import in_transaction

log = logging.getLogger("accelerator.webhooks")

#: Seconds to open the connection (TCP and TLS), and for each read or write.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
#: The whole attempt, whatever a slow receiver does byte after byte.
DEADLINE = 20.0
#: Most bytes read of an answer (its headers; the body is not read).
MAX_RESPONSE_BYTES = 64 * 1024


class ResponseTooLarge(Exception):
    """The receiver sent more than ``MAX_RESPONSE_BYTES`` before its headers ended."""


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def bound(self, timeout: float | None, error: type[Exception]) -> float:
        remaining = self.end - time.monotonic()
        if remaining <= 0:
            raise error("webhook delivery deadline reached")
        return remaining if timeout is None else min(timeout, remaining)


class GuardedStream(httpcore.NetworkStream):
    """A connection whose reads and writes share one deadline and whose reads are bounded."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self.inner = inner
        self.deadline = deadline
        self.received = 0

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Read, within the deadline and the size bound."""
        data = self.inner.read(max_bytes, self.deadline.bound(timeout, httpcore.ReadTimeout))
        self.received += len(data)
        if self.received > MAX_RESPONSE_BYTES:
            raise ResponseTooLarge
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Write, within the deadline."""
        self.inner.write(buffer, self.deadline.bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        """Close the connection."""
        self.inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        """TLS over this connection; ``server_hostname`` is the URL's name (SNI, certificate)."""
        timeout = self.deadline.bound(timeout, httpcore.ConnectTimeout)
        tls = self.inner.start_tls(ssl_context, server_hostname, timeout)
        return GuardedStream(tls, self.deadline)

    def get_extra_info(self, info: str) -> Any:
        """What the wrapped connection tells."""
        return self.inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Opens the connection of one delivery: to an address of ``target`` that ``policy``
    allows, resolved now; nothing else."""

    def __init__(
        self,
        target: Target,
        policy: Policy,
        deadline: _Deadline,
        inner: httpcore.NetworkBackend | None = None,
    ) -> None:
        self.target = target
        self.policy = policy
        self.deadline = deadline
        self.inner = inner or httpcore.SyncBackend()
        #: The address connected to, once connected.
        self.connected: Address | None = None

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        """Resolve, check every address, connect to the first checked one that answers."""
        if (host, port) != (self.target.host, self.target.port):  # the pool asks for no other
            raise TargetRefused(DeliveryError.FORBIDDEN_ADDRESS, "unexpected origin")
        addresses = check(self.target, self.policy)
        failure: Exception | None = None
        for address in addresses:
            try:
                stream = self.inner.connect_tcp(
                    str(address),
                    port,
                    timeout=self.deadline.bound(timeout, httpcore.ConnectTimeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
                continue
            if not _connected_to(stream, address, port):
                stream.close()
                raise TargetRefused(DeliveryError.FORBIDDEN_ADDRESS, "peer is not the address")
            self.connected = address
            return GuardedStream(stream, self.deadline)
        assert failure is not None  # check() returns at least one address
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        """Never: webhooks go over TCP only."""
        raise TargetRefused(DeliveryError.FORBIDDEN_ADDRESS, "no unix socket")

    def sleep(self, seconds: float) -> None:
        """Wait (httpcore's retries; there are none here)."""
        self.inner.sleep(seconds)


def _connected_to(stream: httpcore.NetworkStream, address: Address, port: int) -> bool:
    """Whether the socket's peer is ``address``: what was checked is what was connected."""
    sock = stream.get_extra_info("socket")
    if sock is None:
        return False
    try:
        peer = sock.getpeername()
    except OSError:
        return False
    host = str(peer[0]).split("%", 1)[0]
    try:
        return (type(address)(host), int(peer[1])) == (address, port)
    except ValueError:
        return False


@dataclass(frozen=True)
class Outcome:
    """What one attempt gave: the HTTP status if an answer came, and the error class."""

    status: int | None
    error: DeliveryError | None


def _classify(failure: BaseException) -> DeliveryError:
    """The error class of an exception raised while sending (its text is never kept)."""
    if isinstance(failure, TargetRefused):
        return failure.reason
    if isinstance(failure, ResponseTooLarge):
        return DeliveryError.RESPONSE_TOO_LARGE
    causes: list[BaseException] = []
    cause: BaseException | None = failure
    while cause is not None and len(causes) < 10:
        causes.append(cause)
        cause = cause.__cause__ or cause.__context__
    if any(isinstance(c, ssl.SSLError) for c in causes):
        return DeliveryError.TLS
    if isinstance(failure, httpcore.TimeoutException):
        return DeliveryError.TIMEOUT
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return DeliveryError.CONNECTION_REFUSED
    if isinstance(failure, httpcore.NetworkError):
        return DeliveryError.CONNECTION
    if isinstance(failure, httpcore.ProtocolError):
        return DeliveryError.PROTOCOL
    return DeliveryError.UNEXPECTED


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    policy: Policy,
    backend: httpcore.NetworkBackend | None = None,
) -> Outcome:
    """POST ``body`` to ``url`` if ``policy`` allows where it leads, now; read only the status.

    ``backend``: the network under the guard (tests put a misbehaving one there)."""
    try:
        target = parse_target(url)
    except TargetRefused as refused:
        return Outcome(None, refused.reason)
    deadline = _Deadline(DEADLINE)
    request_headers = [
        ("Host", target.host_header),
        ("Content-Length", str(len(body))),
        ("Connection", "close"),
        *headers.items(),
    ]
    pool = httpcore.ConnectionPool(
        network_backend=GuardedBackend(target, policy, deadline, backend),
        max_connections=1,
        max_keepalive_connections=0,
        retries=0,
    )
    request_url = httpcore.URL(
        scheme=target.scheme.encode(), host=target.host.encode(), port=target.port,
        target=target.path,
    )  # fmt: skip
    timeouts = {"connect": CONNECT_TIMEOUT, "read": READ_TIMEOUT, "write": READ_TIMEOUT}
    try:
        with (
            pool,
            pool.stream(
                "POST",
                request_url,
                headers=request_headers,
                content=body,
                extensions={"timeout": {**timeouts, "pool": CONNECT_TIMEOUT}},
            ) as response,  # fmt: skip
        ):
            status = response.status  # the body is never read: closing drops the connection
    except Exception as failure:
        error = _classify(failure)
        if error is DeliveryError.UNEXPECTED:  # a defect of ours: the type helps, not the text
            log.error("webhook delivery: unexpected %s", type(failure).__name__)
        return Outcome(None, error)
    if 200 <= status < 300:
        return Outcome(status, None)
    if 300 <= status < 400:
        return Outcome(status, DeliveryError.REDIRECT)
    return Outcome(status, DeliveryError.HTTP_STATUS)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


@dataclass(frozen=True)
class Prepared:
    """What one attempt sends (read in one transaction, sent outside any)."""

    url: str
    secret: str
    event: str
    event_id: str
    body: bytes


def _prepared(session: Session, *, delivery_id: uuid.UUID) -> Prepared | None:
    found = to_send(session, delivery_id=delivery_id, now=utcnow())
    if found is None:
        return None
    delivery, subscription = found
    payload = delivery.payload
    body = json.dumps(
        {
            "id": str(delivery.event_id),
            "event": delivery.event,
            "occurred_at": payload.get("occurred_at"),
            "dossier": {"id": payload.get("dossier_id"), "reference": payload.get("reference")},
            "administration": payload.get("administration"),
            "data": payload.get("data", {}),
        },
        ensure_ascii=False,
        sort_keys=True,
    ).encode()
    return Prepared(
        subscription.url, subscription.secret, delivery.event, str(delivery.event_id), body
    )


def send(delivery_id: uuid.UUID) -> bool:
    """POST one delivery and log the attempt; True when the receiver answered 2xx, or when
    there is nothing to send (subscription paused: the delivery is marked skipped; deleted)."""
    prepared = in_transaction(functools.partial(_prepared, delivery_id=delivery_id))
    if prepared is None:
        return True
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Accelerateur-Webhooks/1",
        "X-Accelerator-Event": prepared.event,
        "X-Accelerator-Event-Id": prepared.event_id,
        "X-Accelerator-Delivery": str(delivery_id),
        "X-Accelerator-Signature": sign(prepared.secret, timestamp, prepared.body),
    }
    outcome = post(
        prepared.url, prepared.body, headers, policy=Policy.from_settings(get_settings())
    )
    if outcome.error is not None:
        log.warning(
            "webhook delivery %s failed: %s (status %s)", delivery_id, outcome.error, outcome.status
        )
    in_transaction(
        functools.partial(
            record_attempt,
            delivery_id=delivery_id,
            status=outcome.status,
            error=outcome.error,
            now=utcnow(),
        )
    )
    return outcome.error is None


def deliver(message_id: uuid.UUID, payload: dict[str, Any]) -> None:
    """Fan an event out and send every pending delivery; raise so the outbox retries failures."""
    pending = in_transaction(
        functools.partial(fan_out, event_id=message_id, payload=payload, now=utcnow())
    )
    failed = [delivery_id for delivery_id in pending if not send(delivery_id)]
    if failed:
        raise RuntimeError(f"{len(failed)} webhook delivery(ies) failed; will retry")


def replay(_message_id: uuid.UUID, payload: dict[str, Any]) -> None:
    """Send one delivery again on request (even if it was delivered)."""
    send(uuid.UUID(payload["delivery_id"]))
