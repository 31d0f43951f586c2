"""Requests for documents and clock explanations through HTTP, as référent, holder, agent."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.api.conftest import HOTEL, Api, file_and_launch

pytestmark = pytest.mark.usefixtures("prefect_engine")


def test_a_request_pauses_the_legal_delay_until_the_holder_answers(
    api: Callable[[str], Api],
) -> None:
    from workflows.relay import drain

    holder, referent = api("holder@test.fr"), api("referent@test.fr")
    dossier = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    holder.post(f"/api/v1/dossiers/{dossier['id']}/file")
    drain()
    referent.post(f"/api/v1/dossiers/{dossier['id']}/take-charge")
    asked = referent.post(
        f"/api/v1/dossiers/{dossier['id']}/information-requests",
        201,
        json={"message": "Merci de joindre la notice de sécurité.", "pieces": ["PC40"]},
    )
    assert asked["status"] == "awaiting_holder"
    # The holder must answer the request: filing the dossier again is refused, nothing changes.
    refused = holder.post(f"/api/v1/dossiers/{dossier['id']}/file", 409)
    assert "répondez à la demande de compléments" in refused["detail"]
    again = holder.get(f"/api/v1/dossiers/{dossier['id']}")
    assert (again["status"], again["reference"]) == ("awaiting_holder", asked["reference"])
    assert [h["event"] for h in again["history"]] == [h["event"] for h in asked["history"]]
    legal = next(c for c in asked["clocks"] if c["kind"] == "procedure_deadline")
    assert legal["state"] == "paused" and legal["due_at"] is None
    [request] = asked["information_requests"]
    assert request["pieces"] == ["PC40"] and request["answered_at"] is None
    assert any("interrompu" in effect for effect in request["effects"])

    # The holder sees the request and answers it; the full delay starts again (permit).
    seen = holder.get(f"/api/v1/dossiers/{dossier['id']}")
    assert seen["information_requests"][0]["message"].startswith("Merci de joindre")
    answered = holder.post(
        f"/api/v1/information-requests/{request['id']}/answer", json={"message": "Notice jointe."}
    )
    assert answered["status"] == "taken_in_charge"
    legal = next(c for c in answered["clocks"] if c["kind"] == "procedure_deadline")
    assert legal["state"] == "running" and legal["due_at"] is not None
    holder.post(
        f"/api/v1/information-requests/{request['id']}/answer", 409, json={"message": "Encore"}
    )
    events = [h["event"] for h in answered["history"]]
    assert "information_requested" in events and "information_received" in events

    # How the deadline was computed, for the holder, in plain French.
    timeline = holder.get(f"/api/v1/clocks/{legal['id']}/timeline")
    assert "mis en pause" in timeline["for_holder"] and "repart" in timeline["for_holder"]
    assert [s["kind"] for s in timeline["segments"]][:2] == ["running", "paused"]
    detail = referent.get(f"/api/v1/clocks/{legal['id']}")
    assert detail["pause_effect"] == "interruption"
    assert detail["definition"] == "procedure:PC" and detail["calendar_version"] == 1
    assert [r["name"] for r in detail["rungs"]] == [
        "reminder_50",
        "reminder_75",
        "breach",
        "escalation",
    ]
    assert len(detail["pauses"]) == 1 and detail["pauses"][0]["ended_at"] is not None


def test_relayed_request_on_a_consultation(api: Callable[[str], Api]) -> None:
    dossier = file_and_launch(api, ["SDIS-65", "UDAP-65"])
    sdis = next(c for c in dossier["consultations"] if c["administration"] == "SDIS-65")
    referent, holder = api("referent@test.fr"), api("holder@test.fr")
    asked = referent.post(
        f"/api/v1/dossiers/{dossier['id']}/information-requests",
        201,
        json={"message": "Le SDIS demande le plan des issues.", "consultation_id": sdis["id"]},
    )
    assert asked["status"] == "consulting"  # only the consultation waits
    statuses = {c["administration"]: c["status"] for c in asked["consultations"]}
    assert statuses == {"SDIS-65": "awaiting_information", "UDAP-65": "sent"}
    [request] = asked["information_requests"]
    assert request["administration"] == "SDIS-65"
    agent = api("agent.sdis-65@test.fr")
    mine = agent.get(f"/api/v1/consultations/{sdis['id']}")
    assert mine["clock"]["state"] == "paused"
    # Agents see their consultation's clock, not the dossier's.
    agent.get(f"/api/v1/clocks/{mine['clock']['id']}")
    legal = next(c for c in asked["clocks"] if c["kind"] == "procedure_deadline")
    agent.get(f"/api/v1/clocks/{legal['id']}", 404)
    api("holder2@test.fr").get(f"/api/v1/clocks/{legal['id']}", 404)
    holder.post(
        f"/api/v1/information-requests/{request['id']}/answer", json={"message": "Plan joint."}
    )
    assert agent.get(f"/api/v1/consultations/{sdis['id']}")["status"] == "sent"


def test_only_the_referent_asks_and_only_the_holder_answers(api: Callable[[str], Api]) -> None:
    dossier = file_and_launch(api, ["SDIS-65"])
    path = f"/api/v1/dossiers/{dossier['id']}/information-requests"
    api("holder@test.fr").post(path, 403, json={"message": "Je me demande à moi-même"})
    api("referent2@test.fr").post(path, 403, json={"message": "Pas mon dossier"})
    asked = api("referent@test.fr").post(path, 201, json={"message": "Pièce PC4 manquante"})
    request_id = asked["information_requests"][0]["id"]
    answer = f"/api/v1/information-requests/{request_id}/answer"
    api("referent@test.fr").post(answer, 403, json={"message": "Je réponds pour lui"})
    other = api("holder2@test.fr").post(answer, 404, json={"message": "Autre organisation"})
    assert other["detail"] == "Demande introuvable."
