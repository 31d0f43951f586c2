"""The dossier page: each party reads what the API would show them, and its forms run the
same actions (take in charge, launch, request, answer, write, hand over, close, withdraw),
with CSRF, field errors shown again, and a fixed number of queries."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from accelerator.consultations.actions import complete_launch, create_consultation, give_opinion
from accelerator.consultations.models import Consultation, ConsultationLaunch
from accelerator.consultations.status import OpinionNature
from accelerator.demo.actions import HOTEL_PROJECT
from accelerator.dossiers.actions import create_dossier, file_dossier
from accelerator.dossiers.models import Dossier
from accelerator.dossiers.schemas import DossierCreate
from accelerator.history.models import HistoryEntry
from accelerator.identity.actions import create_user
from accelerator.identity.models import User
from accelerator.identity.roles import Role
from accelerator.information.models import InformationRequest
from accelerator.intake.actions import take_in
from accelerator.messages.models import Message
from accelerator.shared.db import utcnow
from accelerator.sla.models import Clock
from tests.pages.conftest import HTML, PASSWORD, csrf_of, sign_in
from tests.pages.test_page_queries import MOST, add_world

ERROR_UNDER = re.compile(r'class="fr-message fr-message--error">([^<]+)<')


def _user(session: Any, email: str) -> User:
    found = session.scalar(select(User).where(User.email == email))
    assert found is not None, email
    return found


def filed_hotel(db: Any) -> uuid.UUID:
    """The hotel project of the holder's organisation, filed and taken in (proposed to a
    référent, the 24 h clock running)."""
    now = utcnow()
    with db.transaction() as session:
        holder = _user(session, "holder@pages.test")
        dossier = create_dossier(
            session, data=DossierCreate.model_validate(HOTEL_PROJECT), user=holder, now=now
        )
        file_dossier(session, dossier_id=dossier.id, user=holder, now=now)
        dossier_id = dossier.id
    with db.transaction() as session:
        take_in(session, dossier_id=dossier_id, now=now)
    return dossier_id


def run_launch(db: Any, dossier_id: uuid.UUID) -> list[Consultation]:
    """What the launch flow does once the référent launched: one consultation per chosen
    administration, then the launch completed."""
    with db.transaction() as session:
        launch = session.scalars(
            select(ConsultationLaunch)
            .where(ConsultationLaunch.dossier_id == dossier_id)
            .order_by(ConsultationLaunch.requested_at.desc())
        ).first()
        assert launch is not None
        launch_id, codes = launch.id, [e["administration"] for e in launch.entries]
    for code in codes:
        with db.transaction() as session:
            create_consultation(session, launch_id=launch_id, administration=code)
    with db.transaction() as session:
        complete_launch(session, launch_id=launch_id, now=utcnow())
    with db.transaction() as session:
        return list(
            session.scalars(select(Consultation).where(Consultation.dossier_id == dossier_id))
        )


def post(client: TestClient, page: str, action: str, data: dict[str, Any]) -> Any:
    """Send the form posting to ``action`` from ``page`` as a browser would."""
    html = client.get(page, headers=HTML).text
    fields = {"csrf_token": csrf_of(html, action), **data}
    return client.post(action, data=fields, headers=HTML, follow_redirects=False)


def status_of(db: Any, dossier_id: uuid.UUID) -> str:
    with db.transaction() as session:
        return session.get_one(Dossier, dossier_id).status


def test_a_dossier_goes_through_its_page_from_take_in_charge_to_closing(
    db: Any, signed_in: Callable[[str], TestClient]
) -> None:
    dossier_id = filed_hotel(db)
    page = f"/dossiers/{dossier_id}"
    holder, referent = signed_in("holder@pages.test"), signed_in("referent@pages.test")

    shown = holder.get(page, headers=HTML)
    assert shown.status_code == 200
    assert "Extension de l" in shown.text and 'aria-current="step"' in shown.text
    assert 'action="/dossiers/' + str(dossier_id) + '/retrait"' in shown.text

    # The référent takes it in charge, then consults two administrations of his choice.
    taken = post(referent, page, f"{page}/prise-en-charge", {})
    assert taken.status_code == 303 and taken.headers["location"] == f"{page}?fait=pris-en-charge"
    assert status_of(db, dossier_id) == "taken_in_charge"
    form = referent.get(taken.headers["location"], headers=HTML).text
    assert "Vous avez pris le dossier en charge" in form
    assert 'name="administrations"' in form and "Proposée :" in form
    launched = post(
        referent, page, f"{page}/consultations", {"administrations": ["UDAP-65", "SDIS-65"]}
    )
    assert launched.status_code == 303, launched.text
    consultations = run_launch(db, dossier_id)
    assert sorted(c.administration_code for c in consultations) == ["SDIS-65", "UDAP-65"]
    assert status_of(db, dossier_id) == "consulting"

    # Relaying the SDIS's question to the holder: the dossier waits for the holder.
    sdis = next(c for c in consultations if c.administration_code == "SDIS-65")
    asked = post(
        referent,
        page,
        f"{page}/demandes",
        {
            "consultation_id": str(sdis.id),
            "message": "Le SDIS demande la notice de sécurité.",
            "pieces": "Notice de sécurité\n\n  PC40  \n",
        },
    )
    assert asked.status_code == 303, asked.text
    assert status_of(db, dossier_id) == "consulting"  # the SDIS's clock alone is paused
    with db.transaction() as session:
        assert session.get_one(Consultation, sdis.id).status == "awaiting_information"
        request = session.scalars(
            select(InformationRequest).where(InformationRequest.dossier_id == dossier_id)
        ).one()
        assert request.pieces == ["Notice de sécurité", "PC40"]
        request_id = request.id
        paused = session.scalars(
            select(Clock).where(
                Clock.consultation_id == sdis.id, Clock.kind == "consultation_deadline"
            )
        ).one()
        assert paused.state == "paused" and paused.left_amount
    # The paused deadline says how many days will run once the holder has answered.
    assert f"{paused.left_amount} j. après complément" in referent.get(page, headers=HTML).text
    seen = holder.get(page, headers=HTML).text
    assert "Une réponse est attendue du porteur de projet" in seen
    answered = post(
        holder,
        page,
        f"{page}/demandes/{request_id}/reponse",
        {"message": "La notice est déposée dans les pièces."},
    )
    assert answered.status_code == 303, answered.text
    assert status_of(db, dossier_id) == "consulting"

    # The single window's thread: the holder writes, the référent's header counts it.
    written = post(holder, page, f"{page}/messages", {"body": "Merci, à votre disposition."})
    assert written.status_code == 303
    header = referent.get("/file-de-travail", headers=HTML).text
    assert "Messages non lus : 1<" in header
    read = referent.get(f"{page}?onglet=echanges", headers=HTML).text
    assert "Merci, à votre disposition." in read
    after = referent.get("/file-de-travail", headers=HTML).text
    assert "Messages non lus : 0<" in after

    # The référent chases the UDAP on its consultation's thread; its agents are told.
    udap = next(c for c in consultations if c.administration_code == "UDAP-65")
    chased = post(
        referent,
        f"{page}?onglet=consultations",
        f"{page}/consultations/{udap.id}/messages",
        {"body": "Pouvez-vous rendre votre avis avant vendredi ?"},
    )
    assert chased.status_code == 303, chased.text[:300]
    with db.transaction() as session:
        (sent,) = session.scalars(select(Message).where(Message.consultation_id == udap.id)).all()
        assert sent.body == "Pouvez-vous rendre votre avis avant vendredi ?"
    # Another dossier's consultation cannot be written to through this page.
    stray = referent.post(
        f"/dossiers/{uuid.uuid4()}/consultations/{udap.id}/messages",
        data={"body": "x", "csrf_token": csrf_of(referent.get(page, headers=HTML).text)},
        headers=HTML,
        follow_redirects=False,
    )
    assert stray.status_code == 404

    # Both administrations answer; the référent sees each raw opinion, the holder does not.
    with db.transaction() as session:
        for c in consultations:
            agent = create_user(
                session,
                email=f"agent.{c.administration_code.lower()}@pages.test",
                role=Role.AGENT,
                password=PASSWORD,
                administration=c.administration_code,
                now=utcnow(),
            )
            give_opinion(
                session,
                consultation_id=c.id,
                nature=OpinionNature.FAVOURABLE,
                text=f"Rien à signaler pour {c.administration_code}.",
                user=agent,
                now=utcnow(),
            )
    from accelerator.consultations.actions import consolidate_dossier

    with db.transaction() as session:
        consolidate_dossier(session, dossier_id=dossier_id, now=utcnow())
    assert status_of(db, dossier_id) == "consolidated"
    assert "Rien à signaler pour SDIS-65." in referent.get(page, headers=HTML).text
    assert "Rien à signaler pour SDIS-65." not in holder.get(page, headers=HTML).text

    closed = post(
        referent, page, f"{page}/cloture", {"message": "Avis favorable de tous les services."}
    )
    assert closed.status_code == 303
    assert status_of(db, dossier_id) == "closed"
    final = holder.get(page, headers=HTML).text
    assert "Avis favorable de tous les services." in final
    assert f'action="{page}/retrait"' not in final  # nothing left to withdraw


def test_a_refused_form_is_shown_again_with_its_error_and_changes_nothing(
    db: Any, signed_in: Callable[[str], TestClient]
) -> None:
    dossier_id = filed_hotel(db)
    page = f"/dossiers/{dossier_id}"
    holder = signed_in("holder@pages.test")
    refused = post(holder, page, f"{page}/retrait", {"reason": "x"})
    assert refused.status_code == 422
    assert "Le formulaire contient des erreurs" in refused.text
    (message,) = ERROR_UNDER.findall(refused.text)
    assert "3" in message  # at least 3 characters
    assert 'aria-describedby="retrait-motif-erreur"' in refused.text
    control = post(holder, page, f"{page}/messages", {"body": "a\x00b"})
    assert control.status_code == 422
    assert status_of(db, dossier_id) == "filed"
    with db.transaction() as session:
        assert not session.scalars(select(Message)).all()
    # Without the token: 403, nothing done.
    bare = holder.post(
        f"{page}/retrait", data={"reason": "Projet abandonné"}, headers=HTML, follow_redirects=False
    )
    assert bare.status_code == 403
    assert status_of(db, dossier_id) == "filed"
    withdrawn = post(holder, page, f"{page}/retrait", {"reason": "Projet abandonné."})
    assert withdrawn.status_code == 303
    assert status_of(db, dossier_id) == "withdrawn"


def test_who_opens_which_dossier_page(
    db: Any, signed_in: Callable[[str], TestClient], browser_client: Callable[[], TestClient]
) -> None:
    dossier_id = filed_hotel(db)
    page = f"/dossiers/{dossier_id}"
    with db.transaction() as session:
        create_user(
            session,
            email="other@pages.test",
            role=Role.HOLDER,
            password=PASSWORD,
            organisation="Autre société",
            now=utcnow(),
        )
    for email in ("holder@pages.test", "referent@pages.test", "manager@pages.test"):
        assert signed_in(email).get(page, headers=HTML).status_code == 200, email
    assert signed_in("agent@pages.test").get(page, headers=HTML).status_code == 403
    other = browser_client()
    assert sign_in(other, "other@pages.test").status_code == 303
    for path in (page, f"/dossiers/{uuid.uuid4()}", "/dossiers/pas-un-identifiant"):
        answer = other.get(path, headers=HTML)
        assert answer.status_code == 404, path
        assert "introuvable" in answer.text
    # Another holder's forms do nothing either.
    tried = other.post(
        f"{page}/retrait",
        data={
            "reason": "Pas mon dossier",
            "csrf_token": csrf_of(other.get("/", headers=HTML).text),
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert tried.status_code == 404
    assert status_of(db, dossier_id) == "filed"
    # A référent who is not this dossier's cannot launch its consultations.
    referent = signed_in("referent@pages.test")
    post(referent, page, f"{page}/prise-en-charge", {})
    with db.transaction() as session:
        create_user(
            session,
            email="referent2@pages.test",
            role=Role.REFERENT,
            password=PASSWORD,
            now=utcnow(),
        )
    second = browser_client()
    sign_in(second, "referent2@pages.test")
    html = second.get(page, headers=HTML).text
    assert f'action="{page}/consultations"' not in html
    forced = second.post(
        f"{page}/consultations",
        data={"administrations": ["DDT-65"], "csrf_token": csrf_of(html)},
        headers=HTML,
        follow_redirects=False,
    )
    assert forced.status_code in (403, 409), forced.text[:300]
    assert status_of(db, dossier_id) == "taken_in_charge"
    with db.transaction() as session:
        launched = session.scalars(
            select(HistoryEntry).where(
                HistoryEntry.dossier_id == dossier_id,
                HistoryEntry.event == "consultations_launched",
            )
        ).all()
        assert not launched


@pytest.mark.parametrize("email", ["holder@pages.test", "referent@pages.test", "admin@pages.test"])
def test_the_dossier_page_reads_as_often_with_1000_dossiers_as_with_10(
    db: Any,
    signed_in: Callable[[str], TestClient],
    statements: list[str],
    email: str,
) -> None:
    add_world(db, 10)
    with db.transaction() as session:
        dossier = session.scalars(
            select(Dossier).where(Dossier.status == "consulting").order_by(Dossier.reference)
        ).first()
        assert dossier is not None
        page = f"/dossiers/{dossier.id}"
    client = signed_in(email)

    def count() -> int:
        statements.clear()
        answer = client.get(page, headers=HTML)
        assert answer.status_code == 200, answer.text[:500]
        return len(statements)

    few = count()
    add_world(db, 990, first=10)
    many = count()
    assert many == few, f"{few} queries at 10 dossiers, {many} at 1000"
    assert many <= MOST + 20, many


def test_a_holder_attaches_a_piece_from_the_page_and_a_refused_file_is_told_under_its_field(
    db: Any, signed_in: Callable[[str], TestClient]
) -> None:
    from accelerator.documents.models import Document
    from tests import samples

    with db.transaction() as session:
        draft = create_dossier(
            session,
            data=DossierCreate.model_validate(HOTEL_PROJECT),
            user=_user(session, "holder@pages.test"),
            now=utcnow(),
        )
        dossier_id = draft.id
    page = f"/dossiers/{dossier_id}"
    holder = signed_in("holder@pages.test")
    html = holder.get(f"{page}?onglet=pieces", headers=HTML).text
    assert 'enctype="multipart/form-data"' in html and 'name="file"' in html
    token = csrf_of(html, f"{page}/pieces")

    def attach(name: str, content: bytes, piece: str = "PC1") -> Any:
        return holder.post(
            f"{page}/pieces",
            data={"csrf_token": token, "piece": piece},
            files={"file": (name, content, "application/octet-stream")},
            headers=HTML,
            follow_redirects=False,
        )

    refused = attach("plan.pdf", samples.ELF)  # an executable dressed as a PDF
    assert refused.status_code == 415
    assert "fr-upload-group--error" in refused.text
    assert 'aria-describedby="piece-fichier-erreur"' in refused.text
    with db.transaction() as session:
        assert session.scalars(select(Document)).all() == []
    kept = attach("plan de situation.pdf", samples.PDF)
    assert kept.status_code == 303 and kept.headers["location"].endswith("fait=piece-ajoutee")
    shown = holder.get(kept.headers["location"], headers=HTML).text
    assert "Le document est joint au dossier." in shown and "plan de situation.pdf" in shown
    with db.transaction() as session:
        (document,) = session.scalars(select(Document)).all()
        assert (document.piece, document.content_type) == ("PC1", "application/pdf")
    # Without the token: 403, nothing kept.
    bare = holder.post(
        f"{page}/pieces",
        files={"file": ("x.pdf", samples.PDF, "application/pdf")},
        headers=HTML,
        follow_redirects=False,
    )
    assert bare.status_code == 403
    with db.transaction() as session:
        assert len(session.scalars(select(Document)).all()) == 1
