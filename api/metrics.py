"""``/metrics`` in Prometheus format: outbox lag and deliveries (read from the database at
scrape time, so every API process reports the same), and this process's request latencies."""

from __future__ import annotations

import hmac
import logging
import re
import time
import uuid

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accelerator.identity.roles import Role, require_role
from accelerator.notifications.queries import emails_sent
from accelerator.outbox.queries import outbox_health
from accelerator.shared import logs
from accelerator.shared.config import Settings
from accelerator.shared.db import Database, utcnow
from accelerator.shared.text import t
from accelerator.webhooks.queries import delivery_figures
from api import policies
from api.deps import authenticate

access = logging.getLogger("accelerator.api.access")
failures = logging.getLogger("accelerator.api.errors")


class OutboxCollector(Collector):
    """Outbox and delivery figures, computed from the database on each scrape."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def collect(self):  # type: ignore[no-untyped-def]
        """Yield the gauges (prometheus_client's collector protocol)."""
        with self.database.transaction(read_only=True) as session:
            health = outbox_health(session, now=utcnow())
            emails = emails_sent(session)
            webhooks = delivery_figures(session)
        pending = GaugeMetricFamily(
            "accelerator_outbox_pending", "Messages waiting for delivery", labels=["topic"]
        )
        for topic, count in sorted(health.pending_by_topic.items()):
            pending.add_metric([topic], count)
        yield pending
        yield GaugeMetricFamily(
            "accelerator_outbox_lag_seconds", "Age of the oldest undelivered message",
            value=health.oldest_pending_seconds,
        )  # fmt: skip
        # For the flow topics these are the flow outcomes: runs done (or submitted, in the
        # deployments mode) and batches failing; the runs themselves are in Prefect's UI.
        retrying = GaugeMetricFamily(
            "accelerator_outbox_retrying", "Undelivered messages that already failed once",
            labels=["topic"],
        )  # fmt: skip
        for topic, count in sorted(health.retrying_by_topic.items()):
            retrying.add_metric([topic], count)
        yield retrying
        delivered = GaugeMetricFamily(
            "accelerator_outbox_delivered", "Messages delivered", labels=["topic"]
        )
        for topic, count in sorted(health.delivered_by_topic.items()):
            delivered.add_metric([topic], count)
        yield delivered
        yield GaugeMetricFamily(
            "accelerator_emails_sent", "E-mails sent (one per recipient)", value=emails
        )
        deliveries = GaugeMetricFamily(
            "accelerator_webhook_deliveries", "Webhook deliveries by state", labels=["state"]
        )
        deliveries.add_metric(["delivered"], webhooks.delivered)
        deliveries.add_metric(["failing"], webhooks.failing)
        yield deliveries


#: A request id a client may choose: short, and safe in a header and a log line.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def request_id_of(scope: Scope) -> str:
    """The client's ``X-Request-ID`` if it is safe to echo and log, else a new one."""
    given = Headers(scope=scope).get("x-request-id")
    return given if given is not None and _REQUEST_ID.match(given) else uuid.uuid4().hex


def internal_error(request_id: str) -> JSONResponse:
    """The answer to an unexpected failure: French, with the reference to quote."""
    return JSONResponse(
        {"detail": t("http.internal_error", request_id=request_id)},
        status_code=500,
    )


class MeasureRequests:
    """Times each request, logs it (access log, with what the handler annotated) and answers
    with its ``X-Request-ID``; an unhandled exception becomes a JSON 500 on the same path.

    A plain ASGI middleware: ``@app.middleware("http")`` would run every request through
    Starlette's ``BaseHTTPMiddleware`` (an extra task and a streamed copy of the response),
    a large share of a short request's CPU. Starlette's own ``ServerErrorMiddleware`` sits
    outside every user middleware: its 500 would skip the access log, the metrics and the
    request id, and re-raise so that the server closes the connection. This one answers first
    and does not re-raise: the connection stays usable.
    """

    def __init__(self, app: ASGIApp, latency: Histogram) -> None:
        self.app = app
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope)
        response_started = False

        async def send_measured(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                elapsed = time.perf_counter() - started
                status = message["status"]
                template = getattr(scope.get("route"), "path", "(inconnue)")
                self.latency.labels(scope["method"], template, str(status)).observe(elapsed)
                access.log(
                    logging.ERROR if status >= 500 else logging.INFO,
                    "%s %s %d %.1f ms",
                    scope["method"],
                    scope["path"],
                    status,
                    elapsed * 1000,
                    extra={
                        "method": scope["method"],
                        "route": template,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 1),
                    },
                )
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        with logs.scope(request_id=request_id):
            try:
                await self.app(scope, receive, send_measured)
            except Exception:
                failures.exception("Erreur interne sur %s %s", scope["method"], scope["path"])
                if response_started:
                    raise  # the answer is cut short: only closing the connection says so
                await internal_error(request_id)(scope, receive, send_measured)


def _scraper_allowed(request: Request) -> None:
    """Let through a scraper's token or an admin's; 401/403 otherwise."""
    settings: Settings = request.app.state.settings
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    expected = settings.metrics_scrape_token
    if (
        expected is not None
        and scheme.lower() == "bearer"
        and hmac.compare_digest(credentials.strip().encode(), expected.encode())
    ):
        return
    database: Database = request.app.state.database
    bearer = HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials.strip())
    with database.transaction() as session:
        user = authenticate(session, settings, bearer if scheme else None)
        require_role(user, Role.ADMIN)


def install(app: FastAPI, database: Database) -> None:
    """Add the request-latency and access-log middleware and the ``/metrics`` route."""
    registry = CollectorRegistry()
    registry.register(OutboxCollector(database))
    latency = Histogram(
        "accelerator_http_request_duration_seconds",
        "HTTP request duration",
        ["method", "route", "status"],
        registry=registry,
    )

    app.add_middleware(MeasureRequests, latency=latency)

    @app.get("/metrics", include_in_schema=False)
    # A scraper's token stands for no role: the policy names the only role that may read it.
    @policies.declare(policies.allow(admin=policies.Scope.ANY))
    def metrics(request: Request) -> Response:
        """Prometheus exposition (a scraper's token, ``ACCELERATOR_METRICS_TOKEN``, or an
        admin's)."""
        _scraper_allowed(request)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
