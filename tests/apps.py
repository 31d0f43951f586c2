"""One application per test database for the whole session, as a deployment keeps one for all
its requests. Building it checks every route's dependencies (``api.policies``) and cost
0.1-0.4 s a test, a thousand times over.

What a test may change of it is put back after the test: the routes it added, the schema
cached with them; and each test starts with its own sign-in
budgets (a test that spends them must not refuse the next test's sign-ins). A test that needs
other settings builds its own app with ``create_app``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI

from accelerator.shared.config import Settings
from api.app import create_app, sign_in_throttle

_APPS: dict[str, FastAPI] = {}


@contextmanager
def shared_app(database_url: str) -> Iterator[FastAPI]:
    """The session's app on ``database_url`` (demo mode), as the test found it afterwards."""
    app = _APPS.get(database_url)
    if app is None:
        app = _APPS[database_url] = create_app(Settings(database_url=database_url, demo=True))
    app.state.sign_in_throttle = sign_in_throttle(app.state.settings)
    routes = list(app.router.routes)
    try:
        yield app
    finally:
        if app.router.routes != routes:
            app.router.routes[:] = routes
            app.openapi_schema = None
