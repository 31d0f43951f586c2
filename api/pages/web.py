"""The pages' edges: the browser's session cookie, CSRF, forms, and each page's unit of work.

- The session lives server-side (``accelerator.identity.sessions``); the cookie holds a random
  token: ``__Host-accelerator-session``, ``Secure``, ``HttpOnly``, ``SameSite=Lax``, path ``/``,
  no domain. Only the demo served on plain ``http://`` drops ``Secure`` and therefore the
  ``__Host-`` prefix, which browsers refuse without it (``accelerator-session``).
- Every form post carries ``csrf_token``: the session's own token (synchroniser token), or,
  for the sign-in form that comes before any session, an HMAC of a random value also held in a
  ``__Host-accelerator-csrf`` cookie (signed double submit). Without it: 403, nothing done.
- ``page_unit`` is a page's unit of work, in the worker thread FastAPI runs the page in: the
  transaction (read-only for a GET), the session and its user, the route's declared policy
  (anonymous: to the sign-in page; another role: 403), the CSRF check of a post, then the
  idle-timeout bookkeeping (at most one write a minute per session for GETs).
- ``PageRouter`` requires a policy on every page route (``api.policies``), like the API's
  ``Router``, refuses undeclared query parameters and bounds form bodies (``api.limits``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import parse_qsl

import jwt
from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from accelerator.identity import sessions
from accelerator.identity.models import User
from accelerator.identity.roles import Role
from accelerator.identity.sessions import Lifetimes, WebSession
from accelerator.messages.queries import count_unread
from accelerator.shared.config import Settings
from accelerator.shared.db import Database, utcnow
from accelerator.shared.errors import AcceleratorError, Forbidden, InvalidInput
from accelerator.shared.text import t
from api import limits, policies
from api.deps import READ_METHODS
from api.policies import Policy
from api.routes import query_names

SESSION = "session"
LOGIN_CSRF = "csrf"
CSRF_FIELD = "csrf_token"
#: A session's last activity is written at most this often by GETs (idle timeout).
TOUCH_EVERY = dt.timedelta(seconds=60)
#: The largest form body a page takes unless it declares more.
FORM_LIMIT = 64 * 1024
#: The most fields a form may carry.
MAX_FIELDS = 100
FORM_TYPE = "application/x-www-form-urlencoded"

#: Where each role lands after signing in.
SPACES: dict[Role, str] = {
    Role.HOLDER: "/mes-dossiers",
    Role.REFERENT: "/file-de-travail",
    Role.AGENT: "/mes-consultations",
    Role.MANAGER: "/pilotage",
    Role.ADMIN: "/gestion",
}


class SignInRequired(Exception):
    """A page needs a signed-in user: the answer is the way to the sign-in page."""


class CsrfRefused(Forbidden):
    """A form post without the right CSRF token (403)."""

    def __init__(self) -> None:
        super().__init__(t("pages.csrf.refused"))


class UnsupportedMediaType(AcceleratorError):
    """A form post that is not a form (415)."""

    status_code = 415


# --- Cookies -----------------------------------------------------------------------------


def side_menu(entries: list[tuple[str, str]], current: str) -> list[dict[str, object]]:
    """A space's side menu (``partials/macros.html``'s ``side_menu``): each ``(url, catalogue
    key)`` entry with its label, the ``current`` one marked."""
    return [{"url": url, "label": t(key), "current": url == current} for url, key in entries]


def secure_cookies(request: Request) -> bool:
    """Whether cookies are ``Secure`` (always, but for the demo on plain http)."""
    settings: Settings = request.app.state.settings
    return not settings.demo or request.url.scheme == "https"


def cookie_name(request: Request, base: str) -> str:
    """``__Host-accelerator-<base>``, or ``accelerator-<base>`` on the plain-http demo."""
    return f"__Host-accelerator-{base}" if secure_cookies(request) else f"accelerator-{base}"


def set_cookie(response: Response, request: Request, base: str, value: str, max_age: int) -> None:
    """Set one of the pages' cookies with every protection its name promises."""
    response.set_cookie(
        cookie_name(request, base),
        value,
        max_age=max_age,
        path="/",
        secure=secure_cookies(request),
        httponly=True,
        samesite="lax",
    )


def clear_cookie(response: Response, request: Request, base: str) -> None:
    """Tell the browser to forget one of the pages' cookies."""
    response.delete_cookie(
        cookie_name(request, base),
        path="/",
        secure=secure_cookies(request),
        httponly=True,
        samesite="lax",
    )


def lifetimes(settings: Settings) -> Lifetimes:
    """The session timeouts the settings give."""
    return Lifetimes(
        idle=dt.timedelta(minutes=settings.session_idle_minutes),
        absolute=dt.timedelta(hours=settings.session_absolute_hours),
    )


# --- CSRF of the sign-in form (before any session) ----------------------------------------


def login_nonce(request: Request) -> str | None:
    """The random value of the sign-in form's CSRF cookie, if it looks like ours."""
    value = request.cookies.get(cookie_name(request, LOGIN_CSRF))
    if value and len(value) <= sessions.MAX_TOKEN_LENGTH and value.isascii():
        return value
    return None


def new_login_nonce() -> str:
    """A fresh random value for the sign-in form's CSRF cookie."""
    return secrets.token_urlsafe(sessions.TOKEN_BYTES)


def login_csrf_token(settings: Settings, nonce: str) -> str:
    """The sign-in form's hidden token: an HMAC of the cookie's value with the app's key."""
    key = settings.signing_key.encode()
    return hmac.new(key, b"login-csrf:" + nonce.encode("ascii"), hashlib.sha256).hexdigest()


def check_login_csrf(request: Request, form: Form) -> None:
    """Refuse (403) a sign-in post whose token does not match its CSRF cookie."""
    nonce = login_nonce(request)
    settings: Settings = request.app.state.settings
    if nonce is None or not sessions.csrf_matches(
        login_csrf_token(settings, nonce), form.get(CSRF_FIELD)
    ):
        raise CsrfRefused()


# --- Signed short-lived cookies (ProConnect's flow) ---------------------------------------


def _sealing_key(settings: Settings, purpose: str) -> bytes:
    """A key of its own per purpose, derived from the app's: an access token or another
    purpose's cookie is never accepted for this one."""
    return hmac.new(settings.signing_key.encode(), b"sealed:" + purpose.encode(), "sha256").digest()


def seal(settings: Settings, purpose: str, values: dict[str, str], seconds: int) -> str:
    """``values`` signed (HS256) for ``purpose``, valid ``seconds``: a cookie's value that
    the browser carries and cannot change (it can read it: no secret goes in)."""
    claims: dict[str, object] = {**values, "aud": purpose, "exp": int(time.time()) + seconds}
    return jwt.encode(claims, _sealing_key(settings, purpose), algorithm="HS256")


def unseal(settings: Settings, purpose: str, value: str | None) -> dict[str, str] | None:
    """The values ``seal`` signed for ``purpose``, or ``None`` (absent, forged, expired,
    another purpose's)."""
    if not value or len(value) > 4096:
        return None
    try:
        claims = jwt.decode(
            value, _sealing_key(settings, purpose), algorithms=["HS256"], audience=purpose
        )
    except jwt.PyJWTError:
        return None
    return {k: v for k, v in claims.items() if isinstance(v, str) and k != "aud"}


# --- Forms -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Form:
    """The fields of a posted form (the first value of each name; ``all`` for lists)."""

    values: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        """The first value posted under ``name``."""
        found = self.values.get(name)
        return found[0] if found else None

    def all(self, name: str) -> list[str]:
        """Every value posted under ``name`` (checkboxes)."""
        return list(self.values.get(name, []))


async def read_form(request: Request) -> Form:
    """The posted form, bounded (``FORM_LIMIT`` bytes, ``MAX_FIELDS`` fields, UTF-8); 415 for
    anything but a form, 422 for an unreadable one."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM_TYPE:
        raise UnsupportedMediaType(t("pages.form.not_a_form"))
    body = await request.body()
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput(t("pages.form.unreadable")) from None
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        values.setdefault(name, []).append(value)
    return Form(values)


FormDep = Annotated[Form, Depends(read_form)]


# --- A page's unit of work -----------------------------------------------------------------


@dataclass(frozen=True)
class Visitor:
    """Who is looking at the page, as the header shows it (also for error pages)."""

    name: str
    email: str
    role: Role
    space: str
    csrf_token: str
    unread_messages: int


@dataclass
class Page:
    """What a page route works with: the transaction, the user and their session, the time."""

    request: Request
    session: Session
    settings: Settings
    now: dt.datetime
    user: User | None
    web_session: WebSession | None

    @property
    def signed_in(self) -> User:
        """The user (the route's policy guarantees one)."""
        if self.user is None:  # pragma: no cover - the policy check comes first
            raise SignInRequired()
        return self.user


def unread_messages(session: Session, user: User) -> int:
    """How many messages of others ``user`` has not read (the header's count)."""
    return count_unread(session, user)


def policy_of_request(request: Request) -> Policy:
    """The declared policy of the page route answering ``request``."""
    route = request.scope.get("route")
    policy = policies.policy_of(route) if isinstance(route, APIRoute) else None
    if policy is None:  # pragma: no cover - PageRouter refuses routes without one
        raise RuntimeError(f"Page without an access policy: {request.url.path}")
    return policy


def check_csrf(expected: str, form: Form | None) -> None:
    """The one CSRF rule of a signed-in user's post: its form carries the session's token
    (403, nothing done, otherwise)."""
    if form is None or not sessions.csrf_matches(expected, form.get(CSRF_FIELD)):
        raise CsrfRefused()


@contextmanager
def page_unit(
    request: Request, *, form: Form | None = None, body_unread: bool = False
) -> Iterator[Page]:
    """The page's unit of work: transaction, session, user, policy, CSRF (see the module).

    ``body_unread`` for a post: a read-only unit that writes nothing, so checks no CSRF token:
    who posts and whether their role may before the body is read (a file upload,
    ``api.pages.uploads``, whose token, inside the body, the unit that acts then checks), or
    the page shown again beside a form's errors.
    """
    settings: Settings = request.app.state.settings
    database: Database = request.app.state.database
    policy = policy_of_request(request)
    read_only = request.method in READ_METHODS or body_unread
    now = utcnow()
    span = lifetimes(settings)
    token = request.cookies.get(cookie_name(request, SESSION))
    touched: str | None = None
    with database.transaction(read_only=read_only) as session:
        found = sessions.find_session(session, token, lifetimes=span, now=now)
        web_session, user = found if found is not None else (None, None)
        if user is not None and web_session is not None:
            request.state.visitor = Visitor(
                name=user.name,
                email=user.email,
                role=Role(user.role),
                space=SPACES[Role(user.role)],
                csrf_token=web_session.csrf_token,
                unread_messages=unread_messages(session, user),
            )
        if not policy.public:
            if user is None:
                raise SignInRequired()
            if policy.scope_of(Role(user.role)) is None:
                raise Forbidden(t("pages.error.forbidden_role"))
        if not read_only and web_session is not None and not policy.public:
            check_csrf(web_session.csrf_token, form)
        if web_session is not None and now - web_session.last_seen_at >= TOUCH_EVERY:
            if read_only:
                touched = web_session.id
            else:
                sessions.touch(session, web_session.id, now=now)
        yield Page(request, session, settings, now, user, web_session)
    if touched is not None:
        with database.transaction() as session:
            sessions.touch(session, touched, now=now)


# --- Routes ------------------------------------------------------------------------------


class PageRoute(APIRoute):
    """A page: undeclared query parameters refused (422 page), form bodies bounded."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, preceded by the query check and the body limit."""
        handler = super().get_route_handler()
        known = query_names(self.dependant)
        own_limit = limits.declared_limit(self.endpoint) or FORM_LIMIT

        async def guarded(request: Request) -> Response:
            unknown = [name for name in request.query_params if name not in known]
            if unknown:
                raise InvalidInput(
                    t("pages.error.unknown_parameter", names=", ".join(sorted(set(unknown))))
                )
            request.scope[limits.SCOPE_KEY] = own_limit
            limits.refuse_declared_excess(request.scope)
            return await handler(request)

        return guarded


def is_page_route(route: object) -> bool:
    """Whether ``route`` is one of the pages (HTML, cookie session) rather than the API."""
    return isinstance(route, PageRoute)


class PageRouter(APIRouter):
    """An ``APIRouter`` of pages: each route declares its policy (``api.policies``), enforced
    by ``page_unit``; none shows in the OpenAPI document."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("route_class", PageRoute)
        kwargs.setdefault("include_in_schema", False)
        super().__init__(**kwargs)

    def page(
        self, path: str, *, policy: Policy, methods: list[str], **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a page at ``path`` for ``methods`` under ``policy``."""

        def decorator(endpoint: Callable[..., Any]) -> Callable[..., Any]:
            policies.declare(policy)(endpoint)
            self.add_api_route(path, endpoint, methods=methods, **kwargs)
            return endpoint

        return decorator

    def get_page(
        self, path: str, *, policy: Policy, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """A page read with GET."""
        return self.page(path, policy=policy, methods=["GET"], **kwargs)

    def post_form(
        self, path: str, *, policy: Policy, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """A form posted to ``path`` (CSRF checked by ``page_unit``)."""
        return self.page(path, policy=policy, methods=["POST"], **kwargs)
