"""Signing in with ProConnect (only when configured: ``api.pages.install`` adds this router).

``GET /login/proconnect`` starts the authorisation code flow (``api.proconnect``): a fresh
``state``, ``nonce`` and PKCE verifier, kept in a signed cookie of ten minutes
(``__Host-accelerator-proconnect``, ``HttpOnly``, ``SameSite=Lax`` so it comes back with the
provider's top-level redirect), and the browser sent to the provider.

``GET /login/proconnect/callback`` ends it: the client address's sign-in budget first (the
one the form and the API share; each failed callback is counted in it), then the cookie's
state against the answer's (constant time), the provider's ``error``, the code exchanged and
the ID token verified, the e-mail mapped to an EXISTING active account
(``identity.actions.account_for_proconnect``; no account is created), and the session opened
exactly as the form's (``sign_in.open_page_session``), its ID token kept for the logout. Every
failure is the sign-in page with a French reason from the catalogue; the log says why, never
with a token or the secret. The flow's cookie is cleared by every answer: a callback is played
once.

The callback is a GET that writes (the provider's redirect is a GET): it runs outside
``page_unit`` (public, no session read), the session opened in its own write transaction
once ProConnect has answered, so no transaction is held during the calls to the provider.

``GET /logout/proconnect/callback`` is where the provider's logout sends the browser back: the
state is checked against the logout's cookie, and the browser goes home either way (the
product's session ended before it left).
"""

from __future__ import annotations

import hmac
import logging

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from accelerator.identity.actions import account_for_proconnect
from accelerator.identity.throttle import SignInThrottle
from accelerator.shared.config import Settings
from accelerator.shared.db import Database
from accelerator.shared.errors import NotAuthenticated, TooManyRequests
from accelerator.shared.text import t
from api.pages.sign_in import (
    PROCONNECT_LOGOUT,
    login_page,
    open_page_session,
)
from api.pages.web import (
    PageRouter,
    clear_cookie,
    cookie_name,
    login_nonce,
    new_login_nonce,
    seal,
    set_cookie,
    unseal,
)
from api.policies import PUBLIC
from api.proconnect import (
    CALLBACK_PATH,
    LOGOUT_CALLBACK_PATH,
    Flow,
    Identity,
    ProConnect,
    ProConnectFailure,
    ProConnectUnavailable,
)
from api.routers.auth import client_address

router = PageRouter(tags=["pages"])
log = logging.getLogger("accelerator.api.proconnect")

#: The cookie holding one browser's flow, and how long a person may take at the provider.
FLOW = "proconnect"
FLOW_SECONDS = 10 * 60
#: Longest ``code`` or ``state`` read from the provider's answer.
MAX_PARAMETER = 2048


def _provider(request: Request) -> ProConnect:
    provider: ProConnect | None = request.app.state.proconnect
    assert provider is not None  # the router is only installed when configured
    return provider


def _refusal(
    request: Request,
    key: str,
    *,
    status: int,
    headers: dict[str, str] | None = None,
    message: str | None = None,
) -> Response:
    """The sign-in page with the French reason, the flow's cookie cleared."""
    response = login_page(
        request,
        login_nonce(request) or new_login_nonce(),
        status=status,
        alert=message or t(key),
        headers=headers,
    )
    clear_cookie(response, request, FLOW)
    return response


@router.get_page("/login/proconnect", policy=PUBLIC)
def start(request: Request) -> Response:
    """Go to ProConnect to sign in (a new flow: state, nonce, PKCE verifier in a signed
    cookie)."""
    settings: Settings = request.app.state.settings
    try:
        url, flow = _provider(request).start()
    except ProConnectUnavailable as failure:
        log.warning("ProConnect sign-in could not start: %s", failure.reason)
        return _refusal(request, failure.key, status=failure.status_code)
    response = RedirectResponse(url, status_code=303)
    values = {"state": flow.state, "nonce": flow.nonce, "verifier": flow.verifier}
    set_cookie(response, request, FLOW, seal(settings, FLOW, values, FLOW_SECONDS), FLOW_SECONDS)
    return response


@router.get_page(CALLBACK_PATH, policy=PUBLIC)
def callback(
    request: Request,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
    error_uri: str | None = None,
    iss: str | None = None,
    session_state: str | None = None,
) -> Response:
    """Back from ProConnect: the role's space, or the sign-in page with the French reason
    (see the module for every check)."""
    del error_description, error_uri, session_state  # declared: providers send them
    settings: Settings = request.app.state.settings
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    provider = _provider(request)
    address = client_address(request, settings)
    try:
        throttle.check_address(address=address)
    except TooManyRequests as refusal:
        headers = {"Retry-After": str(refusal.retry_after)}
        return _refusal(request, "", status=429, headers=headers, message=refusal.message)
    try:
        identity = _verified_identity(request, provider, code, state, error, iss)
        database: Database = request.app.state.database
        with database.transaction(read_only=True) as session:
            user_id = account_for_proconnect(session, email=identity.email).id
    except ProConnectFailure as failure:
        log.warning("ProConnect sign-in refused: %s", failure.reason)
        if not isinstance(failure, ProConnectUnavailable):
            throttle.failed(address=address)
        return _refusal(request, failure.key, status=failure.status_code)
    except NotAuthenticated as failure:
        log.warning("ProConnect sign-in refused: no active account for the verified e-mail")
        throttle.failed(address=address)
        return _refusal(request, "", status=401, message=failure.message)
    response = open_page_session(request, user_id, id_token=identity.id_token)
    clear_cookie(response, request, FLOW)
    return response


def _verified_identity(
    request: Request,
    provider: ProConnect,
    code: str | None,
    state: str | None,
    error: str | None,
    iss: str | None,
) -> Identity:
    """The identity ProConnect vouches for, once this browser's flow matches the answer."""
    if error is not None:
        # Before the state: an error answer opens nothing, and some providers send it
        # without the state (the person is told what happened either way).
        reason = error if error.isascii() and len(error) <= 64 else "unreadable"
        key = (
            "identity.proconnect.cancelled"
            if error == "access_denied"
            else "identity.proconnect.provider_error"
        )
        raise ProConnectFailure(key, f"provider error: {reason}")
    settings: Settings = request.app.state.settings
    sealed = unseal(settings, FLOW, request.cookies.get(cookie_name(request, FLOW)))
    flow = (
        Flow(state=sealed["state"], nonce=sealed["nonce"], verifier=sealed["verifier"])
        if sealed and {"state", "nonce", "verifier"} <= set(sealed)
        else None
    )
    if flow is None:
        raise ProConnectFailure(
            "identity.proconnect.state_mismatch", "no live flow cookie", status_code=400
        )
    if not _same(state, flow.state):
        raise ProConnectFailure(
            "identity.proconnect.state_mismatch", "state mismatch", status_code=400
        )
    if iss is not None and iss.rstrip("/") != provider.issuer:
        raise ProConnectFailure("identity.proconnect.token_invalid", "iss parameter mismatch")
    if not code or len(code) > MAX_PARAMETER:
        raise ProConnectFailure("identity.proconnect.provider_error", "no code")
    return provider.finish(code=code, flow=flow)


@router.get_page(LOGOUT_CALLBACK_PATH, policy=PUBLIC)
def logout_callback(request: Request, state: str | None = None) -> Response:
    """Back from ProConnect's logout: home (the product's session ended already)."""
    settings: Settings = request.app.state.settings
    cookie = request.cookies.get(cookie_name(request, PROCONNECT_LOGOUT))
    sealed = unseal(settings, PROCONNECT_LOGOUT, cookie) or {}
    if not _same(state, sealed.get("state")):
        log.info("ProConnect logout came back without this browser's state")
    response = RedirectResponse("/", status_code=303)
    clear_cookie(response, request, PROCONNECT_LOGOUT)
    return response


def _same(given: str | None, expected: str | None) -> bool:
    """Whether the answer's ``state`` is the one this browser's cookie holds (constant time)."""
    if not given or not expected or len(given) > MAX_PARAMETER:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))
