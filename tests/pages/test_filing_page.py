"""The holder's step-by-step filing form: the draft saved at each step through the API's own
actions and input models, a refused field shown again under its field, then the filing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from accelerator.dossiers.models import Dossier
from accelerator.history.models import HistoryEntry
from tests.pages.conftest import HTML, csrf_of
from tests.pages.test_dossier_page import ERROR_UNDER


def send(client: TestClient, page: str, action: str, data: dict[str, Any]) -> Any:
    """Post the form of ``page`` that goes to ``action``, with its token."""
    html = client.get(page, headers=HTML)
    assert html.status_code == 200, html.text[:300]
    fields = {"csrf_token": csrf_of(html.text, action), **data}
    return client.post(action, data=fields, headers=HTML, follow_redirects=False)


def dossier_of(db: Any, dossier_id: uuid.UUID) -> Dossier:
    with db.transaction() as session:
        found = session.get_one(Dossier, dossier_id)
        session.expunge(found)
        return found


def test_a_holder_files_the_hotel_step_by_step(
    db: Any, signed_in: Callable[[str], TestClient]
) -> None:
    holder = signed_in("holder@pages.test")
    assert 'href="/nouveau-dossier"' in holder.get("/mes-dossiers", headers=HTML).text
    first = holder.get("/nouveau-dossier", headers=HTML).text
    assert "Étape 1 sur 4" in first and "Cauterets (65138)" in first  # the commune list

    # Step 1: an unknown commune is refused under its field, what was typed is kept.
    refused = send(
        holder,
        "/nouveau-dossier",
        "/nouveau-dossier",
        {"title": "Extension de l'hôtel des Thermes", "description": "", "commune": "Atlantide"},
    )
    assert refused.status_code == 422
    (message,) = ERROR_UNDER.findall(refused.text)
    assert "commune" in message.lower() or "INSEE" in message
    assert 'value="Atlantide"' in refused.text
    with db.transaction() as session:
        assert session.scalars(select(Dossier)).all() == []

    created = send(
        holder,
        "/nouveau-dossier",
        "/nouveau-dossier",
        {
            "title": "Extension de l'hôtel des Thermes",
            "description": "24 chambres de plus.",
            "commune": "Cauterets",  # a name only one commune bears
        },
    )
    assert created.status_code == 303, created.text[:500]
    step2 = created.headers["location"]
    dossier_id = uuid.UUID(step2.split("/")[2])
    draft = dossier_of(db, dossier_id)
    assert (draft.status, draft.commune_insee, draft.procedures) == ("draft", "65138", [])

    # Step 2: the procedures; step 3: the questions in plain words and the figures.
    action = f"/dossiers/{dossier_id}/brouillon"
    page = holder.get(step2, headers=HTML).text
    assert "Étape 2 sur 4" in page and 'value="PC"' in page
    saved = send(holder, step2, action, {"etape": "procedures", "procedures": ["PC"]})
    assert saved.status_code == 303 and saved.headers["location"].endswith("etape=questions")
    assert dossier_of(db, dossier_id).procedures == ["PC"]
    step3 = saved.headers["location"]
    wrong = send(
        holder,
        step3,
        action,
        {"etape": "questions", "jobs_created": "douze", "near_monument": "oui"},
    )
    assert wrong.status_code == 422
    assert ERROR_UNDER.findall(wrong.text), wrong.text[-2000:]
    assert 'aria-describedby="chiffre-jobs_created-erreur"' in wrong.text
    assert dossier_of(db, dossier_id).jobs_created is None
    answered = send(
        holder,
        step3,
        action,
        {
            "etape": "questions",
            "near_monument": "oui",
            "public_access_building": "oui",
            "icpe": "",
            "investment_eur": "3 200 000",
            "jobs_created": "12",
        },
    )
    assert answered.status_code == 303 and answered.headers["location"].endswith("etape=pieces")
    draft = dossier_of(db, dossier_id)
    assert draft.attributes["near_monument"] is True
    assert draft.attributes["public_access_building"] is True
    assert draft.attributes["high_rise"] is False
    assert (draft.investment_eur, draft.jobs_created) == (3_200_000, 12)
    # Going back shows what was saved.
    back = holder.get(f"{action}?etape=questions", headers=HTML).text
    assert 'id="question-near_monument" type="checkbox" value="oui" checked' in back
    assert 'value="3200000"' in back

    # Step 4: the expected pieces, then filing: the dossier page gives the reference.
    pieces = holder.get(answered.headers["location"], headers=HTML).text
    assert "PC40" in pieces and "Pièces obligatoires encore manquantes" in pieces
    filed = send(holder, answered.headers["location"], f"/dossiers/{dossier_id}/depot", {})
    assert filed.status_code == 303
    receipt = holder.get(filed.headers["location"], headers=HTML).text
    reference = dossier_of(db, dossier_id).reference
    assert reference and reference in receipt
    assert "Votre dossier est déposé" in receipt
    # A filed dossier is no longer a draft: its steps lead to its page, its save is refused.
    again = holder.get(f"{action}?etape=projet", headers=HTML, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == f"/dossiers/{dossier_id}"
    late = holder.post(
        action,
        data={"etape": "procedures", "procedures": ["AE"], "csrf_token": csrf_of(receipt)},
        headers=HTML,
        follow_redirects=False,
    )
    assert late.status_code == 409
    assert dossier_of(db, dossier_id).procedures == ["PC"]
    with db.transaction() as session:
        saves = session.scalars(
            select(HistoryEntry.message).where(
                HistoryEntry.dossier_id == dossier_id, HistoryEntry.event == "draft_updated"
            )
        ).all()
    assert saves == [
        "Brouillon enregistré : procédures.",
        "Brouillon enregistré : caractéristiques du projet, investissement, emplois.",
    ]
