"""Signing in and out of the pages, with the API's identity code, limits and messages.

``POST /login`` checks the form's CSRF token, then exactly what ``POST /api/v1/auth/token``
does: the same throttle (per account, per address: ``accelerator.identity.throttle``), the same
``authenticate`` and its one French message for any failure. The password is checked in a
read-only transaction (argon2 takes a while: no write lock held meanwhile); a NEW session is
then opened (any session the browser held is ended) and the browser sent to its role's space.
``POST /logout`` deletes the session: the old cookie opens nothing afterwards; a session
opened through ProConnect (``proconnect.py``) then goes to the provider's logout.
"""

from __future__ import annotations

import secrets
import uuid

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from accelerator.demo.actions import demo_accounts
from accelerator.identity import sessions
from accelerator.identity.actions import authenticate, normalise_email
from accelerator.identity.models import User
from accelerator.identity.roles import Role
from accelerator.identity.throttle import SignInThrottle
from accelerator.shared.config import Settings
from accelerator.shared.db import Database, utcnow
from accelerator.shared.errors import NotAuthenticated, TooManyRequests
from api.errors import describe
from api.pages.rendering import render
from api.pages.web import (
    LOGIN_CSRF,
    SESSION,
    SPACES,
    FormDep,
    PageRouter,
    check_login_csrf,
    clear_cookie,
    cookie_name,
    lifetimes,
    login_csrf_token,
    login_nonce,
    new_login_nonce,
    page_unit,
    seal,
    set_cookie,
)
from api.policies import PUBLIC, SIGNED_IN
from api.proconnect import RANDOM_LENGTH, ProConnect
from api.routers.auth import Credentials, client_address

router = PageRouter(tags=["pages"])

#: The sign-in form's CSRF cookie lives as long as a form may stay open.
LOGIN_CSRF_SECONDS = 2 * 60 * 60
#: The cookie holding the state of a logout at ProConnect, and how long it lasts.
PROCONNECT_LOGOUT = "proconnect-logout"
PROCONNECT_LOGOUT_SECONDS = 10 * 60


def login_page(
    request: Request,
    nonce: str,
    *,
    status: int = 200,
    email: str = "",
    alert: str | None = None,
    errors: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    settings: Settings = request.app.state.settings
    accounts: list[tuple[str, Role]] = []
    if settings.demo:
        shown = [a for a in demo_accounts([]) if a.role is not Role.AGENT]
        accounts = [(a.email, a.role) for a in shown]
        accounts.append(("agent.udap-65@demo.test", Role.AGENT))
    response = render(
        request,
        "login.html",
        {
            "csrf_token": login_csrf_token(settings, nonce),
            "email": email,
            "alert": alert,
            "errors": errors or {},
            "demo_accounts": accounts,
            "proconnect": request.app.state.proconnect is not None,
        },
        status=status,
        headers=headers,
    )
    if login_nonce(request) != nonce:
        set_cookie(response, request, LOGIN_CSRF, nonce, LOGIN_CSRF_SECONDS)
    return response


@router.get_page("/login", policy=PUBLIC)
def login_form(request: Request) -> Response:
    """The sign-in form (e-mail, password, hidden CSRF token). A signed-in user sees it too
    (to change account): signing in ends their current session."""
    with page_unit(request):
        return login_page(request, login_nonce(request) or new_login_nonce())


@router.post_form("/login", policy=PUBLIC)
def sign_in(request: Request, form: FormDep) -> Response:
    """Sign in: the role's space, or the form again with the French reason."""
    check_login_csrf(request, form)
    nonce = login_nonce(request) or new_login_nonce()
    email = form.get("email") or ""
    try:
        credentials = Credentials.model_validate(
            {"email": email, "password": form.get("password") or ""}
        )
    except ValidationError as error:
        return _invalid(request, nonce, email, error)
    errors = {}
    if not credentials.email:
        errors["email"] = _missing()
    if not credentials.password:
        errors["password"] = _missing()
    if errors:
        return login_page(request, nonce, status=422, email=email, errors=errors)
    settings: Settings = request.app.state.settings
    database: Database = request.app.state.database
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    normalised, address = normalise_email(credentials.email), client_address(request, settings)
    try:
        throttle.attempt(email=normalised, address=address)
    except TooManyRequests as refusal:
        headers = {"Retry-After": str(refusal.retry_after)}
        return login_page(
            request, nonce, status=429, email=email, alert=refusal.message, headers=headers
        )
    with database.transaction(read_only=True) as session:
        try:
            user_id = authenticate(session, email=normalised, password=credentials.password).id
        except NotAuthenticated as failure:
            throttle.failed(address=address)
            return login_page(request, nonce, status=401, email=email, alert=failure.message)
    throttle.succeeded(email=normalised)
    return open_page_session(request, user_id)


def open_page_session(
    request: Request, user_id: uuid.UUID, *, id_token: str | None = None
) -> RedirectResponse:
    """The one way a sign-in (password or ProConnect) ends: a NEW session (the one the
    browser held is ended), its cookie, and the way to the role's space."""
    settings: Settings = request.app.state.settings
    database: Database = request.app.state.database
    with database.transaction() as session:
        user = session.get_one(User, user_id)
        token, _ = sessions.open_session(
            session,
            user=user,
            lifetimes=lifetimes(settings),
            now=utcnow(),
            previous_token=request.cookies.get(cookie_name(request, SESSION)),
            id_token=id_token,
        )
        space = SPACES[Role(user.role)]
    response = RedirectResponse(space, status_code=303)
    set_cookie(response, request, SESSION, token, settings.session_absolute_hours * 3600)
    clear_cookie(response, request, LOGIN_CSRF)
    return response


def _missing() -> str:
    return describe({"type": "missing"})["message"]


def _invalid(request: Request, nonce: str, email: str, error: ValidationError) -> Response:
    errors: dict[str, str] = {}
    for item in error.errors():
        described = describe(dict(item))
        errors.setdefault(described["field"], described["message"])
    shown = email if len(email) <= 320 else ""
    return login_page(request, nonce, status=422, email=shown, errors=errors)


@router.post_form("/logout", policy=SIGNED_IN)
def sign_out(request: Request, form: FormDep) -> Response:
    """End the session (CSRF checked) and go back to the home page; a session opened through
    ProConnect goes on to the provider's logout (``api.pages.proconnect.provider_logout``)."""
    with page_unit(request, form=form) as page:
        id_token = page.web_session.id_token if page.web_session is not None else None
        sessions.end_session(page.session, request.cookies.get(cookie_name(request, SESSION), ""))
    response = provider_logout(request, id_token) if id_token else None
    response = response or RedirectResponse("/", status_code=303)
    clear_cookie(response, request, SESSION)
    return response


def provider_logout(request: Request, id_token: str) -> RedirectResponse | None:
    """The way on to ProConnect's logout (RP-initiated: ``id_token_hint``, ``state``,
    ``post_logout_redirect_uri``) for a session it opened, the state kept in a signed cookie;
    ``None`` (local logout only) when the provider declares no logout endpoint."""
    provider: ProConnect | None = request.app.state.proconnect
    if provider is None:
        return None
    state = secrets.token_urlsafe(RANDOM_LENGTH)
    url = provider.logout_url(id_token=id_token, state=state)
    if url is None:
        return None
    response = RedirectResponse(url, status_code=303)
    settings: Settings = request.app.state.settings
    sealed = seal(settings, PROCONNECT_LOGOUT, {"state": state}, PROCONNECT_LOGOUT_SECONDS)
    set_cookie(response, request, PROCONNECT_LOGOUT, sealed, PROCONNECT_LOGOUT_SECONDS)
    return response
