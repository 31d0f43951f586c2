"""Signed access tokens (JWT, HS256) carrying the user's id.

A token must name its user (``sub``), say when it was issued (``iat``) and when it expires
(``exp``), and live no longer than the configured lifetime: a token that outlives it (``exp``
in 9999, or an ``exp`` far after its ``iat``) was not issued by this product as configured.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

import jwt

from accelerator.shared.config import Settings
from accelerator.shared.errors import NotAuthenticated
from accelerator.shared.text import t

ALGORITHM = "HS256"
#: Clock difference tolerated between the processes that issue and check tokens (seconds).
LEEWAY = 60
REQUIRED_CLAIMS = ["exp", "iat", "sub"]


def issue(settings: Settings, user_id: uuid.UUID, *, now: dt.datetime) -> str:
    """A token for ``user_id`` valid for the configured lifetime."""
    claims = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int((now + dt.timedelta(minutes=settings.token_lifetime_minutes)).timestamp()),
    }
    return jwt.encode(claims, settings.signing_key, algorithm=ALGORITHM)


def read(settings: Settings, token: str, *, now: float | None = None) -> uuid.UUID:
    """The user id in a valid token; ``NotAuthenticated`` otherwise (no database read)."""
    now = time.time() if now is None else now
    lifetime = settings.token_lifetime_minutes * 60
    try:
        claims = jwt.decode(
            token,
            settings.signing_key,
            algorithms=[ALGORITHM],
            options={"require": REQUIRED_CLAIMS},
            leeway=LEEWAY,
        )
        issued, expires = claims["iat"], claims["exp"]
        if not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in (issued, expires)
        ):
            raise jwt.InvalidTokenError("iat and exp must be numbers")
        if expires - issued > lifetime + LEEWAY or expires > now + lifetime + LEEWAY:
            raise jwt.InvalidTokenError("lifetime longer than configured")
        return uuid.UUID(claims["sub"])
    except jwt.ExpiredSignatureError:
        raise NotAuthenticated(t("auth.session_expired")) from None
    except (jwt.InvalidTokenError, KeyError, TypeError, ValueError, AttributeError):
        raise NotAuthenticated(t("auth.token_invalid")) from None
