"""Bad input is refused with a 422 and a message a person can read."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.api.conftest import HOTEL, Api, file_and_launch


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"commune_insee": "6513"}, "commune_insee", "5 caractères"),
        ({"attributes": {"near_monument": True, "pool": True}}, "attributes.pool", "champ inconnu"),
        ({"attributes": {"icpe": "nuclear"}}, "attributes.icpe", "valeur non admise"),
        ({"attributes": {"site_area_ha": -1}}, "attributes.site_area_ha", "trop petite"),
        ({"title": ""}, "title", "trop court"),
        ({"procedures": ["PC", "PC"]}, "procedures", "deux fois"),
        ({"jobs_created": "beaucoup"}, "jobs_created", "entier"),
    ],
)
def test_invalid_dossier_is_refused_readably(
    api: Callable[[str], Api], change: dict[str, object], field: str, words: str
) -> None:
    answer = api("holder@test.fr").post("/api/v1/dossiers", 422, json={**HOTEL, **change})
    assert answer["detail"].startswith("Requête invalide")
    [error] = [e for e in answer["errors"] if e["field"] == field]
    assert words in error["message"]


def test_unknown_procedure_is_refused(api: Callable[[str], Api]) -> None:
    answer = api("holder@test.fr").post(
        "/api/v1/dossiers", 422, json={**HOTEL, "procedures": ["XYZ"]}
    )
    assert "Procédure inconnue : XYZ" in answer["detail"]


def test_missing_fields_are_named(api: Callable[[str], Api]) -> None:
    answer = api("holder@test.fr").post("/api/v1/dossiers", 422, json={"title": "Sans commune"})
    assert {"field": "commune_insee", "message": "champ obligatoire"} in answer["errors"]


def test_unknown_administration_at_launch_is_refused(api: Callable[[str], Api]) -> None:
    holder, referent = api("holder@test.fr"), api("referent@test.fr")
    dossier = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    holder.post(f"/api/v1/dossiers/{dossier['id']}/file")
    referent.post(f"/api/v1/dossiers/{dossier['id']}/take-charge")
    path = f"/api/v1/dossiers/{dossier['id']}/consultations"
    assert (
        "inconnue : NOPE" in referent.post(path, 422, json={"administrations": ["NOPE"]})["detail"]
    )
    assert "au moins une" in referent.post(path, 422, json={"administrations": []})["detail"]
    # Nothing was launched: the dossier is still taken in charge, no launch queued.
    assert referent.get(f"/api/v1/dossiers/{dossier['id']}")["status"] == "taken_in_charge"


def test_invalid_transition_is_a_conflict(api: Callable[[str], Api]) -> None:
    holder = api("holder@test.fr")
    dossier = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    holder.post(f"/api/v1/dossiers/{dossier['id']}/file")
    again = holder.post(f"/api/v1/dossiers/{dossier['id']}/file", 409)
    assert again["detail"] == "Le dossier est « déposé » : il ne peut pas passer à « déposé »."


@pytest.mark.usefixtures("prefect_engine")
def test_opinion_nature_must_be_known_and_unfavourable_motivated(api: Callable[[str], Api]) -> None:
    file_and_launch(api, ["SDIS-65"])
    agent = api("agent.sdis-65@test.fr")
    [mine] = agent.get("/api/v1/consultations")
    path = f"/api/v1/consultations/{mine['id']}/opinion"
    assert agent.post(path, 422, json={"nature": "maybe"})["errors"][0]["field"] == "nature"
    assert (
        "Motivez" in agent.post(path, 422, json={"nature": "unfavourable", "text": "  "})["detail"]
    )
    assert agent.get(f"/api/v1/consultations/{mine['id']}")["status"] == "sent"
