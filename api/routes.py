"""The route class of every API route: authentication and body limit before the body is read.

FastAPI reads and validates the request body before it solves any dependency, so a
``CurrentUser`` dependency alone answers an anonymous 100 MB POST with a 422 after reading it
all. ``Route`` runs, before FastAPI's handler touches the body:

1. for a route that needs a user (its dependencies include the bearer scheme of
   ``api.deps``), the token check: signature and claims, no database (``deps.token_subject``),
   so an anonymous or forged request gets its 401 without a byte of its body read. Whether the
   account is still active is checked later, in the route's unit of work
   (``api.unit_of_work``), in the same thread and transaction as the route;
2. a 422 for a query parameter the route does not declare (FastAPI would ignore it: a
   misspelt ``?limt=5`` silently answering the default is a careless client's trap), and for
   a parameter declared once but sent several times (FastAPI would keep the last:
   ``?offset=abc&offset=0`` answered as ``offset=0``, an invalid value silently ignored, and
   a proxy or log that reads the first value would not see what the API acted on);
3. the route's body limit (``@body_limit``, else ``ACCELERATOR_MAX_JSON_BODY_BYTES``) and a
   413 at once when the declared ``Content-Length`` passes it (``api.limits``).
"""

from __future__ import annotations

import collections
import types
import typing
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel

from accelerator.shared.config import Settings
from accelerator.shared.text import t
from api import limits
from api.deps import bearer, token_subject
from api.errors import validation_response


def needs_user(dependant: Dependant) -> bool:
    """Whether ``dependant`` (a route or one of its dependencies) reads the bearer token."""
    return any(d.call is bearer or needs_user(d) for d in dependant.dependencies)


def query_names(dependant: Dependant) -> set[str]:
    """The query parameters ``dependant`` and its dependencies declare (a model's fields)."""
    names: set[str] = set()
    for field in dependant.query_params:
        annotation = field.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= {f.alias or name for name, f in annotation.model_fields.items()}
        else:
            names.add(field.alias)
    for dependency in dependant.dependencies:
        names |= query_names(dependency)
    return names


def _is_sequence(annotation: Any) -> bool:
    """Whether ``annotation`` admits a list (``list[str]``, ``tuple[int, ...] | None``...)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_sequence(argument) for argument in typing.get_args(annotation))
    candidate = origin if origin is not None else annotation
    return (
        isinstance(candidate, type)
        and issubclass(candidate, (Sequence, set, frozenset))
        and not issubclass(candidate, (str, bytes))
    )


def repeatable_query_names(dependant: Dependant) -> set[str]:
    """The query parameters ``dependant`` and its dependencies declare as lists."""
    names: set[str] = set()
    for field in dependant.query_params:
        annotation = field.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= {
                f.alias or name
                for name, f in annotation.model_fields.items()
                if _is_sequence(f.annotation)
            }
        elif _is_sequence(annotation):
            names.add(field.alias)
    for dependency in dependant.dependencies:
        names |= repeatable_query_names(dependency)
    return names


def refuse_unknown_query(
    request: Request, known: set[str], repeatable: set[str] | None = None
) -> Response | None:
    """A 422 naming the query parameters the route does not declare, and those it declares
    once that were sent several times, if any."""
    sent = collections.Counter(name for name, _value in request.query_params.multi_items())
    unknown = [name for name in sent if name not in known]
    repeated = [
        name
        for name, times in sent.items()
        if times > 1 and name in known and name not in (repeatable or set())
    ]
    if not unknown and not repeated:
        return None
    return validation_response(
        [{"field": name or "(sans nom)", "message": t("http.query_unknown")} for name in unknown]
        + [{"field": name, "message": t("http.query_repeated")} for name in repeated]
    )


class Route(APIRoute):
    """An ``APIRoute`` that authenticates and bounds the body before reading it."""

    @property
    def needs_user(self) -> bool:
        """Whether the route needs a signed-in user (401 without a valid token)."""
        return needs_user(self.dependant)

    @property
    def max_body_bytes(self) -> int | None:
        """The body limit the route declared (``None``: the application's)."""
        return limits.declared_limit(self.endpoint)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, preceded by the token check and the body limit."""
        handler = super().get_route_handler()
        authenticated = needs_user(self.dependant)
        own_limit = limits.declared_limit(self.endpoint)
        known_query = query_names(self.dependant)
        repeatable_query = repeatable_query_names(self.dependant)

        async def guarded(request: Request) -> Response:
            if authenticated:
                settings: Settings = request.app.state.settings
                token_subject(settings, await bearer(request))
            if request.scope.get("query_string") and (
                refused := refuse_unknown_query(request, known_query, repeatable_query)
            ):
                return refused
            if own_limit is not None:
                request.scope[limits.SCOPE_KEY] = own_limit
            limits.refuse_declared_excess(request.scope)
            return await handler(request)

        return guarded
