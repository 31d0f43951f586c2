"""Signed access tokens (JWT, HS256) carrying the user's id."""

from __future__ import annotations

import datetime as dt
import uuid

import jwt

from accelerator.config import Settings
from accelerator.errors import NotAuthenticated

ALGORITHM = "HS256"


def issue(settings: Settings, user_id: uuid.UUID, *, now: dt.datetime) -> str:
    """A token for ``user_id`` valid for the configured lifetime."""
    claims = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int((now + dt.timedelta(minutes=settings.token_lifetime_minutes)).timestamp()),
    }
    return jwt.encode(claims, settings.signing_key, algorithm=ALGORITHM)


def read(settings: Settings, token: str) -> uuid.UUID:
    """The user id in a valid token; ``NotAuthenticated`` otherwise."""
    try:
        claims = jwt.decode(token, settings.signing_key, algorithms=[ALGORITHM])
        return uuid.UUID(claims["sub"])
    except jwt.ExpiredSignatureError:
        raise NotAuthenticated("Session expirée : reconnectez-vous.") from None
    except (jwt.InvalidTokenError, KeyError, ValueError):
        raise NotAuthenticated("Jeton d'accès invalide.") from None
