"""A demo world at several stages, for the browser tests and the screenshots: the demo
accounts and projects (``accelerator.demo``), taken in, some taken in charge and consulted at
different dates, so that every role's page shows real rows from the domain's own actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from accelerator.catalogue.actions import load_catalogue
from accelerator.consultations.actions import (
    acknowledge,
    complete_launch,
    create_consultation,
    give_opinion,
    launch_consultations,
)
from accelerator.consultations.models import Consultation
from accelerator.consultations.status import OpinionNature
from accelerator.demo.actions import DEMO_PROJECTS, HOTEL_PROJECT, load_demo
from accelerator.dossiers.actions import (
    create_dossier,
    file_dossier,
    take_charge,
)
from accelerator.dossiers.models import Dossier
from accelerator.dossiers.schemas import DossierCreate
from accelerator.identity.models import User
from accelerator.intake.actions import take_in
from accelerator.metrics.actions import refresh_facts


def seed_world(database: Any, *, now: dt.datetime) -> None:
    """Fill ``database`` (migrated, empty): five projects filed 45 days ago, of which the
    référent took three in charge and consulted on at three dates (late, at risk, on time:
    40 days ago, 10 days ago, now),
    two left with nobody in charge (past 24 h), and the hotel filed just now."""
    filed = now - dt.timedelta(days=45)
    with database.transaction() as session:
        load_catalogue(session)
        load_demo(session, now=filed)
    with database.transaction() as session:
        ids = list(session.scalars(select(Dossier.id).order_by(Dossier.reference)))
    for dossier_id in ids:
        with database.transaction() as session:
            take_in(session, dossier_id=dossier_id, now=filed + dt.timedelta(hours=1))
    launches = {0: now - dt.timedelta(days=40), 1: now - dt.timedelta(days=10), 2: now}
    for index, launched_at in launches.items():
        with database.transaction() as session:
            referent = _user(session, "referent@demo.test")
            take_charge(
                session,
                dossier_id=ids[index],
                user=referent,
                now=filed + dt.timedelta(hours=3),
            )
        with database.transaction() as session:
            launch = launch_consultations(
                session,
                dossier_id=ids[index],
                administrations=None,
                user=_user(session, "referent@demo.test"),
                now=launched_at,
            )
            launch_id, codes = launch.id, [e["administration"] for e in launch.entries]
        for code in codes:
            with database.transaction() as session:
                create_consultation(session, launch_id=launch_id, administration=code)
        with database.transaction() as session:
            complete_launch(session, launch_id=launch_id, now=launched_at)
    # On the most recent dossier, one administration acknowledged and another answered.
    with database.transaction() as session:
        consultations = list(
            session.scalars(
                select(Consultation)
                .where(Consultation.dossier_id == ids[2])
                .order_by(Consultation.administration_code)
            )
        )
        agents = {
            c.administration_code: _user(
                session, f"agent.{c.administration_code.lower()}@demo.test"
            )
            for c in consultations
        }
    if len(consultations) >= 2:
        first, second = consultations[0], consultations[1]
        with database.transaction() as session:
            acknowledge(
                session, consultation_id=first.id, user=agents[first.administration_code], now=now
            )
        with database.transaction() as session:
            give_opinion(
                session,
                consultation_id=second.id,
                nature=OpinionNature.FAVOURABLE,
                text="Rien à signaler.",
                user=agents[second.administration_code],
                now=now,
            )
    with database.transaction() as session:
        holder = _user(session, "holder@demo.test")
        hotel = create_dossier(
            session, data=DossierCreate.model_validate(HOTEL_PROJECT), user=holder, now=now
        )
        file_dossier(session, dossier_id=hotel.id, user=holder, now=now)
        hotel_id = hotel.id
    with database.transaction() as session:
        take_in(session, dossier_id=hotel_id, now=now)
    # What the sweep does every minute: the managers' figures read these facts.
    with database.transaction() as session:
        refresh_facts(session, now=now)


def seed_history(database: Any, *, now: dt.datetime, weeks: int = 12) -> None:
    """Add to the demo world ``weeks`` weeks of past work for the managers' figures: each
    week a project filed, taken in charge, its consultations launched and answered after a
    delay that depends on the administration (some late, some still open), then the facts
    refreshed as the sweep does."""
    for week in range(weeks, 0, -1):
        filed_at = now - dt.timedelta(weeks=week, hours=week % 4)
        owner, project = DEMO_PROJECTS[week % len(DEMO_PROJECTS)]
        data = DossierCreate.model_validate(
            {**project, "title": f"{project['title']} (semaine -{week})"}
        )
        with database.transaction() as session:
            holder = _user(session, owner)
            dossier = create_dossier(session, data=data, user=holder, now=filed_at)
            file_dossier(session, dossier_id=dossier.id, user=holder, now=filed_at)
            dossier_id = dossier.id
        with database.transaction() as session:
            take_in(session, dossier_id=dossier_id, now=filed_at + dt.timedelta(minutes=5))
        taken = filed_at + dt.timedelta(hours=2 + 13 * (week % 3))
        with database.transaction() as session:
            referent = _user(session, "referent@demo.test")
            take_charge(session, dossier_id=dossier_id, user=referent, now=taken)
            launch = launch_consultations(
                session, dossier_id=dossier_id, administrations=None, user=referent, now=taken
            )
            launch_id, codes = launch.id, [e["administration"] for e in launch.entries]
        for code in codes:
            with database.transaction() as session:
                create_consultation(session, launch_id=launch_id, administration=code)
        with database.transaction() as session:
            complete_launch(session, launch_id=launch_id, now=taken)
            consultations = list(
                session.scalars(select(Consultation).where(Consultation.dossier_id == dossier_id))
            )
        for consultation in consultations:
            code = consultation.administration_code
            # Each administration its own pace: from under a week to over a month.
            delay = dt.timedelta(days=3 + (sum(map(ord, code)) % 6) * 6 + week % 3)
            answered = taken + delay
            if answered >= now:
                continue
            with database.transaction() as session:
                give_opinion(
                    session,
                    consultation_id=consultation.id,
                    nature=OpinionNature.FAVOURABLE,
                    text="Avis favorable.",
                    user=_user(session, f"agent.{code.lower()}@demo.test"),
                    now=answered,
                )
    with database.transaction() as session:
        refresh_facts(session, now=now)


def _user(session: Any, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email))
    assert user is not None, email
    return user
