"""A consultation's page through HTTP with a page session, on SQLite and PostgreSQL: what the
agent reads, each of their actions (and that it writes what the API would), CSRF, another
administration's agent, the opinion's file refused cleanly when too large or of a refused
type, and the documents' files served as the API serves them."""

from __future__ import annotations

import hashlib
import re
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from accelerator.consultations.actions import (
    complete_launch,
    create_consultation,
    launch_consultations,
)
from accelerator.consultations.models import Consultation
from accelerator.demo.actions import HOTEL_PROJECT
from accelerator.documents.actions import Limits, StoredFile, record_document
from accelerator.documents.filetypes import PDF as PDF_TYPE
from accelerator.documents.filetypes import Detected
from accelerator.documents.models import Document
from accelerator.documents.storage import new_key, open_store
from accelerator.dossiers.actions import create_dossier, file_dossier, take_charge
from accelerator.dossiers.schemas import DossierCreate
from accelerator.history.models import HistoryEntry
from accelerator.identity.actions import create_user
from accelerator.identity.models import User
from accelerator.identity.roles import Role
from accelerator.intake.actions import take_in
from accelerator.messages.models import Message, MessageRead
from accelerator.outbox.models import OutboxMessage
from accelerator.shared.config import Settings
from accelerator.shared.db import utcnow
from accelerator.sla.models import Clock
from tests.pages.conftest import HTML, PASSWORD, csrf_of

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
OTHER_AGENT = "agent.udap@pages.test"


def consulted(db: Any, administrations: tuple[str, ...] = ("DDT-65", "UDAP-65")) -> dict[str, Any]:
    """The hotel filed by the holder, taken in charge by the référent, consultations sent to
    ``administrations`` (the domain's own actions, as the flows run them); a UDAP-65 agent."""
    now = utcnow()
    with db.transaction() as session:
        users = {u.email: u for u in session.scalars(select(User))}
        if OTHER_AGENT not in users:
            create_user(
                session, email=OTHER_AGENT, role=Role.AGENT, password=PASSWORD, now=now,
                administration="UDAP-65",
            )  # fmt: skip
        holder = users["holder@pages.test"]
        dossier = create_dossier(
            session, data=DossierCreate.model_validate(HOTEL_PROJECT), user=holder, now=now
        )
        dossier_id = dossier.id
        piece = _attach_piece(db, session, dossier_id, holder, now)
        file_dossier(session, dossier_id=dossier.id, user=holder, now=now)
    with db.transaction() as session:
        take_in(session, dossier_id=dossier_id, now=now)
    with db.transaction() as session:
        referent = session.scalar(select(User).where(User.email == "referent@pages.test"))
        assert referent is not None
        take_charge(session, dossier_id=dossier_id, user=referent, now=now)
        launch = launch_consultations(
            session, dossier_id=dossier_id, administrations=list(administrations),
            user=referent, now=now,
        )  # fmt: skip
        launch_id = launch.id
    for code in administrations:
        with db.transaction() as session:
            create_consultation(session, launch_id=launch_id, administration=code)
    with db.transaction() as session:
        complete_launch(session, launch_id=launch_id, now=now)
        ids = {
            c.administration_code: c.id
            for c in session.scalars(
                select(Consultation).where(Consultation.dossier_id == dossier_id)
            )
        }
    return {"dossier_id": dossier_id, "consultations": ids, "piece": piece}


def _attach_piece(
    db: Any, session: Any, dossier_id: uuid.UUID, holder: User, now: Any
) -> uuid.UUID:
    """The holder's PC1 (a PDF), attached to the draft as the API's upload would."""
    settings = Settings(database_url=db.url, demo=True)
    key = new_key(dossier_id)
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(PDF)
        file.flush()
        open_store(settings).put(key, Path(file.name))
    stored = StoredFile(
        storage_key=key, filename="plan-de-situation.pdf", detected=Detected(PDF_TYPE),
        size=len(PDF), sha256=hashlib.sha256(PDF).hexdigest(),
    )  # fmt: skip
    document = record_document(
        session, dossier_id=dossier_id, stored=stored, piece="PC1", information_request_id=None,
        consultation_id=None, user=holder, now=now,
        limits=Limits(per_file=settings.max_document_bytes,
                      per_dossier=settings.max_dossier_documents_bytes),
    )  # fmt: skip
    return document.id


@pytest.fixture
def world(db: Any, accounts: dict[str, str]) -> dict[str, Any]:
    """A dossier consulted on DDT-65 (the pages' agent) and UDAP-65."""
    return consulted(db)


def _consultation(db: Any, consultation_id: uuid.UUID) -> Consultation:
    with db.transaction() as session:
        found = session.get_one(Consultation, consultation_id)
        session.expunge(found)
        return found


def _count(db: Any, model: Any, *where: Any) -> int:
    with db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _page(client: TestClient, consultation_id: uuid.UUID, query: str = "") -> Any:
    answer = client.get(f"/consultations/{consultation_id}{query}", headers=HTML)
    assert answer.status_code == 200, answer.text[:2000]
    return answer


def test_the_agent_reads_the_dossier_the_deadline_and_how_it_was_computed(
    signed_in: Callable[[str], TestClient], world: dict[str, Any]
) -> None:
    ddt = world["consultations"]["DDT-65"]
    page = _page(signed_in("agent@pages.test"), ddt).text
    assert page.count("<h1") == 1
    assert "Extension de l&#39;hôtel des Thermes à Cauterets" in page
    assert "Cauterets" in page and "Hôtel des Gaves" in page
    assert "Permis de construire" in page or "(PC)" in page
    assert "referent@pages.test" in page
    assert "Comment ce délai a été calculé" in page
    assert f'href="/documents/{world["piece"]}/contenu"' in page and "PC1" in page
    assert "plan-de-situation.pdf" in page
    # The badge of a deadline a month away, its date, and the plain-French account.
    assert re.search(r"dans \d+ jours", page)
    assert "Avis attendu au plus tard le" in page
    assert "Le délai de 1 mois a commencé le" in page
    # The agent's actions, as forms carrying the session's token.
    assert csrf_of(page, f"/consultations/{ddt}/accuse-reception")
    assert 'enctype="multipart/form-data"' in page
    assert csrf_of(page, f"/consultations/{ddt}/avis")
    assert csrf_of(page, f"/consultations/{ddt}/messages")


@pytest.fixture
def app(db: Any) -> Any:
    """The app with a small per-file limit (64 Ko), to refuse a file too large cheaply."""
    from api.app import create_app

    return create_app(Settings(database_url=db.url, demo=True, max_document_bytes=64 * 1024))


def _stored(app: Any, dossier_id: uuid.UUID) -> list[str]:
    return list(app.state.document_store.list_keys(f"dossiers/{dossier_id}/"))


def _post(client: TestClient, path: str, data: dict[str, str], **kwargs: Any) -> Any:
    return client.post(path, data=data, headers=HTML, follow_redirects=False, **kwargs)


def test_acknowledging_through_the_page_does_what_the_api_does(
    db: Any, signed_in: Callable[[str], TestClient], world: dict[str, Any]
) -> None:
    ddt = world["consultations"]["DDT-65"]
    agent = signed_in("agent@pages.test")
    before = _consultation(db, ddt).version
    token = csrf_of(_page(agent, ddt).text, f"/consultations/{ddt}/accuse-reception")
    done = _post(agent, f"/consultations/{ddt}/accuse-reception", {"csrf_token": token})
    assert done.status_code == 303
    assert done.headers["location"] == f"/consultations/{ddt}?fait=accuse-reception"
    after = _page(agent, ddt, "?fait=accuse-reception").text
    assert "fr-alert--success" in after and "Accusé de réception enregistré" in after
    assert f'action="/consultations/{ddt}/accuse-reception"' not in after
    consultation = _consultation(db, ddt)
    assert consultation.status == "acknowledged" and consultation.acknowledged_at is not None
    assert consultation.version == before + 1
    assert _count(
        db, HistoryEntry, HistoryEntry.consultation_id == ddt,
        HistoryEntry.to_status == "acknowledged",
    ) == 1  # fmt: skip
    # Again (a second tab): the domain refuses, the 409 page offers to reload this page.
    again = _post(agent, f"/consultations/{ddt}/accuse-reception", {"csrf_token": token})
    assert again.status_code == 409 and "Recharger la page" in again.text
    assert f'href="/consultations/{ddt}"' in again.text
    assert "accusée réception" in again.text


def test_the_opinion_with_its_pdf_is_recorded_and_its_file_served_as_the_api_serves_it(
    app: Any, db: Any, signed_in: Callable[[str], TestClient], world: dict[str, Any]
) -> None:
    ddt = world["consultations"]["DDT-65"]
    agent = signed_in("agent@pages.test")
    token = csrf_of(_page(agent, ddt).text, f"/consultations/{ddt}/avis")
    done = _post(
        agent,
        f"/consultations/{ddt}/avis",
        {"csrf_token": token, "nature": "favourable_with_prescriptions",
         "text": "Rampe d'accès conforme\nà prévoir."},
        files={"file": ("prescriptions.pdf", PDF, "application/pdf")},
    )  # fmt: skip
    assert done.status_code == 303, done.text[:2000]
    assert done.headers["location"] == f"/consultations/{ddt}?fait=avis"
    consultation = _consultation(db, ddt)
    assert consultation.status == "answered"
    assert consultation.opinion_nature == "favourable_with_prescriptions"
    assert consultation.opinion_text == "Rampe d'accès conforme\nà prévoir."
    assert consultation.answered_by_id is not None and not consultation.opinion_tacit
    with db.transaction() as session:
        document = session.scalars(select(Document).where(Document.consultation_id == ddt)).one()
        assert document.id != world["piece"]
        events = [m.payload for m in session.scalars(select(OutboxMessage))]
    assert document.content_type == "application/pdf" and document.size == len(PDF)
    assert document.storage_key in _stored(app, world["dossier_id"])
    assert len(_stored(app, world["dossier_id"])) == 2
    assert any(p.get("event") == "consultation.answered" for p in events), events
    page = _page(agent, ddt, "?fait=avis").text
    assert "Avis enregistré" in page and "favorable avec prescriptions" in page
    assert "prescriptions.pdf" in page and f"/documents/{document.id}/contenu" in page
    assert f'action="/consultations/{ddt}/avis"' not in page
    # The file, as the API's content route serves it.
    content = agent.get(f"/documents/{document.id}/contenu", headers=HTML)
    assert content.status_code == 200 and content.content == PDF
    assert content.headers["content-type"] == "application/pdf"
    assert content.headers["content-disposition"].startswith("attachment;")
    assert content.headers["x-content-type-options"] == "nosniff"
    # The platform reads it; another administration does not, nor the holder.
    assert signed_in("referent@pages.test").get(f"/documents/{document.id}/contenu").content == PDF
    for email in (OTHER_AGENT, "holder@pages.test"):
        refused = signed_in(email).get(f"/documents/{document.id}/contenu", headers=HTML)
        assert refused.status_code == 404, email
    # A second opinion: the domain refuses before the body is read, nothing more stored.
    again = _post(
        agent, f"/consultations/{ddt}/avis", {"csrf_token": token, "nature": "favourable"},
        files={"file": ("autre.pdf", PDF, "application/pdf")},
    )  # fmt: skip
    assert again.status_code == 409 and "Recharger la page" in again.text
    assert len(_stored(app, world["dossier_id"])) == 2


def test_an_opinion_without_a_file_and_one_the_domain_refuses_for_its_text(
    app: Any, db: Any, signed_in: Callable[[str], TestClient], world: dict[str, Any]
) -> None:
    ddt = world["consultations"]["DDT-65"]
    agent = signed_in("agent@pages.test")
    token = csrf_of(_page(agent, ddt).text, f"/consultations/{ddt}/avis")
    # Unfavourable without a word: the domain's rule, shown next to the text, file dropped.
    refused = _post(
        agent, f"/consultations/{ddt}/avis",
        {"csrf_token": token, "nature": "unfavourable", "text": ""},
        files={"file": ("motifs.pdf", PDF, "application/pdf")},
    )  # fmt: skip
    assert refused.status_code == 422
    assert "fr-input-group--error" in refused.text and 'id="text-error"' in refused.text
    assert "Motivez l&#39;avis" in refused.text
    assert 'value="unfavourable" checked' in refused.text
    assert _consultation(db, ddt).status == "sent"
    assert len(_stored(app, world["dossier_id"])) == 1 and _count(db, Document) == 1
    # No nature chosen: the field's own error.
    missing = _post(agent, f"/consultations/{ddt}/avis", {"csrf_token": token, "text": "x"},
                    files={"file": ("", b"", "application/octet-stream")})  # fmt: skip
    assert missing.status_code == 422 and "fr-fieldset--error" in missing.text
    # Favourable, no file: recorded, no document.
    done = _post(agent, f"/consultations/{ddt}/avis", {"csrf_token": token, "nature": "favourable"},
                 files={"file": ("", b"", "application/octet-stream")})  # fmt: skip
    assert done.status_code == 303
    assert _consultation(db, ddt).opinion_nature == "favourable" and _count(db, Document) == 1


def test_a_file_too_large_or_of_a_refused_type_is_refused_on_the_page_nothing_stored(
    app: Any, db: Any, signed_in: Callable[[str], TestClient], world: dict[str, Any]
) -> None:
    ddt = world["consultations"]["DDT-65"]
    agent = signed_in("agent@pages.test")
    token = csrf_of(_page(agent, ddt).text, f"/consultations/{ddt}/avis")
    for name, content, status, words in (
        ("gros.pdf", PDF + b"0" * (64 * 1024), 413, "Fichier trop volumineux"),
        ("outil.pdf", b"MZ\x90\x00" + b"\x00" * 300, 415, "exécutables"),
        (
            "image.pdf",
            b"GIF89a\x01\x00\x01\x00\x00\x00\x00;" + b"\x00" * 64,
            415,
            "Type de fichier",
        ),
    ):
        answer = _post(
            agent, f"/consultations/{ddt}/avis",
            {"csrf_token": token, "nature": "favourable", "text": "Vu."},
            files={"file": (name, content, "application/pdf")},
        )  # fmt: skip
        assert answer.status_code == status, (name, answer.text[:500])
        assert "fr-upload-group--error" in answer.text and 'id="file-error"' in answer.text
        assert words in answer.text, name
        # The page again, with what was typed, and one h1.
        assert answer.text.count("<h1") == 1 and 'value="favourable" checked' in answer.text
    assert _consultation(db, ddt).status == "sent"
    assert len(_stored(app, world["dossier_id"])) == 1 and _count(db, Document) == 1


def test_without_the_csrf_token_nothing_is_done(
    app: Any, db: Any, signed_in: Callable[[str], TestClient], world: dict[str, Any]
) -> None:
    ddt = world["consultations"]["DDT-65"]
    agent = signed_in("agent@pages.test")
    before = _consultation(db, ddt).version
    _page(agent, ddt)
    for data in ({"text": ""}, {"csrf_token": "faux"}):
        acknowledged = _post(agent, f"/consultations/{ddt}/accuse-reception", data)
        assert acknowledged.status_code == 403
        message = _post(
            agent, f"/consultations/{ddt}/messages", {"csrf_token": data.get("csrf_token", ""),
                                                      "body": "Bonjour"}
        )  # fmt: skip
        assert message.status_code == 403 and "Accès refusé" in message.text
        opinion = _post(
            agent, f"/consultations/{ddt}/avis", {**data, "nature": "favourable"},
            files={"file": ("a.pdf", PDF, "application/pdf")},
        )  # fmt: skip
        assert opinion.status_code == 403
    consultation = _consultation(db, ddt)
    assert consultation.status == "sent" and consultation.version == before
    assert _count(db, Message) == 0 and _count(db, Document) == 1
    assert len(_stored(app, world["dossier_id"])) == 1


def test_another_administrations_agent_gets_404_and_other_roles_what_the_api_allows(
    db: Any, signed_in: Callable[[str], TestClient], world: dict[str, Any]
) -> None:
    ddt = world["consultations"]["DDT-65"]
    before = _consultation(db, ddt).version
    other = signed_in(OTHER_AGENT)
    token = csrf_of(other.get("/mes-consultations", headers=HTML).text, "/logout")
    assert other.get(f"/consultations/{ddt}", headers=HTML).status_code == 404
    for action in ("accuse-reception", "messages"):
        answer = _post(other, f"/consultations/{ddt}/{action}", {"csrf_token": token, "body": "x"})
        assert answer.status_code == 404, action
    opinion = _post(
        other, f"/consultations/{ddt}/avis", {"csrf_token": token, "nature": "favourable"},
        files={"file": ("a.pdf", PDF, "application/pdf")},
    )  # fmt: skip
    assert opinion.status_code == 404 and "Page non trouvée" in opinion.text
    assert other.get(f"/consultations/{uuid.uuid4()}", headers=HTML).status_code == 404
    assert other.get("/consultations/pas-un-id", headers=HTML).status_code == 404
    # Their own consultation of the same dossier opens.
    _page(other, world["consultations"]["UDAP-65"])
    # The platform reads every consultation; only agents act on them.
    for email in ("referent@pages.test", "manager@pages.test", "admin@pages.test"):
        page = _page(signed_in(email), ddt).text
        assert f'action="/consultations/{ddt}/avis"' not in page, email
        assert f'action="/consultations/{ddt}/accuse-reception"' not in page, email
    assert (
        signed_in("holder@pages.test").get(f"/consultations/{ddt}", headers=HTML).status_code == 403
    )
    assert _consultation(db, ddt).version == before


def test_a_message_to_the_referent_is_written_on_the_thread_and_read_on_the_page(
    db: Any, signed_in: Callable[[str], TestClient], world: dict[str, Any]
) -> None:
    ddt = world["consultations"]["DDT-65"]
    agent = signed_in("agent@pages.test")
    token = csrf_of(_page(agent, ddt).text, f"/consultations/{ddt}/messages")
    empty = _post(
        agent,
        f"/consultations/{ddt}/messages",
        {"csrf_token": token, "kind": "pieces", "body": "  "},
    )
    assert empty.status_code == 422 and 'id="body-error"' in empty.text
    sent = _post(
        agent, f"/consultations/{ddt}/messages",
        {"csrf_token": token, "kind": "pieces", "body": "Le plan PC39 d'accessibilité."},
    )  # fmt: skip
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/consultations/{ddt}?fait=message"
    with db.transaction() as session:
        message = session.scalars(select(Message)).one()
        mails = [m.payload for m in session.scalars(select(OutboxMessage))]
        referent = session.scalar(select(User).where(User.email == "referent@pages.test"))
        assert referent is not None
    assert message.consultation_id == ddt
    assert message.body == "Demande de pièces à relayer au porteur : Le plan PC39 d'accessibilité."
    assert any(str(referent.id) in str(p) and "message" in str(p) for p in mails), mails
    # The référent reads it on the page; reading marks the thread read.
    platform = signed_in("referent@pages.test")
    page = _page(platform, ddt).text
    assert "Le plan PC39 d&#39;accessibilité." in page
    with db.transaction() as session:
        marker = session.scalar(
            select(MessageRead.last_seq).where(MessageRead.user_id == referent.id)
        )
    assert marker == 1
    # The référent answers on the same thread (as the API allows).
    token = csrf_of(page, f"/consultations/{ddt}/messages")
    reply = _post(
        platform,
        f"/consultations/{ddt}/messages",
        {"csrf_token": token, "kind": "autre", "body": "Je relaie."},
    )
    assert reply.status_code == 303
    assert "Je relaie." in _page(agent, ddt).text
    unknown = _post(
        agent,
        f"/consultations/{ddt}/messages",
        {"csrf_token": csrf_of(_page(agent, ddt).text, "/logout"), "kind": "ordre", "body": "x"},
    )
    assert unknown.status_code == 422 and "Choisissez l&#39;objet" in unknown.text


def test_the_relayed_request_and_the_holders_answer_are_read_on_the_consultation_page(
    db: Any, signed_in: Callable[[str], TestClient], world: dict[str, Any]
) -> None:
    from accelerator.information.models import InformationRequest

    ddt, dossier = world["consultations"]["DDT-65"], world["dossier_id"]
    platform = signed_in("referent@pages.test")
    page = platform.get(f"/dossiers/{dossier}", headers=HTML).text
    relayed = _post(
        platform, f"/dossiers/{dossier}/demandes",
        {"csrf_token": csrf_of(page, f"/dossiers/{dossier}/demandes"), "consultation_id": str(ddt),
         "message": "La DDT demande l'étude hydraulique.", "pieces": "Étude hydraulique"},
    )  # fmt: skip
    assert relayed.status_code == 303, relayed.text[:2000]
    with db.transaction() as session:
        request_id = session.scalars(select(InformationRequest.id)).one()
        clock = session.scalars(
            select(Clock).where(Clock.consultation_id == ddt, Clock.kind == "consultation_deadline")
        ).one()
        assert clock.state == "paused" and clock.left_amount
    # The agent's queue says how many days will run once the holder has answered.
    queue = signed_in("agent@pages.test").get("/mes-consultations", headers=HTML).text
    assert f"{clock.left_amount} j. après complément" in queue
    holder = signed_in("holder@pages.test")
    page = holder.get(f"/dossiers/{dossier}", headers=HTML).text
    answer_path = f"/dossiers/{dossier}/demandes/{request_id}/reponse"
    answered = _post(
        holder, answer_path,
        {"csrf_token": csrf_of(page, answer_path), "message": "Étude jointe au dossier."},
    )  # fmt: skip
    assert answered.status_code == 303, answered.text[:2000]
    agent = signed_in("agent@pages.test")
    thread = _page(agent, ddt).text
    thread = thread[thread.index('id="echanges"') :]
    assert "Demande transmise au porteur" in thread
    assert "La DDT demande l&#39;étude hydraulique." in thread
    assert "Pièces demandées : Étude hydraulique" in thread
    assert "Réponse du porteur de projet" in thread and "Étude jointe au dossier." in thread
    assert thread.index("Demande transmise") < thread.index("Étude jointe au dossier.")
    # The other administration consulted reads none of it.
    other = signed_in(OTHER_AGENT)
    udap = _page(other, world["consultations"]["UDAP-65"]).text
    assert "hydraulique" not in udap


def test_the_pages_document_route_refuses_what_the_api_refuses(
    signed_in: Callable[[str], TestClient], world: dict[str, Any]
) -> None:
    agent = signed_in("agent@pages.test")
    assert agent.get(f"/documents/{uuid.uuid4()}/contenu", headers=HTML).status_code == 404
    assert agent.get("/documents/x/contenu", headers=HTML).status_code == 404
    # The dossier's piece: every administration consulted on it reads it, and the holder.
    for email in ("agent@pages.test", OTHER_AGENT, "holder@pages.test", "manager@pages.test"):
        piece = signed_in(email).get(f"/documents/{world['piece']}/contenu", headers=HTML)
        assert piece.status_code == 200 and piece.content == PDF, email
        assert 'filename="plan-de-situation.pdf"' in piece.headers["content-disposition"]


def test_the_queue_links_each_row_filters_by_status_and_type_and_counts_each_status(
    db: Any, signed_in: Callable[[str], TestClient], world: dict[str, Any]
) -> None:
    ddt = world["consultations"]["DDT-65"]
    agent = signed_in("agent@pages.test")
    queue = agent.get("/mes-consultations", headers=HTML)
    assert queue.status_code == 200
    assert f'href="/consultations/{ddt}"' in queue.text
    assert "En cours (1)" in queue.text and "Envoyée (1)" in queue.text
    assert "Accusée réception (0)" in queue.text
    token = csrf_of(_page(agent, ddt).text, f"/consultations/{ddt}/accuse-reception")
    _post(agent, f"/consultations/{ddt}/accuse-reception", {"csrf_token": token})
    sent = agent.get("/mes-consultations?statut=sent", headers=HTML).text
    assert f'href="/consultations/{ddt}"' not in sent and "Accusée réception (1)" in sent
    acknowledged = agent.get("/mes-consultations?statut=acknowledged", headers=HTML).text
    assert f'href="/consultations/{ddt}"' in acknowledged
    assert 'value="acknowledged" selected' in acknowledged
    with db.transaction() as session:
        kind = session.get_one(Consultation, ddt).consultation_type_code
    typed = agent.get(f"/mes-consultations?type={kind}", headers=HTML).text
    assert f'href="/consultations/{ddt}"' in typed and f'value="{kind}" selected' in typed
    other = "abf_accord" if kind != "abf_accord" else "generic_opinion"
    assert (
        f'href="/consultations/{ddt}"'
        not in agent.get(f"/mes-consultations?type={other}", headers=HTML).text
    )
    # Bounded parameters: an unknown status or type, or a type too long, is refused.
    for query in ("statut=inconnu", "type=inconnu", "type=" + "a" * 65, "type=A%20B"):
        answer = agent.get(f"/mes-consultations?{query}", headers=HTML)
        assert answer.status_code == 422, query
        assert "Informations invalides" in answer.text
    # Another administration's queue does not show it.
    assert (
        f'href="/consultations/{ddt}"'
        not in signed_in(OTHER_AGENT).get("/mes-consultations", headers=HTML).text
    )


def test_the_deadline_shown_is_the_clocks_after_a_pause_and_the_holders_answer(
    db: Any, signed_in: Callable[[str], TestClient], world: dict[str, Any]
) -> None:
    """The consultation's deadline moves with its clock (suspension or interruption): every
    view, row and page shows the clock's, never the one computed when it was sent."""
    import datetime as dt

    from accelerator.consultations.queries import build_views
    from accelerator.consultations.worklists import consultation_rows
    from accelerator.information.schemas import InformationRequestIn
    from accelerator.messages.relay import answer_information, request_information

    ddt, dossier = world["consultations"]["DDT-65"], world["dossier_id"]
    with db.transaction() as session:
        [sent] = build_views(session, [session.get_one(Consultation, ddt)])
        assert sent.due_at is not None
        sent_due = dt.datetime.fromisoformat(sent.due_at)
        referent = session.scalar(select(User).where(User.email == "referent@pages.test"))
        holder = session.scalar(select(User).where(User.email == "holder@pages.test"))
        assert sent_due is not None and referent is not None and holder is not None
        asked = request_information(
            session, dossier_id=dossier, user=referent, now=utcnow(),
            data=InformationRequestIn(message="Étude hydraulique ?", consultation_id=str(ddt)),
        )  # fmt: skip
        request_id = asked.id
    with db.transaction() as session:
        answer_information(
            session, request_id=request_id, message="Jointe.", user=holder,
            now=utcnow() + dt.timedelta(days=12),
        )  # fmt: skip
    with db.transaction() as session:
        clock = session.scalars(
            select(Clock).where(Clock.consultation_id == ddt, Clock.kind == "consultation_deadline")
        ).one()
        assert clock.state == "running" and clock.due_at is not None
        assert clock.due_at > sent_due + dt.timedelta(days=10)
        consultation = session.get_one(Consultation, ddt)
        [view] = build_views(session, [consultation])
        assert view.due_at is not None
        assert dt.datetime.fromisoformat(view.due_at) == clock.due_at
        [row] = consultation_rows(session, [consultation])
        assert row.due_at == clock.due_at
    page = _page(signed_in("agent@pages.test"), ddt).text
    from api.pages import display

    assert display.deadline(clock.due_at, "Europe/Paris") in page
