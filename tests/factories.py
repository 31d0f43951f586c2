"""Build dossiers through the domain actions at chosen instants (no HTTP, no Prefect)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from accelerator.assignment.actions import (
    propose_referent,
    start_procedure_clocks,
    start_take_charge_clock,
)
from accelerator.consultations.actions import (
    complete_launch,
    create_consultation,
    launch_consultations,
)
from accelerator.consultations.models import Consultation
from accelerator.dossiers.actions import create_dossier, file_dossier, take_charge
from accelerator.dossiers.schemas import DossierCreate
from accelerator.identity.actions import create_user
from accelerator.identity.models import User
from accelerator.identity.roles import Role
from accelerator.routing.actions import route_dossier
from accelerator.shared.db import Database

PARIS = ZoneInfo("Europe/Paris")


def paris(*args: int) -> dt.datetime:
    """An instant in Paris local time."""
    return dt.datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


def users(db: Database, now: dt.datetime) -> dict[str, uuid.UUID]:
    """holder, referent and one agent per administration used in the tests."""
    specs: list[tuple[str, Role, dict[str, Any]]] = [
        ("holder@f.test", Role.HOLDER, {"organisation": "Fabrique"}),
        ("referent@f.test", Role.REFERENT, {"arrondissements": ["651", "652", "653"]}),
    ]
    for code in ("UDAP-65", "SDIS-65", "DDT-65", "PREF-65"):
        specs.append((f"agent.{code.lower()}@f.test", Role.AGENT, {"administration": code}))
    with db.transaction() as session:
        existing = {u.email: u.id for u in session.scalars(select(User))}
        for email, role, extra in specs:
            if email not in existing:
                existing[email] = create_user(
                    session, email=email, role=role, password="password", now=now, **extra
                ).id
    return existing


def user(db: Database, email: str) -> User:
    """A detached user by e-mail."""
    with db.transaction() as session:
        found = session.scalars(select(User).where(User.email == email)).one()
        session.expunge(found)
        return found


def filed(
    db: Database,
    *,
    now: dt.datetime,
    procedures: list[str] | None = None,
    attributes: dict[str, Any] | None = None,
    commune: str = "65440",
) -> uuid.UUID:
    """A dossier filed at ``now``, routed, with its clocks started (the intake flow's steps)."""
    users(db, now)
    holder = user(db, "holder@f.test")
    data = DossierCreate.model_validate(
        {
            "title": "Projet d'essai",
            "commune_insee": commune,
            "procedures": procedures or ["PC"],
            "attributes": attributes or {},
        }
    )
    with db.transaction() as session:
        dossier = create_dossier(session, data=data, user=holder, now=now)
        file_dossier(session, dossier_id=dossier.id, user=holder, now=now)
        dossier_id = dossier.id
    with db.transaction() as session:
        route_dossier(session, dossier_id=dossier_id, now=now)
        propose_referent(session, dossier_id=dossier_id, now=now)
        start_take_charge_clock(session, dossier_id=dossier_id)
        start_procedure_clocks(session, dossier_id=dossier_id)
    return dossier_id


def launched(
    db: Database, dossier_id: uuid.UUID, administrations: list[str], *, now: dt.datetime
) -> dict[str, uuid.UUID]:
    """Take in charge and launch at ``now``; the consultations by administration code."""
    referent = user(db, "referent@f.test")
    with db.transaction() as session:
        take_charge(session, dossier_id=dossier_id, user=referent, now=now)
        launch = launch_consultations(
            session, dossier_id=dossier_id, administrations=administrations, user=referent, now=now
        )
        launch_id = launch.id
    for code in administrations:
        with db.transaction() as session:
            create_consultation(session, launch_id=launch_id, administration=code)
    with db.transaction() as session:
        complete_launch(session, launch_id=launch_id, now=now)
        return {
            c.administration_code: c.id
            for c in session.scalars(
                select(Consultation).where(Consultation.dossier_id == dossier_id)
            )
        }
