"""Dependencies shared by the routers: a session per request, the signed-in user."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from accelerator.identity.models import User
from accelerator.shared import logs
from accelerator.shared.config import Settings
from accelerator.shared.db import Database
from accelerator.shared.errors import InvalidInput, NotAuthenticated, NotFound
from accelerator.shared.text import t
from accelerator.shared.validation import MAX_OFFSET, MAX_PAGE
from api import tokens

#: Methods whose unit of work is read-only (``Database.transaction(read_only=True)``): a GET
#: never changes anything, and on SQLite it then takes no write lock.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_settings(request: Request) -> Settings:
    """The app's settings (``async``: no I/O, so FastAPI calls it without a thread hop)."""
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """A session whose transaction commits when the route returns (before the response);
    read-only for a GET (no write lock on SQLite)."""
    database: Database = request.app.state.database
    with database.transaction(read_only=request.method in READ_METHODS) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": commit right after the route returns, before the response is sent, so a
# client never reads an answer about a change that is not yet committed.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

bearer = HTTPBearer(auto_error=False, description="Jeton obtenu par POST /api/v1/auth/token")


BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def get_current_user(session: SessionDep, settings: SettingsDep, credentials: BearerDep) -> User:
    """The active user the bearer token names; 401 otherwise."""
    return authenticate(session, settings, credentials)


def token_subject(
    settings: Settings, credentials: HTTPAuthorizationCredentials | None
) -> uuid.UUID:
    """The user id a valid bearer token names (signature and claims, no database); 401
    otherwise. ``api.routes.Route`` calls it before the body is read."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated(t("http.status_401"))
    return tokens.read(settings, credentials.credentials)


def authenticate(
    session: Session, settings: Settings, credentials: HTTPAuthorizationCredentials | None
) -> User:
    """The active user ``credentials`` name; 401 otherwise."""
    user = session.get(User, token_subject(settings, credentials))
    if user is None or not user.active:
        raise NotAuthenticated(t("auth.account_unknown"))
    logs.annotate(user_id=str(user.id), role=user.role)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_if_match(if_match: Annotated[str | None, Header(max_length=64)] = None) -> int | None:
    """The version the client last read (``If-Match: 3`` or ``"3"``), for optimistic locking
    (``async``: no I/O, so FastAPI calls it without a thread hop)."""
    if if_match is None:
        return None
    try:
        return int(if_match.strip().removeprefix("W/").strip('"'))
    except ValueError:
        raise InvalidInput(t("http.if_match_invalid")) from None


IfMatch = Annotated[int | None, Depends(get_if_match)]


def parse_id(value: str, what: str = "Objet") -> uuid.UUID:
    """A path id as UUID; a malformed id is simply not found."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(t("http.object_not_found", what=what)) from None


#: A list's page: how many items (at most ``MAX_PAGE``) and from which one.
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
