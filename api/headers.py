"""Security headers on every answer (API, documentation, and the pages to come).

A plain ASGI middleware, outermost but for Starlette's last-resort error handler, so that even
a 413 or a 500 made by another middleware carries them:

- ``Content-Security-Policy``: ``CSP`` (nothing but this origin, no inline script, no
  framing; forms may also lead to ProConnect's origin when it is configured), unless the
  answer brings its own (the documentation pages relax styles only);
- ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``, ``Referrer-Policy``;
- ``Strict-Transport-Security`` outside demo mode (the demo runs on plain http://127.0.0.1);
- ``Cache-Control: no-store`` on every answer to a request with credentials (an
  ``Authorization`` header or a cookie), and on every answer that sets no caching of its own;
  an answer that declares itself ``public`` (static files, no user's data) keeps its own.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The default policy: JSON answers and pages of this origin only, no inline script or style,
#: no plugin, never in a frame.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def csp(*, form_action: tuple[str, ...] = ()) -> str:
    """``CSP``, whose forms may also lead to ``form_action`` (origins): a browser applies
    ``form-action`` to the redirects that follow a post too, and the sign-out form of a
    ProConnect session ends at the provider's logout endpoint."""
    if not form_action:
        return CSP
    return CSP.replace("form-action 'self'", "form-action 'self' " + " ".join(form_action))


HSTS = "max-age=63072000; includeSubDomains"

_FIXED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeaders:
    """Add the security headers to every HTTP answer."""

    def __init__(self, app: ASGIApp, *, hsts: bool, form_action: tuple[str, ...] = ()) -> None:
        self.app = app
        self.hsts = hsts
        self.csp = csp(form_action=form_action)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Headers(scope=scope)
        with_credentials = "authorization" in request or "cookie" in request

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _FIXED.items():
                    headers[name] = value
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = self.csp
                if self.hsts:
                    headers["Strict-Transport-Security"] = HSTS
                # A public answer (the pages' versioned static files) holds nobody's data: a
                # browser's cookie on the request must not stop it from being cached.
                cache = headers.get("cache-control", "")
                if (with_credentials and not cache.startswith("public")) or not cache:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
