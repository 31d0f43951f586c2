"""The administrators' directory: administrations and accounts, read a page at a time."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accelerator.catalogue.models import Administration
from accelerator.identity.models import Organisation, User
from accelerator.identity.roles import Role

#: The most rows a page may ask for.
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class AdministrationRow:
    """An administration of the catalogue and how many agents it has."""

    code: str
    name: str
    calendar: str
    agents: int
    contact_email: str | None = None
    active: bool = True


@dataclass(frozen=True)
class UserRow:
    """An account as the directory lists it."""

    id: uuid.UUID
    email: str
    name: str
    role: Role
    administration: str | None
    organisation: str | None
    arrondissements: list[str]
    active: bool


def administrations(session: Session) -> list[AdministrationRow]:
    """Every administration with its number of agents, by code (one query)."""
    agents = (
        select(User.administration_code, func.count().label("agents"))
        .where(User.role == Role.AGENT.value)
        .group_by(User.administration_code)
        .subquery()
    )
    query = (
        select(Administration, func.coalesce(agents.c.agents, 0))
        .outerjoin(agents, agents.c.administration_code == Administration.code)
        .order_by(Administration.code)
    )
    return [
        AdministrationRow(
            a.code, a.name, a.calendar_code, int(count), a.contact_email, bool(a.active)
        )
        for a, count in session.execute(query)
    ]


def users(session: Session, *, page: int, page_size: int) -> tuple[int, int, list[UserRow]]:
    """How many accounts there are, the page shown (at most the last) and its accounts, by
    role then e-mail (two queries)."""
    count = int(session.scalar(select(func.count()).select_from(User)) or 0)
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    page = max(1, min(page, -(-count // page_size)))
    query = (
        select(User, Organisation.name)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .order_by(User.role, User.email)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    rows = [
        UserRow(
            id=u.id,
            email=u.email,
            name=u.name,
            role=Role(u.role),
            administration=u.administration_code,
            organisation=organisation,
            arrondissements=list(u.arrondissements or []),
            active=u.active,
        )
        for u, organisation in session.execute(query)
    ]
    return count, page, rows
