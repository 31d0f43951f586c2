"""Dossier references: unique when many holders file at once, and a year's numbering goes on
after the numbers it already used (a sequence per year on PostgreSQL, a counter on SQLite)."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from typing import Any

from sqlalchemy import text

from accelerator.dossiers.actions import create_dossier, file_dossier
from accelerator.dossiers.models import Counter
from accelerator.dossiers.schemas import DossierCreate
from accelerator.shared.db import Database
from tests.factories import paris, user, users

DATA = DossierCreate.model_validate(
    {"title": "Projet d'essai", "commune_insee": "65440", "procedures": ["PC"], "attributes": {}}
)


def drafts(db: Database, count: int, now: dt.datetime) -> list[uuid.UUID]:
    users(db, now)
    holder = user(db, "holder@f.test")
    created = []
    for _ in range(count):
        with db.transaction() as session:
            created.append(create_dossier(session, data=DATA, user=holder, now=now).id)
    return created


def file_one(db: Database, dossier_id: uuid.UUID, now: dt.datetime) -> str:
    holder = user(db, "holder@f.test")
    with db.transaction() as session:
        reference = file_dossier(session, dossier_id=dossier_id, user=holder, now=now).reference
    assert reference is not None
    return reference


def forget_year(db: Database, year: int) -> None:
    """As if the year had never been numbered by a sequence (earlier tests may have drawn)."""
    if db.dialect == "postgresql":
        with db.engine.begin() as connection:
            connection.execute(text(f"DROP SEQUENCE IF EXISTS dossier_reference_{year}"))


def test_references_are_unique_when_the_first_filings_of_a_year_come_at_once(db: Any) -> None:
    now = paris(2033, 1, 1, 0, 0, 5)
    forget_year(db, 2033)
    ids = drafts(db, 24, now)
    found: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def file_some(chunk: list[uuid.UUID]) -> None:
        start.wait()
        for dossier_id in chunk:
            try:
                found.append(file_one(db, dossier_id, now))
            except BaseException as error:
                errors.append(error)

    threads = [threading.Thread(target=file_some, args=(ids[i::6],)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(found)) == 24
    assert all(reference.startswith("ACC-2033-") for reference in found)


def test_a_year_goes_on_after_the_numbers_it_already_used(db: Any) -> None:
    now = paris(2034, 3, 2, 10)
    forget_year(db, 2034)
    first, second, third = drafts(db, 3, now)
    # Numbers drawn before sequences existed (the counter row).
    with db.transaction() as session:
        session.add(Counter(name="dossier:2034", value=41))
    assert file_one(db, first, now) == "ACC-2034-00042"
    assert file_one(db, second, now) == "ACC-2034-00043"
    # A sequence lost (restored database): the references filed are numbers used too.
    forget_year(db, 2034)
    assert file_one(db, third, now) == "ACC-2034-00044"


def test_a_new_year_starts_at_one(db: Any) -> None:
    forget_year(db, 2035)
    [dossier_id] = drafts(db, 1, paris(2035, 1, 2, 9))
    assert file_one(db, dossier_id, paris(2035, 1, 2, 9)) == "ACC-2035-00001"
