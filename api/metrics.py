"""``/metrics`` in Prometheus format: outbox lag and deliveries (read from the database at
scrape time, so every API process reports the same), and this process's request latencies."""

from __future__ import annotations

import logging
import time
import uuid

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accelerator import logs
from accelerator.db import Database, utcnow
from accelerator.outbox.queries import outbox_health
from api.policies import PUBLIC, declare

access = logging.getLogger("accelerator.api.access")


class OutboxCollector(Collector):
    """Outbox and delivery figures, computed from the database on each scrape."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def collect(self):  # type: ignore[no-untyped-def]
        """Yield the gauges (prometheus_client's collector protocol)."""
        with self.database.transaction(read_only=True) as session:
            health = outbox_health(session, now=utcnow())
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
            "accelerator_emails_sent", "E-mails sent (one per recipient)", value=health.emails_sent
        )
        deliveries = GaugeMetricFamily(
            "accelerator_webhook_deliveries", "Webhook deliveries by state", labels=["state"]
        )
        deliveries.add_metric(["delivered"], health.webhooks_delivered)
        deliveries.add_metric(["failing"], health.webhooks_failing)
        yield deliveries


class MeasureRequests:
    """Times each request, logs it (access log, with what the handler annotated) and answers
    with its ``X-Request-ID``.

    A plain ASGI middleware: ``@app.middleware("http")`` would run every request through
    Starlette's ``BaseHTTPMiddleware`` (an extra task and a streamed copy of the response),
    a large share of a short request's CPU.
    """

    def __init__(self, app: ASGIApp, latency: Histogram) -> None:
        self.app = app
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = (Headers(scope=scope).get("x-request-id") or uuid.uuid4().hex)[:64]

        async def send_measured(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed = time.perf_counter() - started
                status = message["status"]
                template = getattr(scope.get("route"), "path", "(inconnue)")
                self.latency.labels(scope["method"], template, str(status)).observe(elapsed)
                access.info(
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
            await self.app(scope, receive, send_measured)


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
    @declare(PUBLIC)  # as it answers today; issue 10 §7 protects it (the matrix says so too)
    def metrics() -> Response:
        """Prometheus exposition."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
