"""Object-level access: what is not yours answers 404; what is not your role's, 403."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.api.conftest import HOTEL, Api, file_and_launch

pytestmark = pytest.mark.usefixtures("prefect_engine")


@pytest.fixture
def consulting(api: Callable[[str], Api]) -> dict[str, Any]:
    """A hotel dossier under consultation of UDAP-65 and SDIS-65."""
    return file_and_launch(api, ["UDAP-65", "SDIS-65"])


def test_holder_of_another_organisation_gets_404(
    api: Callable[[str], Api], consulting: dict[str, Any]
) -> None:
    stranger = api("holder2@test.fr")
    stranger.get(f"/api/v1/dossiers/{consulting['id']}", 404)
    stranger.post(f"/api/v1/dossiers/{consulting['id']}/file", 404)
    assert stranger.get("/api/v1/dossiers") == []
    # The owner still sees it.
    assert (
        api("holder@test.fr").get(f"/api/v1/dossiers/{consulting['id']}")["id"] == consulting["id"]
    )


def test_agent_of_another_administration_gets_404(
    api: Callable[[str], Api], consulting: dict[str, Any]
) -> None:
    abf = next(c for c in consulting["consultations"] if c["administration"] == "UDAP-65")
    other = api("agent.dreal-occ@test.fr")
    other.get(f"/api/v1/consultations/{abf['id']}", 404)
    other.post(f"/api/v1/consultations/{abf['id']}/acknowledge", 404)
    other.post(f"/api/v1/consultations/{abf['id']}/opinion", 404, json={"nature": "favourable"})
    assert other.get("/api/v1/consultations") == []
    # Agents never read dossiers directly, not even those their administration is consulted on.
    api("agent.udap-65@test.fr").get(f"/api/v1/dossiers/{consulting['id']}", 404)
    sdis = api("agent.sdis-65@test.fr")
    assert [c["administration"] for c in sdis.get("/api/v1/consultations")] == ["SDIS-65"]
    sdis.get(f"/api/v1/consultations/{abf['id']}", 404)


def test_malformed_ids_are_not_found(api: Callable[[str], Api], consulting: dict[str, Any]) -> None:
    holder = api("holder@test.fr")
    assert holder.get("/api/v1/dossiers/not-a-uuid", 404)["detail"] == "Dossier introuvable."
    holder.get("/api/v1/dossiers/00000000-0000-0000-0000-000000000000", 404)


def test_roles_are_enforced(api: Callable[[str], Api], consulting: dict[str, Any]) -> None:
    holder, manager = api("holder@test.fr"), api("manager@test.fr")
    dossier_id = consulting["id"]
    holder.post(f"/api/v1/dossiers/{dossier_id}/take-charge", 403)
    holder.get("/api/v1/consultations", 403)
    manager.post("/api/v1/dossiers", 403, json=HOTEL)
    manager.post(f"/api/v1/dossiers/{dossier_id}/close", 403, json={"message": "Non."})
    # Managers read every filed dossier but edit no opinion.
    assert manager.get(f"/api/v1/dossiers/{dossier_id}")["id"] == dossier_id
    abf = next(c for c in consulting["consultations"] if c["administration"] == "UDAP-65")
    manager.post(f"/api/v1/consultations/{abf['id']}/opinion", 403, json={"nature": "favourable"})
    # Only the dossier's référent launches and closes.
    other = api("referent2@test.fr")
    answer = other.post(f"/api/v1/dossiers/{dossier_id}/close", 403, json={"message": "Fin."})
    assert "autre référent" in answer["detail"]


def test_drafts_are_private_to_their_organisation(api: Callable[[str], Api]) -> None:
    draft = api("holder@test.fr").post("/api/v1/dossiers", 201, json=HOTEL)
    api("referent@test.fr").get(f"/api/v1/dossiers/{draft['id']}", 404)
    api("manager@test.fr").get(f"/api/v1/dossiers/{draft['id']}", 404)


def test_requests_without_a_valid_token_are_refused(client: Any, accounts: Any) -> None:
    assert client.get("/api/v1/dossiers").status_code == 401
    bad = client.get("/api/v1/dossiers", headers={"Authorization": "Bearer forged.token.value"})
    assert bad.status_code == 401
    assert bad.json()["detail"] == "Jeton d'accès invalide."
    wrong = client.post("/api/v1/auth/token", json={"email": "holder@test.fr", "password": "nope"})
    assert wrong.status_code == 401
    unknown = client.post("/api/v1/auth/token", json={"email": "nobody@test.fr", "password": "x"})
    assert unknown.json() == wrong.json()
