"""Sign in: exchange an e-mail and password for a bearer token, within the sign-in budgets."""

from __future__ import annotations

import ipaddress

from fastapi import Request
from pydantic import BaseModel, Field

from accelerator.identity.actions import authenticate, normalise_email
from accelerator.identity.throttle import SignInThrottle
from accelerator.shared.config import Settings
from accelerator.shared.db import utcnow
from accelerator.shared.errors import NotAuthenticated
from accelerator.shared.validation import STRICT_INPUT, SingleLine
from api import tokens
from api.contract import errors_documented
from api.deps import SessionDep, SettingsDep
from api.policies import PUBLIC
from api.unit_of_work import Router

router = Router(prefix="/api/v1/auth", tags=["authentification"])


class Credentials(BaseModel):
    """E-mail and password."""

    model_config = STRICT_INPUT

    email: SingleLine = Field(max_length=320)
    #: Not cleaned: a password is compared as typed.
    password: str = Field(max_length=1000)


class Token(BaseModel):
    """A bearer token."""

    access_token: str
    token_type: str = "bearer"


def client_address(request: Request, settings: Settings) -> str:
    """The client's address: the socket peer, or what a trusted proxy says it forwarded.

    ``X-Forwarded-For`` is read only when the peer is one of ``trusted_proxies``, from the
    right (each proxy appends the address it saw): the first address that is not itself a
    trusted proxy is the client. Anyone else could write any address there.
    """
    peer = request.client.host if request.client else "inconnue"
    trusted = settings.trusted_networks
    if not trusted or not _within(peer, trusted):
        return peer
    forwarded = ",".join(request.headers.getlist("x-forwarded-for"))
    for item in reversed([part.strip() for part in forwarded.split(",")][:64]):
        if not _within(item, trusted):
            try:
                return str(ipaddress.ip_address(item))
            except ValueError:
                return peer  # a malformed chain: trust no part of it
    return peer


def _within(
    address: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)


#: 429 carries how long to wait.
_SIGN_IN_ERRORS = errors_documented(401, 429)
_SIGN_IN_ERRORS[429]["headers"] = {
    "Retry-After": {"description": "Secondes à attendre.", "schema": {"type": "integer"}}
}


@router.post(
    "/token",
    policy=PUBLIC,
    responses=_SIGN_IN_ERRORS,
)
def issue_token(
    credentials: Credentials, session: SessionDep, settings: SettingsDep, request: Request
) -> Token:
    """Sign in and get a bearer token (attempts limited per account and per address)."""
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    email, address = normalise_email(credentials.email), client_address(request, settings)
    throttle.attempt(email=email, address=address)
    try:
        user = authenticate(session, email=email, password=credentials.password)
    except NotAuthenticated:
        throttle.failed(address=address)
        raise
    throttle.succeeded(email=email)
    return Token(access_token=tokens.issue(settings, user.id, now=utcnow()))
