"""What an administrator submits: accounts, roles, administrations, routing rules, internal
targets, closures; strict like every input (``shared.validation``)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from accelerator.identity.actions import EMAIL, normalise_email
from accelerator.identity.roles import Role
from accelerator.shared.text import t
from accelerator.shared.validation import STRICT_INPUT, Code, IsoDate, SingleLine, choice
from accelerator.sla.durations import Unit

#: The shortest password an administrator may give a new account.
MIN_PASSWORD_LENGTH = 12


def _email(value: str) -> str:
    """An e-mail address as accounts store it (lower case), or a French ``ValueError``."""
    email = normalise_email(value)
    if not EMAIL.match(email):
        raise ValueError(t("identity.email_invalid", email=email))
    return email


#: An e-mail address, checked where it is typed (its error shows under its field).
Email = Annotated[SingleLine, Field(min_length=3, max_length=320), AfterValidator(_email)]
AdministrationCode = Annotated[Code, Field(max_length=32)]
#: A routing rule's code, as the catalogue writes them (``abf``, ``icpe_industrial``).
RuleCode = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9_]{1,64}$", max_length=64)
]
ConsultationTypeCode = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9_]{1,64}$", max_length=64)
]
#: A rule's target: an administration's code or ``@grant_authority`` (the arrondissement's).
TargetAdministration = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, pattern=r"^(@grant_authority|[A-Z0-9][A-Z0-9_.-]*)$", max_length=32
    ),
]


class AccountIn(BaseModel):
    """A new account."""

    model_config = STRICT_INPUT

    email: Email
    name: SingleLine = Field(min_length=2, max_length=200)
    role: Annotated[Role, choice(Role)]
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=200)
    administration: AdministrationCode | None = None
    organisation: Annotated[SingleLine, Field(min_length=2, max_length=300)] | None = None
    arrondissements: list[Annotated[Code, Field(max_length=8)]] = Field(
        default_factory=list, max_length=20
    )


class RoleIn(BaseModel):
    """An account's new role, with what that role is attached to."""

    model_config = STRICT_INPUT

    role: Annotated[Role, choice(Role)]
    administration: AdministrationCode | None = None
    organisation: Annotated[SingleLine, Field(min_length=2, max_length=300)] | None = None
    arrondissements: list[Annotated[Code, Field(max_length=8)]] = Field(
        default_factory=list, max_length=20
    )


class AdministrationIn(BaseModel):
    """An administration's name and contact address."""

    model_config = STRICT_INPUT

    name: SingleLine = Field(min_length=2, max_length=300)
    contact_email: Email | None = None


class TargetIn(BaseModel):
    """One administration a routing rule sends a dossier to, and what it is asked."""

    model_config = STRICT_INPUT

    administration: TargetAdministration
    consultation_type: ConsultationTypeCode


class RoutingRuleIn(BaseModel):
    """A routing rule: when the condition holds, consult the targets."""

    model_config = STRICT_INPUT

    code: RuleCode
    rank: int = Field(ge=0, le=10_000)
    label: SingleLine = Field(min_length=3, max_length=300)
    condition: dict[str, Any] = Field(max_length=50)
    targets: list[TargetIn] = Field(min_length=1, max_length=50)


class InternalTargetIn(BaseModel):
    """The platform's own target for an opinion (not the legal deadline): for one
    consultation type, for every administration or for one of them."""

    model_config = STRICT_INPUT

    consultation_type: ConsultationTypeCode
    administration: AdministrationCode | None = None
    amount: int = Field(ge=1, le=1000)
    unit: Annotated[Unit, choice(Unit)]


class ClosureIn(BaseModel):
    """A day a calendar's offices are closed (a bridge day, an exceptional closure)."""

    model_config = STRICT_INPUT

    calendar: Annotated[Code, Field(max_length=16)]
    date: IsoDate
    name: SingleLine = Field(min_length=2, max_length=200)


class ClosureOut(BaseModel):
    """A closure removed or added, and how many running clocks moved."""

    calendar: str
    date: str
    name: str
    clocks_moved: int
