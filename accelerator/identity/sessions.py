"""Signed-in browser sessions (the web pages), kept server-side.

The browser holds only a random token (256 bits) in its cookie; the table keeps its SHA-256, so
a copy of the database opens no session. A session ends when it is idle longer than the idle
timeout, when it reaches its absolute lifetime, or at sign-out (its row is deleted: the old
cookie then opens nothing). Each session has its own CSRF token (synchroniser token): every form
of the pages carries it and every form post must return it.

Signing in always opens a NEW session (a token the browser held before, from an earlier
sign-in or planted by someone else, is ended): no session fixation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import ForeignKey, String, Text, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from accelerator.identity.models import User
from accelerator.shared.db import Base, UTCDateTime

#: Bytes of randomness of a session token and of a CSRF token.
TOKEN_BYTES = 32
#: Longest token read from a cookie (a longer value is not ours).
MAX_TOKEN_LENGTH = 128


class WebSession(Base):
    """One signed-in browser: whose, since when, last seen, until when at most."""

    __tablename__ = "web_sessions"

    #: SHA-256 (hex) of the token in the browser's cookie.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    #: The ID token of a sign-in through ProConnect (the logout's ``id_token_hint``), or
    #: ``None`` for a password sign-in.
    id_token: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)


@dataclass(frozen=True)
class Lifetimes:
    """How long a session lives: without activity, and at most."""

    idle: dt.timedelta
    absolute: dt.timedelta


def token_hash(token: str) -> str:
    """The stored form of a browser's token."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def open_session(
    session: Session,
    *,
    user: User,
    lifetimes: Lifetimes,
    now: dt.datetime,
    previous_token: str | None = None,
    id_token: str | None = None,
) -> tuple[str, WebSession]:
    """A new session for ``user``: the token for the cookie, and its row; ends the session
    ``previous_token`` named, if any (a new id at every sign-in). ``id_token``: the one
    ProConnect gave, for its logout."""
    if previous_token:
        end_session(session, previous_token)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = WebSession(
        id=token_hash(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(TOKEN_BYTES),
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetimes.absolute,
        id_token=id_token,
    )
    session.add(row)
    session.flush()
    return token, row


def find_session(
    session: Session, token: str | None, *, lifetimes: Lifetimes, now: dt.datetime
) -> tuple[WebSession, User] | None:
    """The live session ``token`` names and its active user, or ``None`` (unknown, ended,
    idle too long, past its lifetime, or the account deactivated)."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return None
    found = session.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.id == token_hash(token))
    ).first()
    if found is None:
        return None
    row, user = found
    if not is_live(row, lifetimes=lifetimes, now=now) or not user.active:
        return None
    return row, user


def is_live(row: WebSession, *, lifetimes: Lifetimes, now: dt.datetime) -> bool:
    """Whether ``row`` is neither idle too long nor past its absolute lifetime."""
    return now < row.expires_at and now < row.last_seen_at + lifetimes.idle


def touch(session: Session, session_id: str, *, now: dt.datetime) -> None:
    """Record activity on a session (moves its idle deadline, never its absolute one)."""
    session.execute(update(WebSession).where(WebSession.id == session_id).values(last_seen_at=now))


def end_session(session: Session, token: str) -> None:
    """End the session ``token`` names (sign-out): its cookie opens nothing any more."""
    if token and len(token) <= MAX_TOKEN_LENGTH and token.isascii():
        session.execute(delete(WebSession).where(WebSession.id == token_hash(token)))


def purge_expired(session: Session, *, lifetimes: Lifetimes, now: dt.datetime) -> int:
    """Delete the sessions that can no longer be used; how many."""
    result = session.execute(
        delete(WebSession).where(
            (WebSession.expires_at <= now) | (WebSession.last_seen_at <= now - lifetimes.idle)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def csrf_matches(expected: str, given: str | None) -> bool:
    """Whether a form returned the session's CSRF token (constant-time comparison)."""
    if not given or len(given) > MAX_TOKEN_LENGTH or not given.isascii():
        return False
    return hmac.compare_digest(expected.encode("ascii"), given.encode("ascii"))
