"""The FastAPI application: ``create_app()`` wires settings, database, routers, errors."""

from __future__ import annotations

from fastapi import FastAPI

import accelerator.migrations.tables  # noqa: F401 - every table mapped before the first query
from accelerator.documents.storage import open_store
from accelerator.identity.throttle import SignInThrottle
from accelerator.shared import logs
from accelerator.shared.config import Settings, get_settings
from accelerator.shared.db import get_database
from api import contract, docs, errors, metrics, pages, policies
from api.headers import SecurityHeaders
from api.limits import BodyLimit
from api.proconnect import ProConnect
from api.routers import (
    auth,
    calendars,
    catalogue,
    clocks,
    consultations,
    deadlines,
    documents,
    dossiers,
    health,
    information,
    messages,
    webhooks,
)
from api.routers import metrics as metrics_routes
from api.routes import Route


def sign_in_throttle(settings: Settings) -> SignInThrottle:
    """The sign-in budgets the settings give, counted in their storage."""
    return SignInThrottle.create(
        per_account=settings.login_rate_per_account,
        per_address=settings.login_rate_per_address,
        storage=settings.rate_limit_storage,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    """A ready application for ``settings`` (default: from the environment)."""
    settings = settings or get_settings()
    settings.signing_key  # noqa: B018 - refuse to start without a secret outside demo mode
    logs.configure(settings.log_format, ui_level=settings.flow_ui_log_level)
    app = FastAPI(
        title="Accélérateur",
        summary="Guichet unique des projets d'investissement : consultations parallèles, délais.",
        version="0.1.0",
        # Served by api.docs from local assets, without CDN or inline script.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    # Routes declared on the app itself also check the token before reading the body.
    app.router.route_class = Route
    app.state.settings = settings
    app.state.database = get_database(settings.database_url)
    app.state.document_store = open_store(settings)
    # Sign-in with ProConnect, when configured (api/proconnect.py, api/pages/proconnect.py).
    app.state.proconnect = ProConnect(settings) if settings.proconnect_enabled else None
    app.state.sign_in_throttle = sign_in_throttle(settings)
    errors.install(app)
    # The web pages: their routes, static files, and HTML error pages for browsers.
    pages.install(app)
    # Middleware added last runs first: headers on everything, then the request's id, access
    # log and metrics (and the JSON 500), then the body limit.
    app.add_middleware(BodyLimit, max_bytes=settings.max_json_body_bytes)
    metrics.install(app, app.state.database)
    app.add_middleware(
        SecurityHeaders,
        hsts=not settings.demo,
        form_action=(app.state.proconnect.origin,) if app.state.proconnect else (),
    )
    docs.install(app)
    for router in (
        health.router,
        auth.router,
        dossiers.router,
        consultations.router,
        deadlines.router,
        calendars.router,
        catalogue.router,
        clocks.router,
        information.router,
        documents.router,
        messages.router,
        webhooks.router,
        metrics_routes.router,
    ):
        app.include_router(router)
    contract.install(app)
    policies.check(app)  # every route declares who may call it (api/policies.py)
    return app
