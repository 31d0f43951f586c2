"""Request bodies are bounded: never more than the limit read, 413 as soon as it is passed.

``BodyLimit`` (a plain ASGI middleware) counts what the application reads from the request
stream and refuses with 413 once the limit (``ACCELERATOR_MAX_JSON_BODY_BYTES``) is passed,
whether the client declared a ``Content-Length`` (refused before a byte is read) or streamed a
chunked body (refused at the chunk that crosses the limit): at most the limit and one chunk of
the server's buffer are ever held. A route that takes more (a file upload) declares its own
limit with ``@body_limit(n)``; ``api.routes.Route`` puts it in the request's scope before the
body is read, so the limit is per route without a second routing pass.

An answer sent before a long or chunked request body was read (a 401 before the body, a 413)
closes the connection: the server would otherwise go on reading and discarding what the client
sends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accelerator.shared.text import t
from api.errors import FrenchHTTPException, http_error_response

F = TypeVar("F", bound=Callable[..., Any])

#: Where the limit of the current request lives in the ASGI scope (a route may raise it).
SCOPE_KEY = "accelerator.max_body_bytes"
_ATTRIBUTE = "__max_body_bytes__"
#: An unread body up to this size is left for the server to discard (keep-alive kept).
_DISCARDABLE = 64 * 1024


def describe(size: int) -> str:
    """``size`` in French units (1 Mo = 1,048,576 octets)."""
    if size >= 1 << 20 and size % (1 << 20) == 0:
        return f"{size >> 20} Mo"
    if size >= 1 << 10 and size % (1 << 10) == 0:
        return f"{size >> 10} Ko"
    return f"{size} octets"


class BodyTooLarge(FrenchHTTPException):
    """The request body passes the route's limit (413, French message)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            t("http.body_too_large", limit_label=describe(limit), limit=limit),
            headers={"Connection": "close"},
        )


def body_limit(max_bytes: int) -> Callable[[F], F]:
    """Let a route read a body of up to ``max_bytes`` (instead of the JSON limit)."""

    def decorate(endpoint: F) -> F:
        setattr(endpoint, _ATTRIBUTE, max_bytes)
        return endpoint

    return decorate


def declared_limit(endpoint: Callable[..., Any]) -> int | None:
    """The limit ``endpoint`` declared with ``@body_limit``, if any."""
    limit = getattr(endpoint, _ATTRIBUTE, None)
    return limit if isinstance(limit, int) else None


def declared_length(scope: Scope) -> int | None:
    """The request's ``Content-Length`` (``None`` if absent or not a number)."""
    value = Headers(scope=scope).get("content-length")
    if value is None or not value.isascii() or not value.strip().isdigit():
        return None
    return int(value)


def refuse_declared_excess(scope: Scope) -> None:
    """Raise ``BodyTooLarge`` when the declared length already passes the limit."""
    limit = scope.get(SCOPE_KEY)
    length = declared_length(scope)
    if limit is not None and length is not None and length > limit:
        raise BodyTooLarge(limit)


class BodyLimit:
    """Bound every HTTP request body to ``max_bytes`` (or its route's own limit)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[SCOPE_KEY] = self.max_bytes
        headers = Headers(scope=scope)
        length = declared_length(scope)
        # Whether the server may drop what is left unread cheaply: no body (no framing header),
        # or a short declared one; a long or chunked body left unread closes the connection.
        complete = "content-length" not in headers and "transfer-encoding" not in headers
        complete = complete or (length is not None and length <= _DISCARDABLE)
        received = 0
        started = False

        async def bounded_receive() -> Message:
            nonlocal received, complete
            refuse_declared_excess(scope)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > scope[SCOPE_KEY]:
                    raise BodyTooLarge(scope[SCOPE_KEY])
                complete = complete or not message.get("more_body", False)
            return message

        async def closing_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if not complete:
                    MutableHeaders(scope=message)["Connection"] = "close"
            await send(message)

        try:
            await self.app(scope, bounded_receive, closing_send)
        except BodyTooLarge as error:
            # Read outside the routes (their errors are answered by the exception handlers).
            if started:
                raise
            response = http_error_response(error)
            await response(scope, receive, closing_send)
