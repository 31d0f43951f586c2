"""Idempotency-Key on POSTs and optimistic locking with If-Match."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.api.conftest import HOTEL, Api, file_and_launch


def test_same_key_same_body_gives_the_same_answer_once(api: Callable[[str], Api]) -> None:
    holder = api("holder@test.fr")
    headers = {"Idempotency-Key": "creation-hotel-1"}
    first = holder.client.post(
        "/api/v1/dossiers", json=HOTEL, headers={**holder.headers, **headers}
    )
    again = holder.client.post(
        "/api/v1/dossiers", json=HOTEL, headers={**holder.headers, **headers}
    )
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(holder.get("/api/v1/dossiers")) == 1  # created once
    other = holder.client.post(
        "/api/v1/dossiers",
        json={**HOTEL, "title": "Autre projet"},
        headers={**holder.headers, **headers},
    )
    assert other.status_code == 422
    assert "autre requête" in other.json()["detail"]
    # Keys belong to a user: another holder may use the same key for their own request.
    stranger = api("holder2@test.fr")
    mine = stranger.client.post(
        "/api/v1/dossiers", json=HOTEL, headers={**stranger.headers, **headers}
    )
    assert mine.status_code == 201 and mine.json()["id"] != first.json()["id"]


def test_a_retried_action_is_not_applied_twice(api: Callable[[str], Api]) -> None:
    holder = api("holder@test.fr")
    dossier = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    headers = {**holder.headers, "Idempotency-Key": "file-1"}
    first = holder.client.post(f"/api/v1/dossiers/{dossier['id']}/file", headers=headers)
    retry = holder.client.post(f"/api/v1/dossiers/{dossier['id']}/file", headers=headers)
    assert first.status_code == retry.status_code == 200
    assert retry.json()["reference"] == first.json()["reference"]
    # Without the key, filing twice is refused as it should be.
    holder.post(f"/api/v1/dossiers/{dossier['id']}/file", 409)


@pytest.mark.usefixtures("prefect_engine")
def test_a_stale_edit_is_refused_with_409(api: Callable[[str], Api]) -> None:
    dossier = file_and_launch(api, ["SDIS-65"])
    agent = api("agent.sdis-65@test.fr")
    [seen] = agent.get("/api/v1/consultations")
    agent.post(
        f"/api/v1/consultations/{seen['id']}/acknowledge",
        headers={"If-Match": str(seen["version"])},
    )
    stale = agent.post(
        f"/api/v1/consultations/{seen['id']}/opinion",
        409,
        json={"nature": "favourable"},
        headers={"If-Match": f'"{seen["version"]}"'},
    )
    assert "modifiée entre-temps" in stale["detail"] or "modifié entre-temps" in stale["detail"]
    fresh = agent.get(f"/api/v1/consultations/{seen['id']}")
    answered = agent.post(
        f"/api/v1/consultations/{seen['id']}/opinion",
        json={"nature": "favourable"},
        headers={"If-Match": str(fresh["version"])},
    )
    assert answered["status"] == "answered"
    referent = api("referent@test.fr")
    current = referent.get(f"/api/v1/dossiers/{dossier['id']}")
    referent.post(
        f"/api/v1/dossiers/{dossier['id']}/close",
        409,
        json={"message": "Fin"},
        headers={"If-Match": str(current["version"] - 1)},
    )
    bad = referent.post(
        f"/api/v1/dossiers/{dossier['id']}/close",
        422,
        json={"message": "Fin"},
        headers={"If-Match": "x"},
    )
    assert "If-Match" in bad["detail"]
