"""Errors answered to browsers as French DSFR pages; the JSON API keeps its JSON errors.

An answer is a page when the request is one of the pages' routes, or when it is not for the
API (``/api/``, the documentation, ``/metrics``, ``/healthz``) and the browser asks for HTML
(``Accept: text/html``, as every navigation does). The JSON handlers of ``api.errors`` answer
everything else, unchanged. ``PageErrors`` turns an unexpected exception of such a request
into the 500 page, with the request's reference, before ``api.metrics`` would answer JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accelerator.shared import logs
from accelerator.shared.errors import AcceleratorError, TooManyRequests
from accelerator.shared.text import t
from api.errors import HTTP_MESSAGES, FrenchHTTPException, describe
from api.pages.rendering import render
from api.pages.web import SESSION, SignInRequired, clear_cookie, is_page_route

failures = logging.getLogger("accelerator.api.errors")

#: Paths that are the API's, whatever the client accepts.
API_PATHS = ("/api/", "/openapi.json", "/docs", "/redoc", "/metrics", "/healthz", "/static/")

#: The statuses with a page of their own; any other error gets the generic one.
TITLES: dict[int, str] = {
    400: "pages.error.400.title",
    403: "pages.error.403.title",
    404: "pages.error.404.title",
    405: "pages.error.405.title",
    409: "pages.error.409.title",
    413: "pages.error.413.title",
    415: "pages.error.415.title",
    422: "pages.error.422.title",
    429: "pages.error.429.title",
    500: "pages.error.500.title",
}
EXPLANATIONS: dict[int, str] = {
    403: "pages.error.403.text",
    404: "pages.error.404.text",
    409: "pages.error.409.text",
    413: "pages.error.413.text",
    415: "pages.error.415.text",
    422: "pages.error.422.text",
    500: "pages.error.500.text",
}


def wants_html(scope: Scope) -> bool:
    """Whether an error on this request is answered with a page (see the module)."""
    if is_page_route(scope.get("route")):
        return True
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", ""))
    if root and path.startswith(root):
        path = path[len(root) :] or "/"
    if path.startswith(API_PATHS) or path in ("/docs", "/redoc"):
        return False
    return "text/html" in Headers(scope=scope).get("accept", "")


def error_page(
    request: Request,
    status: int,
    message: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    reference: str | None = None,
) -> Response:
    """The French page of an error."""
    title = t(TITLES.get(status, "pages.error.other.title"), status=status)
    explanation = t(EXPLANATIONS[status]) if status in EXPLANATIONS else ""
    reload_url = (
        request.url.path if request.method == "GET" else getattr(request.state, "reload_url", None)
    )
    return render(
        request,
        "error.html",
        {
            "status": status,
            "title": title,
            "message": message,
            "explanation": explanation,
            "errors": errors or [],
            "reload_url": reload_url,
            "reference": reference,
        },
        status=status,
        headers=headers,
    )


def _http_message(error: HTTPException) -> str:
    if isinstance(error, FrenchHTTPException):
        return str(error.detail)
    try:
        phrase = HTTPStatus(error.status_code).phrase
    except ValueError:
        phrase = str(error.status_code)
    return HTTP_MESSAGES.get(error.status_code, phrase)


Handler = Callable[[Request, Any], Awaitable[Response]]


def install(app: FastAPI) -> None:
    """Answer pages' errors with pages; leave the JSON handlers of ``api.errors`` to the rest
    (call after ``api.errors.install``)."""
    json_handlers: dict[Any, Handler] = dict(app.exception_handlers)

    async def domain_error(request: Request, error: AcceleratorError) -> Response:
        if not wants_html(request.scope):
            return await json_handlers[AcceleratorError](request, error)
        headers = None
        if isinstance(error, TooManyRequests):
            headers = {"Retry-After": str(error.retry_after)}
        return error_page(request, error.status_code, error.message, headers=headers)

    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        if not wants_html(request.scope):
            return await json_handlers[RequestValidationError](request, error)
        errors = [describe(e) for e in error.errors()]
        return error_page(request, 422, t("pages.error.422.text"), errors=errors)

    async def http_error(request: Request, error: HTTPException) -> Response:
        if not wants_html(request.scope):
            return await json_handlers[HTTPException](request, error)
        return error_page(
            request, error.status_code, _http_message(error), headers=dict(error.headers or {})
        )

    async def sign_in_required(request: Request, _error: SignInRequired) -> Response:
        response = RedirectResponse("/login", status_code=303)
        if request.cookies:
            clear_cookie(response, request, SESSION)
        return response

    app.add_exception_handler(AcceleratorError, domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(SignInRequired, sign_in_required)  # type: ignore[arg-type]
    app.add_middleware(PageErrors)


class PageErrors:
    """An unexpected exception of a page request becomes the French 500 page (logged, with the
    request's reference); the API's requests are left to ``api.metrics`` (JSON 500)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            if started or not wants_html(scope):
                raise
            failures.exception("Erreur interne sur %s %s", scope["method"], scope["path"])
            reference = str(logs.field("request_id") or "")
            request = Request(scope, receive)
            response = error_page(request, 500, t("pages.error.500.text"), reference=reference)
            await response(scope, receive, send)
