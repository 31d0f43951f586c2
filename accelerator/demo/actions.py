"""The demo dataset: accounts of every role and the demo projects of docs/domain.md.

Only loaded in demo mode (``accelerator demo``); every account's password is ``demo``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.catalogue.models import Administration
from accelerator.dossiers.actions import create_dossier, file_dossier
from accelerator.dossiers.models import Dossier
from accelerator.dossiers.schemas import DossierCreate
from accelerator.identity.actions import create_user
from accelerator.identity.models import User
from accelerator.identity.roles import Role

DEMO_PASSWORD = "demo"
HOLDER_ORGANISATION = "SAS Hôtellerie des Gaves"
HOLDER2_ORGANISATION = "Commune de Bagnères-de-Bigorre"


@dataclass(frozen=True)
class DemoAccount:
    """One demo account."""

    email: str
    role: Role
    name: str
    organisation: str | None = None
    administration: str | None = None
    arrondissements: tuple[str, ...] = ()


def demo_accounts(administrations: list[str]) -> list[DemoAccount]:
    """Every demo account: two holders, two référents, one agent per administration..."""
    accounts = [
        DemoAccount(
            "holder@demo.test", Role.HOLDER, "Claire Porteur", organisation=HOLDER_ORGANISATION
        ),
        DemoAccount(
            "holder2@demo.test", Role.HOLDER, "Marc Élu", organisation=HOLDER2_ORGANISATION
        ),
        DemoAccount(
            "referent@demo.test", Role.REFERENT, "Sophie Référente", arrondissements=("651", "653")
        ),
        DemoAccount(
            "referent2@demo.test", Role.REFERENT, "Julien Référent", arrondissements=("651", "652")
        ),
        DemoAccount("manager@demo.test", Role.MANAGER, "Préfète (pilotage)"),
        DemoAccount("admin@demo.test", Role.ADMIN, "Administrateur de la plateforme"),
    ]
    accounts += [
        DemoAccount(
            f"agent.{code.lower()}@demo.test", Role.AGENT, f"Agent {code}", administration=code
        )
        for code in administrations
    ]
    return accounts


#: The demo projects of docs/domain.md; the first (hotel in Cauterets) is left for the README.
DEMO_PROJECTS: list[tuple[str, dict[str, Any]]] = [
    (
        "holder@demo.test",
        {
            "title": "Centrale photovoltaïque au sol sur l'ancienne carrière",
            "description": "Parc solaire de 12 ha sur une ancienne carrière de granulats.",
            "commune_insee": "65258",
            "procedures": ["PC", "AE"],
            "attributes": {
                "environmental_assessment": True,
                "archaeological_zone": True,
                "site_area_ha": 12,
                "farmland_consumption": True,
                "protected_species": True,
                "water_impact": True,
            },
            "investment_eur": 9_500_000,
            "jobs_created": 4,
        },
    ),
    (
        "holder@demo.test",
        {
            "title": "Extension de l'atelier fromager",
            "description": "Fromagerie fermière : nouvelle salle d'affinage et quai.",
            "commune_insee": "65059",
            "procedures": ["PC", "ICPE_E"],
            "attributes": {
                "icpe": "agricultural",
                "water_impact": True,
                "public_access_building": True,
            },
            "investment_eur": 1_200_000,
            "jobs_created": 6,
        },
    ),
    (
        "holder@demo.test",
        {
            "title": "Extension d'un sous-traitant aéronautique",
            "description": "Nouveau bâtiment de production de 8 000 m² à Tarbes.",
            "commune_insee": "65440",
            "procedures": ["PC"],
            "attributes": {
                "icpe": "industrial",
                "archaeological_zone": True,
                "hiring_aid": True,
                "site_area_ha": 4,
            },
            "investment_eur": 18_000_000,
            "jobs_created": 85,
        },
    ),
    (
        "holder@demo.test",
        {
            "title": "Réfection d'une petite centrale hydroélectrique",
            "description": "Remise en état de la prise d'eau et de la conduite forcée.",
            "commune_insee": "65295",
            "procedures": ["AE"],
            "attributes": {
                "water_impact": True,
                "water_catchment": True,
                "environmental_assessment": True,
            },
            "investment_eur": 2_300_000,
            "jobs_created": 1,
        },
    ),
    (
        "holder2@demo.test",
        {
            "title": "Rénovation des thermes municipaux",
            "description": "Rénovation des thermes de la commune, avec subvention DSIL.",
            "commune_insee": "65059",
            "procedures": ["PC", "GRANT"],
            "attributes": {
                "public_grant": True,
                "health_facility": True,
                "near_monument": True,
                "public_access_building": True,
            },
            "investment_eur": 4_800_000,
            "jobs_created": 3,
        },
    ),
]

HOTEL_PROJECT: dict[str, Any] = {
    "title": "Extension de l'hôtel des Thermes à Cauterets",
    "description": "24 chambres et un espace bien-être de plus, aux abords de l'église classée.",
    "commune_insee": "65138",
    "procedures": ["PC"],
    "attributes": {"public_access_building": True, "near_monument": True},
    "investment_eur": 3_200_000,
    "jobs_created": 12,
}


def load_demo(session: Session, *, now: dt.datetime) -> list[DemoAccount]:
    """Create the demo accounts and file the demo projects, once (idempotent)."""
    administrations = list(
        session.scalars(select(Administration.code).order_by(Administration.code))
    )
    existing = set(session.scalars(select(User.email)))
    accounts = demo_accounts(administrations)
    for account in accounts:
        if account.email in existing:
            continue
        create_user(
            session,
            email=account.email,
            role=account.role,
            password=DEMO_PASSWORD,
            now=now,
            name=account.name,
            organisation=account.organisation,
            administration=account.administration,
            arrondissements=list(account.arrondissements),
        )
    session.flush()
    if session.scalar(select(Dossier.id).limit(1)) is None:
        users = {u.email: u for u in session.scalars(select(User))}
        for email, project in DEMO_PROJECTS:
            user = users[email]
            dossier = create_dossier(
                session, data=DossierCreate.model_validate(project), user=user, now=now
            )
            file_dossier(session, dossier_id=dossier.id, user=user, now=now)
    return accounts
