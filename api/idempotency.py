"""``Idempotency-Key`` on POST routes: the same key and body give the same answer, once.

``@idempotent(status)`` wraps a route that takes ``session`` and ``user``: the key is claimed
and the answer stored in the route's own transaction (``accelerator.idempotency``).
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from accelerator.idempotency.actions import claim, request_hash, store
from accelerator.shared.db import utcnow

F = TypeVar("F", bound=Callable[..., Any])

HEADER = "Idempotency-Key"
_REQUEST = "idempotency_request"


def idempotent(status_code: int = 200) -> Callable[[F], F]:
    """Make a POST route idempotent under the ``Idempotency-Key`` header."""

    def decorate(route: F) -> F:
        hints = typing.get_type_hints(route, include_extras=True)
        signature = inspect.signature(route)
        parameters = [
            parameter.replace(annotation=hints.get(name, parameter.annotation))
            for name, parameter in signature.parameters.items()
        ]
        parameters.append(
            inspect.Parameter(_REQUEST, inspect.Parameter.KEYWORD_ONLY, annotation=Request)
        )

        @functools.wraps(route)
        def wrapper(**kwargs: Any) -> Any:
            request: Request = kwargs.pop(_REQUEST)
            key = request.headers.get(HEADER)
            if key is None:
                return route(**kwargs)
            session, user = kwargs["session"], kwargs["user"]
            payload = jsonable_encoder(
                {name: value for name, value in kwargs.items() if name not in ("session", "user")}
            )
            digest = request_hash(request.method, request.url.path, payload)
            replay = claim(
                session, user_id=user.id, key=key, method=request.method,
                path=request.url.path, digest=digest, now=utcnow(),
            )  # fmt: skip
            if replay is not None:
                return JSONResponse(
                    replay.body,
                    status_code=replay.status_code,
                    headers={"Idempotent-Replayed": "true"},
                )
            result = route(**kwargs)
            store(
                session, user_id=user.id, key=key, status_code=status_code,
                body=jsonable_encoder(result),
            )  # fmt: skip
            return result

        wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=parameters,
            return_annotation=hints.get("return", signature.return_annotation),
        )
        return typing.cast(F, wrapper)

    return decorate
