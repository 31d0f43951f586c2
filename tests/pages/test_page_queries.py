"""Every page reads the database a fixed number of times: the same with 10 dossiers as with
1,000 (each role's lists paginate; counts are grouped in SQL)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select

from accelerator.consultations.models import Consultation, ConsultationLaunch
from accelerator.dossiers.models import Dossier
from accelerator.identity.models import User
from accelerator.shared.config import Settings
from accelerator.shared.db import utcnow
from accelerator.sla.models import Clock
from api.app import create_app
from tests.pages.conftest import HTML, csrf_of, sign_in
from tests.pages.test_consultation_page import consulted

#: Most statements a page may run (transaction, session, its queries, the header and its
#: unread messages count).
MOST = 17
STATUSES = ["filed", "taken_in_charge", "consulting", "awaiting_holder", "consolidated", "closed"]


def add_world(db: Any, count: int, first: int = 0) -> None:
    """``count`` dossiers of the holder's organisation in every status of the référent's
    queue, each with a DDT-65 consultation (late, at risk or on time) and their clocks."""
    now = utcnow()
    with db.transaction() as session:
        users = {u.email: u for u in session.scalars(select(User))}
        holder, referent = users["holder@pages.test"], users["referent@pages.test"]
        dossiers, launches, consultations, clocks = [], [], [], []
        for n in range(first, first + count):
            status = STATUSES[n % len(STATUSES)]
            filed = now - dt.timedelta(days=n % 60, hours=2)
            dossier = Dossier(
                id=uuid.uuid4(),
                reference=f"ACC-2026-{n:05d}",
                title=f"Projet {n}",
                commune_insee="65138",
                procedures=["PC"],
                attributes={},
                organisation_id=holder.organisation_id,
                created_by_id=holder.id,
                calendar_code="FR",
                status=status,
                referent_id=None if status == "filed" and n % 2 else referent.id,
                created_at=filed,
                filed_at=filed,
            )
            dossiers.append(dossier)
            clocks.append(
                _clock(dossier.id, None, "take_charge", filed, filed + dt.timedelta(hours=24))
            )
            launch = ConsultationLaunch(
                id=uuid.uuid4(), dossier_id=dossier.id, cycle=1, entries=[],
                requested_by_id=referent.id, requested_at=filed,
            )  # fmt: skip
            launches.append(launch)
            consultation = Consultation(
                id=uuid.uuid4(), dossier_id=dossier.id, administration_code="DDT-65",
                consultation_type_code="generic_opinion", launch_id=launch.id, cycle=1,
                status="sent", sent_at=filed,
            )  # fmt: skip
            consultations.append(consultation)
            clocks.append(
                _clock(dossier.id, consultation.id, "consultation_deadline", filed,
                       filed + dt.timedelta(days=30))
            )  # fmt: skip
            clocks.append(
                _clock(dossier.id, consultation.id, "consultation_target", filed,
                       filed + dt.timedelta(days=15))
            )  # fmt: skip
        session.add_all(dossiers)
        session.flush()
        session.add_all(launches)
        session.flush()
        session.add_all(consultations)
        session.flush()
        session.add_all(clocks)


def _clock(
    dossier_id: uuid.UUID, consultation_id: uuid.UUID | None, kind: str, anchor: dt.datetime,
    due: dt.datetime,
) -> Clock:  # fmt: skip
    return Clock(
        key=f"{kind}:{consultation_id or dossier_id}", kind=kind, dossier_id=dossier_id,
        consultation_id=consultation_id, calendar_code="FR", anchor_at=anchor,
        budget_amount=1, budget_unit="months", state="running", due_at=due,
    )  # fmt: skip


PAGES = {
    "holder@pages.test": ["/mes-dossiers", "/mes-dossiers?page=3"],
    "referent@pages.test": ["/file-de-travail", "/file-de-travail?onglet=consulting&page=2"],
    "agent@pages.test": [
        "/mes-consultations",
        "/mes-consultations?page=2",
        "/mes-consultations?statut=sent&type=generic_opinion&page=2",
    ],
    "manager@pages.test": ["/pilotage"],
    "admin@pages.test": ["/gestion"],
}


def _counts(
    signed_in: Callable[[str], TestClient], statements: list[str]
) -> dict[str, tuple[int, int]]:
    found = {}
    for email, paths in PAGES.items():
        client = signed_in(email)
        for path in [*paths, "/"]:
            statements.clear()
            answer = client.get(path, headers=HTML)
            assert answer.status_code == 200, (path, answer.text[:500])
            found[f"{email} {path}"] = (len(statements), answer.text.count("<tr>"))
    return found


def test_pages_run_as_many_queries_with_1000_dossiers_as_with_10(
    db: Any, signed_in: Callable[[str], TestClient], statements: list[str]
) -> None:
    add_world(db, 10)
    few = _counts(signed_in, statements)
    add_world(db, 990, first=10)
    many = _counts(signed_in, statements)
    for page, (queries, _) in many.items():
        assert queries == few[page][0], f"{page}: {few[page][0]} queries at 10, {queries} at 1000"
        assert queries <= MOST, f"{page}: {queries} queries"
    # The lists are real: they grew with the data, one page at a time.
    assert many["holder@pages.test /mes-dossiers"][1] == 21  # header row + 20
    assert few["holder@pages.test /mes-dossiers"][1] == 11
    assert many["agent@pages.test /mes-consultations?page=2"][1] == 21


#: Most statements the consultation page may run (its views, clock, pieces, thread, header with
#: its unread count).
CONSULTATION_MOST = 25


def test_the_consultation_page_runs_as_many_queries_with_many_consultations_and_messages(
    db: Any, signed_in: Callable[[str], TestClient], statements: list[str]
) -> None:
    world = consulted(db)
    ddt = world["consultations"]["DDT-65"]
    add_world(db, 10, first=50_000)
    agent, referent = signed_in("agent@pages.test"), signed_in("referent@pages.test")

    def count() -> dict[str, int]:
        found = {}
        for name, client in (("agent", agent), ("referent", referent)):
            for _ in range(2):  # the second reading has nothing new to mark read
                statements.clear()
                answer = client.get(f"/consultations/{ddt}", headers=HTML)
                assert answer.status_code == 200, answer.text[:500]
            found[name] = len(statements)
        return found

    token = csrf_of(agent.get(f"/consultations/{ddt}", headers=HTML).text, "/logout")

    def write(n: int) -> None:
        answer = agent.post(
            f"/consultations/{ddt}/messages",
            data={"csrf_token": token, "kind": "question", "body": f"Question {n}"},
            headers=HTML,
            follow_redirects=False,
        )
        assert answer.status_code == 303

    write(0)
    few = count()
    add_world(db, 190, first=50_010)
    for n in range(1, 60):
        write(n)
    many = count()
    assert many == few, (few, many)
    assert max(many.values()) <= CONSULTATION_MOST, many
    # The thread shows its latest messages only.
    page = referent.get(f"/consultations/{ddt}", headers=HTML).text
    assert "Question 59" in page and "Question 9<" not in page
    assert "10 messages plus anciens" in page


def test_the_page_size_setting_sets_every_list_s_rows(db: Any, accounts: dict[str, str]) -> None:
    add_world(db, 180)
    app = create_app(Settings(database_url=db.url, demo=True, page_size=50))
    rows = {}
    for email, path in (
        ("holder@pages.test", "/mes-dossiers"),
        ("holder@pages.test", "/mes-dossiers?page=4"),
        ("referent@pages.test", "/file-de-travail?onglet=consulting"),
        ("referent@pages.test", "/file-de-travail?onglet=consulting&page=2"),
        ("agent@pages.test", "/mes-consultations"),
        ("agent@pages.test", "/mes-consultations?page=4"),
    ):
        with TestClient(app, base_url="http://127.0.0.1") as client:
            assert sign_in(client, email).status_code == 303
            answer = client.get(path, headers=HTML)
            assert answer.status_code == 200, answer.text[:500]
            html = answer.text
            if "onglet=" in path:  # the queue shows every tab: count the selected one's
                html = html[html.index('id="onglet-consulting-panneau"') :]
                html = html[: html.index('id="onglet-awaiting_holder-panneau"')]
            rows[path] = html.count("<tr>") - 1  # the header row
    # 180 dossiers of the organisation; 60 in the consulting tab (taken in charge or
    # consulting, all the référent's); 180 open consultations of DDT-65.
    assert rows == {
        "/mes-dossiers": 50,
        "/mes-dossiers?page=4": 30,
        "/file-de-travail?onglet=consulting": 50,
        "/file-de-travail?onglet=consulting&page=2": 10,
        "/mes-consultations": 50,
        "/mes-consultations?page=4": 30,
    }


@pytest.mark.parametrize("size", [9, 101])
def test_a_page_size_outside_10_to_100_is_refused(size: int) -> None:
    with pytest.raises(ValidationError):
        Settings(page_size=size)
