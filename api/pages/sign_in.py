"""Signing in and out of the pages, with the API's identity code, limits and messages.

``POST /login`` checks the form's CSRF token, then exactly what ``POST /api/v1/auth/token``
does: the same throttle (per account, per address: ``accelerator.identity.throttle``), the same
``authenticate`` and its one French message for any failure. The password is checked in a
read-only transaction (argon2 takes a while: no write lock held meanwhile); a NEW session is
then opened (any session the browser held is ended) and the browser sent to its role's space.
``POST /logout`` deletes the session: the old cookie opens nothing afterwards.
"""

from __future__ import annotations

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
    set_cookie,
)
from api.policies import PUBLIC, SIGNED_IN
from api.routers.auth import Credentials, client_address

router = PageRouter(tags=["pages"])

#: The sign-in form's CSRF cookie lives as long as a form may stay open.
LOGIN_CSRF_SECONDS = 2 * 60 * 60


def _form(
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
        return _form(request, login_nonce(request) or new_login_nonce())


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
        return _form(request, nonce, status=422, email=email, errors=errors)
    settings: Settings = request.app.state.settings
    database: Database = request.app.state.database
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    normalised, address = normalise_email(credentials.email), client_address(request, settings)
    try:
        throttle.attempt(email=normalised, address=address)
    except TooManyRequests as refusal:
        headers = {"Retry-After": str(refusal.retry_after)}
        return _form(
            request, nonce, status=429, email=email, alert=refusal.message, headers=headers
        )
    with database.transaction(read_only=True) as session:
        try:
            user_id = authenticate(session, email=normalised, password=credentials.password).id
        except NotAuthenticated as failure:
            throttle.failed(address=address)
            return _form(request, nonce, status=401, email=email, alert=failure.message)
    throttle.succeeded(email=normalised)
    now = utcnow()
    with database.transaction() as session:
        user = session.get_one(User, user_id)
        token, _ = sessions.open_session(
            session,
            user=user,
            lifetimes=lifetimes(settings),
            now=now,
            previous_token=request.cookies.get(cookie_name(request, SESSION)),
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
    return _form(request, nonce, status=422, email=shown, errors=errors)


@router.post_form("/logout", policy=SIGNED_IN)
def sign_out(request: Request, form: FormDep) -> Response:
    """End the session (CSRF checked) and go back to the home page."""
    with page_unit(request, form=form) as page:
        sessions.end_session(page.session, request.cookies.get(cookie_name(request, SESSION), ""))
    response = RedirectResponse("/", status_code=303)
    clear_cookie(response, request, SESSION)
    return response
