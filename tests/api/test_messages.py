"""The single window's threads through HTTP: the holder and the platform on the dossier, an
administration and the platform on its consultation, documents carried, unread counts per
reader, and an e-mail to the other side (a real SMTP server on loopback)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, update

from accelerator.identity.models import User
from accelerator.messages.models import Message
from accelerator.notifications.models import DigestItem
from tests import samples
from tests.api.conftest import HOTEL, Api, file_and_launch
from tests.api.test_documents import upload
from tests.workflows.test_mail import Inbox, body, inbox  # noqa: F401 - the SMTP fixture

pytestmark = pytest.mark.usefixtures("prefect_engine")


def messages_in(db: Any) -> int:
    with db.transaction() as session:
        return int(session.scalar(select(func.count(Message.id))) or 0)


@pytest.fixture
def consulting(api: Callable[[str], Api]) -> dict[str, Any]:
    """The hotel consulting UDAP-65 and SDIS-65, followed by referent@."""
    return file_and_launch(api, ["UDAP-65", "SDIS-65"])


def consultation(dossier: dict[str, Any], code: str) -> str:
    return str(next(c["id"] for c in dossier["consultations"] if c["administration"] == code))


def test_the_holder_and_the_platform_write_on_the_dossier_thread(
    api: Callable[[str], Api], consulting: dict[str, Any]
) -> None:
    holder, referent, cover = (
        api("holder@test.fr"),
        api("referent@test.fr"),
        api("referent2@test.fr"),
    )
    thread = f"/api/v1/dossiers/{consulting['id']}/messages"
    referent.post(
        f"/api/v1/dossiers/{consulting['id']}/information-requests",
        201,
        json={"message": "Merci de joindre le plan de masse.", "pieces": ["PC2"]},
    )
    piece = upload(holder, consulting["id"], "masse.pdf", samples.PDF, piece="PC2")
    sent = holder.post(
        thread, 201, json={"body": "Voici le plan de masse.", "document_ids": [piece["id"]]}
    )
    assert set(sent) == {"id", "author", "body", "documents", "sent_at"}
    assert sent["author"] == {"email": "holder@test.fr", "name": "holder"}
    assert sent["body"] == "Voici le plan de masse."
    assert sent["documents"] == [piece]
    referent.post(thread, 201, json={"body": "Bien reçu, merci."})
    cover.post(thread, 201, json={"body": "Je remplace votre référent cette semaine."})
    seen_by_holder = holder.get(thread)
    assert [m["body"] for m in seen_by_holder] == [
        "Voici le plan de masse.",
        "Bien reçu, merci.",
        "Je remplace votre référent cette semaine.",
    ]
    # The holder reads their référent; another member of the platform as a role only.
    assert seen_by_holder[1]["author"]["email"] == "referent@test.fr"
    assert seen_by_holder[2]["author"] == {"email": None, "name": "Référent de la plateforme"}
    assert "referent2@test.fr" not in str(seen_by_holder)
    # The platform reads everyone.
    seen_by_staff = api("manager@test.fr").get(thread)
    assert seen_by_staff[2]["author"]["email"] == "referent2@test.fr"
    # Managers and agents do not write there.
    api("manager@test.fr").post(thread, 403, json={"body": "Bonjour"})


def test_a_draft_has_no_thread_yet(api: Callable[[str], Api], db: Any) -> None:
    holder = api("holder@test.fr")
    draft = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    refused = holder.post(f"/api/v1/dossiers/{draft['id']}/messages", 409, json={"body": "Allô ?"})
    assert "brouillon" in refused["detail"]
    assert holder.get(f"/api/v1/dossiers/{draft['id']}/messages") == []
    assert messages_in(db) == 0


def test_an_administration_and_the_platform_write_on_the_consultation_thread(
    api: Callable[[str], Api], consulting: dict[str, Any]
) -> None:
    referent, agent = api("referent@test.fr"), api("agent.sdis-65@test.fr")
    sdis = consultation(consulting, "SDIS-65")
    thread = f"/api/v1/consultations/{sdis}/messages"
    note = upload(referent, consulting["id"], "note-sdis.pdf", samples.PDF, consultation_id=sdis)
    referent.post(thread, 201, json={"body": "Note jointe.", "document_ids": [note["id"]]})
    answer = agent.post(thread, 201, json={"body": "Il manque la notice de sécurité."})
    assert answer["author"] == {"email": "agent.sdis-65@test.fr", "name": "agent.sdis-65"}
    listed = agent.get(thread)
    assert [m["body"] for m in listed] == ["Note jointe.", "Il manque la notice de sécurité."]
    assert listed[0]["documents"][0]["id"] == note["id"]
    content = agent.client.get(f"/api/v1/documents/{note['id']}/content", headers=agent.headers)
    assert content.status_code == 200 and content.content == samples.PDF
    assert [m["body"] for m in api("admin@test.fr").get(thread)] == [m["body"] for m in listed]


def test_nobody_reaches_a_thread_that_is_not_theirs(
    api: Callable[[str], Api], consulting: dict[str, Any], db: Any
) -> None:
    holder, agent = api("holder@test.fr"), api("agent.sdis-65@test.fr")
    dossier_thread = f"/api/v1/dossiers/{consulting['id']}/messages"
    sdis_thread = f"/api/v1/consultations/{consultation(consulting, 'SDIS-65')}/messages"
    holder.post(dossier_thread, 201, json={"body": "Question pour le référent."})
    api("referent@test.fr").post(sdis_thread, 201, json={"body": "Question pour le SDIS."})
    before = messages_in(db)
    hidden = [
        # The holder never reads nor writes to an administration.
        (holder, sdis_thread, "Consultation introuvable."),
        (api("holder2@test.fr"), dossier_thread, "Dossier introuvable."),
        # An agent never reads the holder's thread, nor another administration's.
        (agent, dossier_thread, "Dossier introuvable."),
        (api("agent.udap-65@test.fr"), sdis_thread, "Consultation introuvable."),
        (api("agent.dreal-occ@test.fr"), sdis_thread, "Consultation introuvable."),
    ]
    for who, path, detail in hidden:
        assert who.get(path, 404) == {"detail": detail}, (who.email, path)
        assert who.post(path, 404, json={"body": "Bonjour"}) == {"detail": detail}
    assert messages_in(db) == before
    # The holder's unread counts name no consultation; the UDAP agent's, nothing at all.
    assert all(t["thread"] == "dossier" for t in holder.get("/api/v1/messages/unread"))
    assert api("agent.udap-65@test.fr").get("/api/v1/messages/unread") == []


def test_documents_carried_are_the_dossiers_and_readable_in_the_thread(
    api: Callable[[str], Api], consulting: dict[str, Any], db: Any
) -> None:
    holder, referent = api("holder@test.fr"), api("referent@test.fr")
    sdis, udap = consultation(consulting, "SDIS-65"), consultation(consulting, "UDAP-65")
    other = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    elsewhere = upload(holder, other["id"], "autre.pdf", samples.PDF)
    for_sdis = upload(referent, consulting["id"], "sdis.pdf", samples.PDF, consultation_id=sdis)
    shared = upload(referent, consulting["id"], "commun.pdf", samples.PDF)
    dossier_thread = f"/api/v1/dossiers/{consulting['id']}/messages"
    refusals = [
        (holder, dossier_thread, [elsewhere["id"]]),  # another dossier's
        (holder, dossier_thread, [for_sdis["id"]]),  # not the holder's to read
        (referent, dossier_thread, [for_sdis["id"]]),  # the holder could not read it
        (referent, f"/api/v1/consultations/{udap}/messages", [for_sdis["id"]]),
        (referent, dossier_thread, [shared["id"], shared["id"]]),
        (referent, dossier_thread, ["00000000-0000-0000-0000-000000000000"]),
    ]
    for who, path, ids in refusals:
        who.post(path, 422, json={"body": "Pièce jointe.", "document_ids": ids})
    assert messages_in(db) == 0
    referent.post(
        f"/api/v1/consultations/{sdis}/messages",
        201,
        json={"body": "Deux pièces.", "document_ids": [for_sdis["id"], shared["id"]]},
    )
    too_many = {"body": "x", "document_ids": [shared["id"]] * 21}
    referent.post(dossier_thread, 422, json=too_many)
    for bad in ({"body": ""}, {"body": "a\x00b"}, {"body": "x" * 20_001}, {"texte": "x"}):
        holder.post(dossier_thread, 422, json=bad)


def test_unread_counts_per_reader(api: Callable[[str], Api], consulting: dict[str, Any]) -> None:
    holder, referent = api("holder@test.fr"), api("referent@test.fr")
    agent, manager = api("agent.sdis-65@test.fr"), api("manager@test.fr")
    sdis = consultation(consulting, "SDIS-65")
    dossier_thread = f"/api/v1/dossiers/{consulting['id']}/messages"
    sdis_thread = f"/api/v1/consultations/{sdis}/messages"
    holder.post(dossier_thread, 201, json={"body": "Premier message."})
    holder.post(dossier_thread, 201, json={"body": "Second message."})
    agent.post(sdis_thread, 201, json={"body": "Une question."})

    def counts(who: Api) -> dict[str, int]:
        return {
            t["consultation_id"] or t["dossier_id"]: t["unread"]
            for t in who.get("/api/v1/messages/unread")
        }

    assert counts(holder) == {}  # their own messages are read
    assert counts(referent) == {consulting["id"]: 2, sdis: 1}
    assert counts(manager) == {consulting["id"]: 2, sdis: 1}
    assert counts(agent) == {}
    assert counts(api("referent2@test.fr")) == {}  # not a dossier they follow
    referent.get(dossier_thread)
    assert counts(referent) == {sdis: 1}
    assert counts(manager) == {consulting["id"]: 2, sdis: 1}  # each reader their own marker
    referent.post(sdis_thread, 201, json={"body": "Je regarde."})
    assert counts(referent) == {}  # writing reads what came before
    assert counts(agent) == {sdis: 1}
    referent.post(dossier_thread, 201, json={"body": "Réponse."})
    assert counts(holder) == {consulting["id"]: 1}
    holder.get(dossier_thread, params={"limit": 1})  # any page of it marks the thread read
    assert counts(holder) == {}


def test_a_new_message_mails_the_other_side(
    api: Callable[[str], Api],
    consulting: dict[str, Any],
    db: Any,
    inbox: Inbox,  # noqa: F811
) -> None:
    from workflows.relay import drain

    holder, referent, cover = (
        api("holder@test.fr"),
        api("referent@test.fr"),
        api("referent2@test.fr"),
    )
    sdis_thread = f"/api/v1/consultations/{consultation(consulting, 'SDIS-65')}/messages"
    dossier_thread = f"/api/v1/dossiers/{consulting['id']}/messages"
    with db.transaction() as session:
        session.execute(
            update(User)
            .where(User.email == "agent.udap-65@test.fr")
            .values(notification_mode="digest")
        )
    drain()
    inbox.messages.clear()
    holder.post(dossier_thread, 201, json={"body": "Quand aurai-je une réponse ?"})
    drain()
    [to_referent] = inbox.to("referent@test.fr")
    assert to_referent["Subject"].endswith(": nouveau message")
    assert "Quand aurai-je une réponse ?" in body(to_referent, "plain")
    cover.post(dossier_thread, 201, json={"body": "Sous quinze jours."})
    drain()
    [to_holder] = inbox.to("holder@test.fr")
    text = body(to_holder, "plain")
    assert "Référent de la plateforme vous a écrit" in text and "Sous quinze jours." in text
    assert "referent2@test.fr" not in text and "referent2@test.fr" not in body(to_holder, "html")
    referent.post(sdis_thread, 201, json={"body": "Le porteur a répondu."})
    udap_thread = f"/api/v1/consultations/{consultation(consulting, 'UDAP-65')}/messages"
    referent.post(udap_thread, 201, json={"body": "Avez-vous tout ?"})
    drain()
    assert len(inbox.to("agent.sdis-65@test.fr")) == 1
    # The UDAP agent chose the daily digest: kept for it, not sent now.
    assert inbox.to("agent.udap-65@test.fr") == []
    with db.transaction() as session:
        kept = list(session.scalars(select(DigestItem.subject)))
    assert any("nouveau message" in subject for subject in kept)
    api("agent.sdis-65@test.fr").post(sdis_thread, 201, json={"body": "Merci."})
    drain()
    assert len(inbox.to("referent@test.fr")) == 2
    assert "Merci." in body(inbox.to("referent@test.fr")[-1], "plain")


def test_a_relayed_request_and_the_holders_answer_show_on_the_consultation_thread(
    api: Callable[[str], Api],
    consulting: dict[str, Any],
    db: Any,
    inbox: Inbox,  # noqa: F811
) -> None:
    from workflows.relay import drain

    holder, referent = api("holder@test.fr"), api("referent@test.fr")
    sdis_agent, udap_agent = api("agent.sdis-65@test.fr"), api("agent.udap-65@test.fr")
    sdis, udap = consultation(consulting, "SDIS-65"), consultation(consulting, "UDAP-65")
    sdis_thread = f"/api/v1/consultations/{sdis}/messages"
    dossier_thread = f"/api/v1/dossiers/{consulting['id']}/messages"
    sdis_agent.post(sdis_thread, 201, json={"body": "Il nous faut la notice de sécurité."})
    drain()
    inbox.messages.clear()
    dossier = referent.post(
        f"/api/v1/dossiers/{consulting['id']}/information-requests",
        201,
        json={
            "message": "Le SDIS demande la notice de sécurité incendie.",
            "pieces": ["Notice de sécurité", "Plan des issues"],
            "consultation_id": sdis,
        },
    )
    [request] = [r for r in dossier["information_requests"] if r["consultation_id"] == sdis]
    listed = sdis_agent.get(sdis_thread)
    assert len(listed) == 2
    relayed = listed[1]
    assert relayed["author"]["email"] == "referent@test.fr"
    assert "Le SDIS demande la notice de sécurité incendie." in relayed["body"]
    assert "Notice de sécurité ; Plan des issues" in relayed["body"]
    # The API's message keeps exactly the keys of its contract.
    assert set(relayed) == {"id", "author", "body", "documents", "sent_at"}
    drain()
    assert len(inbox.to("agent.sdis-65@test.fr")) == 1
    inbox.messages.clear()

    notice = upload(
        holder,
        consulting["id"],
        "notice.pdf",
        samples.PDF,
        information_request_id=request["id"],
    )
    holder.post(
        f"/api/v1/information-requests/{request['id']}/answer",
        200,
        json={"message": "Voici la notice et le plan."},
    )
    listed = sdis_agent.get(sdis_thread)
    assert len(listed) == 3
    answer = listed[2]
    assert "Voici la notice et le plan." in answer["body"]
    assert [d["id"] for d in answer["documents"]] == [notice["id"]]
    # Relayed by the platform: the holder never writes to an administration.
    assert answer["author"]["email"] == "referent@test.fr"
    assert "holder@test.fr" not in str(listed)
    content = sdis_agent.client.get(
        f"/api/v1/documents/{notice['id']}/content", headers=sdis_agent.headers
    )
    assert content.status_code == 200 and content.content == samples.PDF
    drain()
    [mail] = inbox.to("agent.sdis-65@test.fr")
    assert "Voici la notice et le plan." in body(mail, "plain")
    # The other administration's thread, and the holder's own, hold none of it.
    assert udap_agent.get(f"/api/v1/consultations/{udap}/messages") == []
    assert holder.get(dossier_thread) == []
    holder.get(sdis_thread, 404)
    with db.transaction() as session:
        kinds = sorted(
            session.scalars(select(Message.kind).where(Message.information_request_id.is_not(None)))
        )
    assert kinds == ["information_answer", "information_request"]


def test_a_request_for_the_dossier_writes_on_no_thread(
    api: Callable[[str], Api], consulting: dict[str, Any], db: Any
) -> None:
    referent = api("referent@test.fr")
    referent.post(
        f"/api/v1/dossiers/{consulting['id']}/information-requests",
        201,
        json={"message": "Merci de joindre le plan de masse.", "pieces": ["PC2"]},
    )
    assert messages_in(db) == 0
