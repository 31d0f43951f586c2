"""What holders see (docs/domain.md): administrations, not the people who work there; the legal
deadlines, not the internal targets; the consolidated answer, not each raw opinion."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.api.conftest import HOTEL, Api
from workflows.relay import drain

pytestmark = pytest.mark.usefixtures("prefect_engine")

#: Everyone but the holder's organisation and its référent (referent2@ takes charge below).
STAFF = (
    "referent@test.fr",
    "manager@test.fr",
    "agent.udap-65@test.fr",
    "agent.sdis-65@test.fr",
    "agent.ddt-65@test.fr",
    "agent.pref-65@test.fr",
    "agent.dreal-occ@test.fr",
)
OPINIONS = {
    "UDAP-65": ("unfavourable", "SECRET-ABF : tuiles canal exigées, pente 45°."),
    "SDIS-65": ("favourable_with_prescriptions", "SECRET-SDIS : deux sorties de secours."),
}
NATURES = ("favourable", "unfavourable", "favourable_with_prescriptions", "no_opinion")


def _holder_reads(holder: Api, dossier_id: str, *, consolidated: bool) -> dict[str, Any]:
    """The holder's view, checked as a whole: no staff address, no target, no raw opinion."""
    body = holder.client.get(f"/api/v1/dossiers/{dossier_id}", headers=holder.headers)
    listed = holder.client.get("/api/v1/dossiers", headers=holder.headers)
    assert body.status_code == listed.status_code == 200
    for text in (body.text, listed.text, json.dumps(body.json(), ensure_ascii=False)):
        for email in STAFF:
            assert email not in text.lower(), email
        for _, opinion in OPINIONS.values():
            assert opinion not in text and "SECRET-" not in text
        assert "consultation_target" not in text
        assert "objectif interne" not in text
    view = body.json()
    assert all(c["opinion"] is None for c in view["consultations"])
    if not consolidated:
        assert view["outcome"] is None
        words = json.dumps([view["consultations"], view["history"]], ensure_ascii=False)
        assert not any(f'"{nature}"' in words for nature in NATURES)
        assert "défavorable" not in words and "prescriptions" not in words
    return dict(view)


def test_a_holder_never_reads_agents_targets_or_raw_opinions(
    api: Callable[[str], Api], client: Any
) -> None:
    holder, proposed, referent = (
        api("holder@test.fr"),
        api("referent@test.fr"),
        api("referent2@test.fr"),
    )
    dossier = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    dossier_id = dossier["id"]
    _holder_reads(holder, dossier_id, consolidated=False)
    holder.post(f"/api/v1/dossiers/{dossier_id}/file")
    drain()
    # Cauterets (651) is proposed to referent@; referent2@ takes it instead and becomes the
    # holder's single contact: referent@'s address must vanish from the holder's history.
    assert proposed.get(f"/api/v1/dossiers/{dossier_id}")["referent"]["email"] == (
        "referent@test.fr"
    )
    referent.post(f"/api/v1/dossiers/{dossier_id}/take-charge")
    view = _holder_reads(holder, dossier_id, consolidated=False)
    assert view["referent"]["email"] == "referent2@test.fr"
    # The référent, their single contact, is named (actor and message of the take-charge).
    taken = [h for h in view["history"] if h["to"] == "taken_in_charge"]
    assert taken and taken[0]["actor"] == "referent2@test.fr"
    assert "referent2@test.fr" in taken[0]["message"]

    referent.post(
        f"/api/v1/dossiers/{dossier_id}/consultations",
        202,
        json={"administrations": list(OPINIONS)},
    )
    drain()
    view = _holder_reads(holder, dossier_id, consolidated=False)
    # Administrations and their legal deadlines are shown; the internal targets are not.
    assert {c["administration"] for c in view["consultations"]} == set(OPINIONS)
    assert all(c["due_at"] for c in view["consultations"])
    assert {k["kind"] for k in view["clocks"]} >= {"consultation_deadline", "procedure_deadline"}

    staff_view = referent.get(f"/api/v1/dossiers/{dossier_id}")
    targets = [k for k in staff_view["clocks"] if k["kind"] == "consultation_target"]
    assert len(targets) == len(OPINIONS)
    for target in targets:
        # Not shown, and not reachable either: a 404, as for a clock that does not exist.
        holder.get(f"/api/v1/clocks/{target['id']}", 404)
        holder.get(f"/api/v1/clocks/{target['id']}/timeline", 404)
        referent.get(f"/api/v1/clocks/{target['id']}")
    legal = next(k for k in view["clocks"] if k["kind"] == "consultation_deadline")
    holder.get(f"/api/v1/clocks/{legal['id']}")
    holder.get(f"/api/v1/clocks/{legal['id']}/timeline")

    # A request relayed for UDAP-65 pauses its clocks, the internal target's too: the holder
    # reads the request and its effects on the legal deadlines only.
    udap = next(c for c in staff_view["consultations"] if c["administration"] == "UDAP-65")
    asked = referent.post(
        f"/api/v1/dossiers/{dossier_id}/information-requests",
        201,
        json={
            "message": "L'ABF demande une notice.",
            "pieces": ["PC4"],
            "consultation_id": udap["id"],
        },
    )
    [request] = asked["information_requests"]
    view = _holder_reads(holder, dossier_id, consolidated=False)
    assert view["information_requests"][0]["effects"]
    holder.post(f"/api/v1/information-requests/{request['id']}/answer", json={"message": "Jointe."})
    _holder_reads(holder, dossier_id, consolidated=False)
    assert any(
        "consultation_target" in effect
        for effect in referent.get(f"/api/v1/dossiers/{dossier_id}")["information_requests"][0][
            "effects"
        ]
    )

    # One opinion in: the holder sees that UDAP-65 answered, not what it said.
    for number, (code, (nature, text)) in enumerate(OPINIONS.items()):
        agent = api(f"agent.{code.lower()}@test.fr")
        [mine] = agent.get("/api/v1/consultations")
        agent.post(f"/api/v1/consultations/{mine['id']}/acknowledge")
        agent.post(
            f"/api/v1/consultations/{mine['id']}/opinion", json={"nature": nature, "text": text}
        )
        if number == 0:
            view = _holder_reads(holder, dossier_id, consolidated=False)
            answered = {c["administration"]: c["status"] for c in view["consultations"]}
            assert answered[code] == "answered"
            # The agent who answered is shown as their administration.
            actors = {h["actor"] for h in view["history"] if h["entity"] == "consultation"}
            assert any(a.startswith("Unité départementale de l'architecture") for a in actors)
    drain()

    # Consolidated: the holder reads the consolidated answer, still no raw opinion.
    view = _holder_reads(holder, dossier_id, consolidated=True)
    assert view["status"] == "consolidated"
    assert view["outcome"]["nature"] == "unfavourable"
    referent.post(
        f"/api/v1/dossiers/{dossier_id}/close",
        json={"message": "Avis défavorable de l'ABF : le projet doit être revu."},
    )
    view = _holder_reads(holder, dossier_id, consolidated=True)
    assert view["closing_message"].startswith("Avis défavorable")

    # The référent still sees everything: opinions, texts, targets, who did what.
    staff_view = referent.get(f"/api/v1/dossiers/{dossier_id}")
    opinions = {c["administration"]: c["opinion"] for c in staff_view["consultations"]}
    assert {code: o["text"] for code, o in opinions.items()} == {
        code: text for code, (_, text) in OPINIONS.items()
    }
    assert any(k["kind"] == "consultation_target" for k in staff_view["clocks"])
    actors = {h["actor"] for h in staff_view["history"]}
    assert {"agent.udap-65@test.fr", "referent2@test.fr"} <= actors
