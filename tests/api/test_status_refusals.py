"""Statuses never go backwards, seen from the client: a refused move answers 409 in French
and changes nothing (the whole matrix runs on the domain in tests/accelerator)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.api.conftest import Api, file_and_launch

pytestmark = pytest.mark.usefixtures("prefect_engine")


def _state(dossier: dict[str, Any]) -> dict[str, Any]:
    """What a refused move must leave as it was."""
    return {
        "status": dossier["status"],
        "referent": dossier["referent"],
        "consultations": {c["administration"]: c["status"] for c in dossier["consultations"]},
        "clocks": {c["id"]: (c["state"], c["due_at"]) for c in dossier["clocks"]},
        "requests": [(r["id"], r["answered_at"]) for r in dossier["information_requests"]],
        "history": len(dossier["history"]),
    }


def test_a_dossier_awaiting_the_holder_is_not_taken_in_charge_again(
    api: Callable[[str], Api],
) -> None:
    dossier = file_and_launch(api, ["SDIS-65", "UDAP-65"])
    referent, other = api("referent@test.fr"), api("referent2@test.fr")
    path = f"/api/v1/dossiers/{dossier['id']}"
    referent.post(f"{path}/information-requests", 201, json={"message": "Notice PC4 manquante."})
    waiting = referent.get(path)
    assert waiting["status"] == "awaiting_holder"
    before = _state(waiting)
    for who in (other, referent):
        refused = who.post(f"{path}/take-charge", 409)
        assert refused["detail"] == (
            "Le dossier est « en attente du porteur » : il ne reprend son cours qu'à la "
            "réception des compléments demandés au porteur."
        )
        # Launching again would leave the side state as well.
        assert "en attente du porteur" in referent.post(f"{path}/consultations", 409)["detail"]
    assert _state(referent.get(path)) == before
    # The holder's answer, and only it, sends the dossier back where it was.
    request_id = waiting["information_requests"][0]["id"]
    api("holder@test.fr").post(
        f"/api/v1/information-requests/{request_id}/answer", json={"message": "Notice jointe."}
    )
    back = referent.get(path)
    assert back["status"] == "consulting"
    assert back["referent"] == waiting["referent"]


def test_acknowledging_a_consultation_awaiting_information_is_refused(
    api: Callable[[str], Api],
) -> None:
    dossier = file_and_launch(api, ["SDIS-65"])
    [sdis] = dossier["consultations"]
    referent, agent = api("referent@test.fr"), api("agent.sdis-65@test.fr")
    referent.post(
        f"/api/v1/dossiers/{dossier['id']}/information-requests",
        201,
        json={"message": "Le SDIS demande le plan des issues.", "consultation_id": sdis["id"]},
    )
    path = f"/api/v1/consultations/{sdis['id']}"
    waiting = agent.get(path)
    assert (waiting["status"], waiting["clock"]["state"]) == ("awaiting_information", "paused")
    refused = agent.post(f"{path}/acknowledge", 409)
    assert refused["detail"] == (
        "La consultation est « en attente d'informations » : elle ne reprend son cours qu'à la "
        "réception des compléments demandés au porteur."
    )
    after = agent.get(path)
    assert (after["status"], after["clock"], after["version"]) == (
        "awaiting_information",
        waiting["clock"],
        waiting["version"],
    )
    # The answer brings it back to where it was (sent), through the transition check.
    request_id = referent.get(f"/api/v1/dossiers/{dossier['id']}")["information_requests"][0]["id"]
    api("holder@test.fr").post(
        f"/api/v1/information-requests/{request_id}/answer", json={"message": "Plan joint."}
    )
    assert agent.get(path)["status"] == "sent"
    history = referent.get(f"/api/v1/dossiers/{dossier['id']}")["history"]
    received = [h for h in history if h["event"] == "information_received"]
    assert [(h["from"], h["to"]) for h in received] == [("awaiting_information", "sent")]
    agent.post(f"{path}/acknowledge")  # now it may
