"""Sign in: exchange an e-mail and password for a bearer token."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from accelerator.db import utcnow
from accelerator.identity.actions import authenticate
from api import tokens
from api.contract import errors_documented
from api.deps import SessionDep, SettingsDep
from api.unit_of_work import Router

router = Router(prefix="/api/v1/auth", tags=["authentification"])


class Credentials(BaseModel):
    """E-mail and password."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    password: str = Field(max_length=1000)


class Token(BaseModel):
    """A bearer token."""

    access_token: str
    token_type: str = "bearer"


@router.post("/token", responses=errors_documented(401, 429))
def issue_token(credentials: Credentials, session: SessionDep, settings: SettingsDep) -> Token:
    """Sign in and get a bearer token."""
    user = authenticate(session, email=credentials.email, password=credentials.password)
    return Token(access_token=tokens.issue(settings, user.id, now=utcnow()))
