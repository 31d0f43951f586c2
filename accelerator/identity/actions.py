"""Use cases on accounts: create organisations and users, authenticate."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.catalogue.models import Administration, Arrondissement
from accelerator.identity.models import Organisation, User
from accelerator.identity.passwords import hash_password, verify_password
from accelerator.identity.roles import Role
from accelerator.shared.errors import InvalidInput, NotAuthenticated
from accelerator.shared.text import t

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 4


def get_or_create_organisation(session: Session, *, name: str, now: dt.datetime) -> Organisation:
    """The organisation called ``name``, created if new."""
    organisation = session.scalar(select(Organisation).where(Organisation.name == name))
    if organisation is None:
        organisation = Organisation(name=name, created_at=now)
        session.add(organisation)
        session.flush()
    return organisation


def create_user(
    session: Session,
    *,
    email: str,
    role: Role,
    password: str,
    now: dt.datetime,
    name: str | None = None,
    administration: str | None = None,
    organisation: str | None = None,
    arrondissements: list[str] | None = None,
) -> User:
    """Create an account, checking what its role requires (organisation, administration...)."""
    email = normalise_email(email)
    if not EMAIL.match(email):
        raise InvalidInput(t("identity.email_invalid", email=email))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(t("identity.password_too_short", min_length=MIN_PASSWORD_LENGTH))
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise InvalidInput(t("identity.account_exists", email=email))
    if role is Role.AGENT:
        if administration is None:
            raise InvalidInput(t("identity.agent_needs_administration"))
        if session.get(Administration, administration) is None:
            raise InvalidInput(t("catalogue.administration_unknown", code=administration))
    elif administration is not None:
        raise InvalidInput(t("identity.only_agent_administration"))
    if role is Role.HOLDER and not organisation:
        raise InvalidInput(t("identity.holder_needs_organisation"))
    if role is not Role.HOLDER and organisation:
        raise InvalidInput(t("identity.only_holder_organisation"))
    codes = arrondissements or []
    if codes and role is not Role.REFERENT:
        raise InvalidInput(t("identity.only_referent_arrondissements"))
    for code in codes:
        if session.get(Arrondissement, code) is None:
            raise InvalidInput(t("catalogue.arrondissement_unknown", code=code))
    user = User(
        email=email,
        name=name or email.split("@")[0],
        role=role.value,
        password_hash=hash_password(password),
        administration_code=administration,
        organisation_id=(
            get_or_create_organisation(session, name=organisation, now=now).id
            if organisation
            else None
        ),
        arrondissements=codes,
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


#: The one answer to a failed sign-in: wrong password, unknown or deactivated account alike.
SIGN_IN_REFUSED = t("identity.sign_in_refused")


def normalise_email(email: str) -> str:
    """The form an e-mail is stored, looked up and throttled under."""
    return email.strip().lower()


def authenticate(session: Session, *, email: str, password: str) -> User:
    """The active user with these credentials, or ``NotAuthenticated``.

    An unknown or deactivated account gets the same answer as a wrong password, after the
    same work (a hash is verified in every case), so neither the answer nor its time tells
    which accounts exist or are active.
    """
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    matches = verify_password(user.password_hash if user else None, password)
    if user is None or not matches or not user.active:
        raise NotAuthenticated(SIGN_IN_REFUSED)
    return user


def account_for_proconnect(session: Session, *, email: str) -> User:
    """The EXISTING active account of an e-mail ProConnect verified (no account is created),
    or ``NotAuthenticated`` saying why: the person proved who they are to ProConnect, so the
    answer may tell them that this address has no account, or a deactivated one."""
    address = normalise_email(email)
    user = session.scalar(select(User).where(User.email == address))
    if user is None:
        raise NotAuthenticated(t("identity.proconnect.account_unknown", email=address))
    if not user.active:
        raise NotAuthenticated(t("identity.proconnect.account_deactivated"))
    return user
