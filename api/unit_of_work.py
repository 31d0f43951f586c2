"""Each route's unit of work in ONE worker thread: open the transaction, read the signed-in
user, run the route, commit; then FastAPI validates and sends the answer on the event loop.

Routes keep the ``session: SessionDep`` and ``user: CurrentUser`` parameters of ``api.deps``;
the ``Router`` of this module rewrites a sync route that takes them. Without it, FastAPI hops
between the event loop and its thread pool five times per request (session opened, user read,
route run, answer validated, session committed): under a burst of filings waking pool threads
was about 15 % of the API's Python time, and each hop queues behind every other request of the
process (docs/decisions.md). The transaction is the same: committed before the answer is sent,
rolled back on any error.
"""

from __future__ import annotations

import functools
import inspect
import typing
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from accelerator.shared.config import Settings
from accelerator.shared.db import Database, utcnow
from api.deps import READ_METHODS, BearerDep, CurrentUser, SessionDep, authenticate
from api.policies import OPENAPI_KEY, Policy, declare
from api.routes import Route

_REQUEST = "unit_of_work_request"
_CREDENTIALS = "unit_of_work_credentials"


def in_one_thread(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint`` as an async route running its whole unit of work in one worker thread;
    unchanged if it is async or takes no ``SessionDep``."""
    if inspect.iscoroutinefunction(endpoint):
        return endpoint
    hints = typing.get_type_hints(endpoint, include_extras=True)
    signature = inspect.signature(endpoint)
    sessions = [name for name in signature.parameters if hints.get(name) == SessionDep]
    users = [name for name in signature.parameters if hints.get(name) == CurrentUser]
    if not sessions:
        return endpoint
    parameters = [
        parameter.replace(annotation=hints.get(name, parameter.annotation))
        for name, parameter in signature.parameters.items()
        if name not in sessions and name not in users
    ]
    keyword = inspect.Parameter.KEYWORD_ONLY
    # FastAPI passes the request to one parameter only: share the route's own if it has one.
    own = next((p.name for p in parameters if p.annotation is Request), None)
    if own is None:
        parameters.append(inspect.Parameter(_REQUEST, keyword, annotation=Request))
    if users:
        # The bearer scheme stays a dependency: the OpenAPI document still shows it.
        parameters.append(inspect.Parameter(_CREDENTIALS, keyword, annotation=BearerDep))

    @functools.wraps(endpoint)
    async def route(**kwargs: Any) -> Any:
        request: Request = kwargs[own] if own else kwargs.pop(_REQUEST)
        credentials = kwargs.pop(_CREDENTIALS, None)
        database: Database = request.app.state.database
        settings: Settings = request.app.state.settings

        # Reads take no write lock on SQLite (accelerator/shared/db.py): chosen by method, since a
        # GET never changes anything.
        read_only = request.method in READ_METHODS

        def unit_of_work() -> Any:
            with database.transaction(read_only=read_only) as session:
                kwargs.update(dict.fromkeys(sessions, session))
                if users:
                    kwargs.update(
                        dict.fromkeys(users, authenticate(session, settings, credentials))
                    )
                return endpoint(**kwargs)

        return await run_in_threadpool(unit_of_work)

    route.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=parameters, return_annotation=hints.get("return", signature.return_annotation)
    )
    return route


class Router(APIRouter):
    """An ``APIRouter`` whose sync routes on the database run in one thread (``in_one_thread``),
    check the token and the body limit before reading the body (``api.routes.Route``), and
    declare their access ``policy`` (``api.policies``): a route without one is a ``TypeError``
    when its module is imported."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("route_class", Route)
        super().__init__(**kwargs)

    def add_api_route(  # type: ignore[override]
        self, path: str, endpoint: Callable[..., Any], *, policy: Policy, **kwargs: Any
    ) -> None:
        """Register ``endpoint`` under ``policy``, rewritten to run its unit of work in one
        thread; the policy shows in the OpenAPI document as ``x-access-policy``."""
        route = declare(policy)(in_one_thread(endpoint))
        extra = {**(kwargs.pop("openapi_extra", None) or {}), OPENAPI_KEY: policy.openapi()}
        super().add_api_route(path, route, openapi_extra=extra, **kwargs)

    def api_route(  # type: ignore[override]
        self, path: str, *, policy: Policy, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator form of ``add_api_route``."""

        def decorator(endpoint: Callable[..., Any]) -> Callable[..., Any]:
            self.add_api_route(path, endpoint, policy=policy, **kwargs)
            return endpoint

        return decorator

    def get(  # type: ignore[override]
        self, path: str, *, policy: Policy, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """A GET route under ``policy``."""
        return self.api_route(path, policy=policy, methods=["GET"], **kwargs)

    def post(  # type: ignore[override]
        self, path: str, *, policy: Policy, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """A POST route under ``policy``."""
        return self.api_route(path, policy=policy, methods=["POST"], **kwargs)

    def put(  # type: ignore[override]
        self, path: str, *, policy: Policy, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """A PUT route under ``policy``."""
        return self.api_route(path, policy=policy, methods=["PUT"], **kwargs)

    def patch(  # type: ignore[override]
        self, path: str, *, policy: Policy, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """A PATCH route under ``policy``."""
        return self.api_route(path, policy=policy, methods=["PATCH"], **kwargs)

    def delete(  # type: ignore[override]
        self, path: str, *, policy: Policy, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """A DELETE route under ``policy``."""
        return self.api_route(path, policy=policy, methods=["DELETE"], **kwargs)


def mark_thread_read(database: Database, *, user_id: uuid.UUID, thread: str, seq: int) -> None:
    """Move a reader's marker on ``thread`` up to ``seq``, in a short write transaction of its
    own (a thread is read in a GET's read-only unit of work)."""
    from accelerator.identity.models import User
    from accelerator.messages.actions import mark_read

    with database.transaction() as session:
        user = session.get_one(User, user_id)
        mark_read(session, user=user, thread=thread, seq=seq, now=utcnow())
