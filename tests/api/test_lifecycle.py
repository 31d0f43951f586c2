"""Withdrawal, hand-over, review cycles and the 24 h re-offer, through HTTP (issue 11)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from accelerator.identity.models import User
from accelerator.outbox.models import OutboxMessage
from accelerator.shared.db import Database
from accelerator.sla.models import Clock
from accelerator.sweep.actions import sweep_batch
from tests.api.conftest import HOTEL, Api, file_and_launch
from workflows.relay import drain

DOSSIERS = "/api/v1/dossiers"


def _notifications(db: Database, dossier_id: str, template: str) -> list[dict[str, Any]]:
    with db.transaction() as session:
        payloads = [
            m.payload
            for m in session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "notify"))
        ]
    return [p for p in payloads if p["dossier_id"] == dossier_id and p["template"] == template]


def _answer_all(api: Callable[[str], Api], dossier: dict[str, Any], nature: str) -> None:
    for consultation in dossier["consultations"]:
        if consultation["cycle"] != dossier["cycle"] or consultation["status"] != "sent":
            continue
        agent = api(f"agent.{consultation['administration'].lower()}@test.fr")
        agent.post(
            f"/api/v1/consultations/{consultation['id']}/opinion",
            json={"nature": nature, "text": "Avis motivé."},
        )
    drain()


# --- withdrawal -------------------------------------------------------------------------------


def test_a_holder_withdraws_during_consultation(api: Callable[[str], Api], db: Database) -> None:
    dossier = file_and_launch(api, ["UDAP-65", "SDIS-65"])
    holder, referent = api("holder@test.fr"), api("referent@test.fr")
    url = f"{DOSSIERS}/{dossier['id']}/withdraw"

    assert holder.post(url, 422, json={"reason": ""})["detail"]
    referent.post(url, 403, json={"reason": "Le porteur renonce."})
    api("holder2@test.fr").post(url, 404, json={"reason": "Pas le mien."})

    withdrawn = holder.post(url, json={"reason": "Le projet est abandonné faute de financement."})
    assert withdrawn["status"] == "withdrawn"
    shown = referent.get(f"{DOSSIERS}/{dossier['id']}")
    assert {c["status"] for c in shown["consultations"]} == {"cancelled"}
    assert all(c["state"] == "stopped" for c in shown["clocks"])
    with db.transaction() as session:
        running = session.scalars(
            select(Clock).where(
                Clock.dossier_id == uuid.UUID(dossier["id"]), Clock.state != "stopped"
            )
        ).all()
    assert running == []
    told = _notifications(db, dossier["id"], "consultation_cancelled")
    assert sorted(n["administration"] for n in told) == ["SDIS-65", "UDAP-65"]
    assert _notifications(db, dossier["id"], "dossier_withdrawn")[0]["user_ids"]
    assert any("abandonné" in h["message"] for h in shown["history"])

    # Nothing more happens on a withdrawn dossier.
    consultation = shown["consultations"][0]
    agent = api(f"agent.{consultation['administration'].lower()}@test.fr")
    agent.post(
        f"/api/v1/consultations/{consultation['id']}/opinion",
        409,
        json={"nature": "favourable", "text": "Trop tard."},
    )
    holder.post(url, 409, json={"reason": "Une seconde fois."})
    referent.post(
        f"{DOSSIERS}/{dossier['id']}/information-requests", 409, json={"message": "Une pièce ?"}
    )


def test_a_dossier_withdrawn_before_its_consultations_are_sent_sends_none(
    api: Callable[[str], Api], db: Database
) -> None:
    holder, referent = api("holder@test.fr"), api("referent@test.fr")
    dossier = holder.post(DOSSIERS, 201, json=HOTEL)
    holder.post(f"{DOSSIERS}/{dossier['id']}/file")
    drain()
    referent.post(f"{DOSSIERS}/{dossier['id']}/take-charge")
    referent.post(
        f"{DOSSIERS}/{dossier['id']}/consultations", 202, json={"administrations": ["DDT-65"]}
    )
    holder.post(f"{DOSSIERS}/{dossier['id']}/withdraw", json={"reason": "Projet retiré."})
    drain()  # the launch flow runs now: it must send nothing

    shown = referent.get(f"{DOSSIERS}/{dossier['id']}")
    assert shown["status"] == "withdrawn"
    assert shown["consultations"] == []
    assert _notifications(db, dossier["id"], "consultation_sent") == []


def test_a_consolidated_dossier_is_not_withdrawn(api: Callable[[str], Api]) -> None:
    dossier = file_and_launch(api, ["SDIS-65"])
    _answer_all(api, dossier, "favourable")
    api("holder@test.fr").post(
        f"{DOSSIERS}/{dossier['id']}/withdraw", 409, json={"reason": "Trop tard ?"}
    )


# --- hand-over --------------------------------------------------------------------------------


def test_a_referent_hands_a_dossier_over(api: Callable[[str], Api], db: Database) -> None:
    dossier = file_and_launch(api, ["SDIS-65"])
    referent, other = api("referent@test.fr"), api("referent2@test.fr")
    url = f"{DOSSIERS}/{dossier['id']}/referent"
    body = {"email": "referent2@test.fr", "reason": "Congés à partir de demain."}

    other.post(url, 403, json=body)  # not his dossier
    api("agent.sdis-65@test.fr").post(url, 403, json=body)
    api("holder@test.fr").post(url, 403, json=body)
    referent.post(url, 422, json={**body, "email": "personne@test.fr"})
    referent.post(url, 422, json={**body, "email": "agent.sdis-65@test.fr"})
    referent.post(url, 422, json={**body, "email": "referent@test.fr"})
    referent.post(url, 422, json={**body, "reason": ""})

    handed = referent.post(url, json=body)
    assert handed["referent"]["email"] == "referent2@test.fr"
    entry = next(h for h in handed["history"] if h["event"] == "referent_handed_over")
    assert "referent@test.fr" in entry["message"] and "Congés" in entry["message"]
    told = _notifications(db, dossier["id"], "referent_handed_over")
    assert len(told) == 1 and len(told[0]["user_ids"]) == 2
    assert _notifications(db, dossier["id"], "referent_assigned")  # the holder's new contact

    # The dossier is now the other référent's: he acts, the first one no longer does.
    referent.post(url, 403, json={**body, "email": "referent@test.fr"})
    other.post(
        f"{DOSSIERS}/{dossier['id']}/information-requests", 201, json={"message": "Un plan ?"}
    )
    holder_view = api("holder@test.fr").get(f"{DOSSIERS}/{dossier['id']}")
    assert holder_view["referent"]["email"] == "referent2@test.fr"
    assert "referent@test.fr" not in str(holder_view["history"])


def test_a_manager_hands_a_dossier_over(api: Callable[[str], Api]) -> None:
    dossier = file_and_launch(api, ["SDIS-65"])
    handed = api("manager@test.fr").post(
        f"{DOSSIERS}/{dossier['id']}/referent",
        json={"email": "REFERENT2@test.fr", "reason": "Rééquilibrage des charges."},
    )
    assert handed["referent"]["email"] == "referent2@test.fr"


# --- review cycles ----------------------------------------------------------------------------


def test_a_second_cycle_is_consolidated_on_its_own_opinions(
    api: Callable[[str], Api], db: Database
) -> None:
    dossier = file_and_launch(api, ["SDIS-65", "UDAP-65"])
    referent = api("referent@test.fr")
    url = f"{DOSSIERS}/{dossier['id']}/cycles"
    body = {"administrations": ["SDIS-65"], "message": "Le porteur a revu les issues de secours."}

    referent.post(url, 409, json=body)  # not consolidated yet
    _answer_all(api, dossier, "unfavourable")
    first = referent.get(f"{DOSSIERS}/{dossier['id']}")
    assert first["status"] == "consolidated" and first["outcome"]["nature"] == "unfavourable"

    referent.post(  # consulting again goes through a cycle, which says why
        f"{DOSSIERS}/{dossier['id']}/consultations", 409, json={"administrations": ["SDIS-65"]}
    )
    api("referent2@test.fr").post(url, 403, json=body)
    referent.post(url, 422, json={**body, "administrations": []})
    referent.post(url, 422, json={**body, "message": ""})

    reopened = referent.post(url, 202, json=body)
    assert reopened["status"] == "consulting" and reopened["cycle"] == 2
    assert reopened["outcome"] is None
    drain()
    second = referent.get(f"{DOSSIERS}/{dossier['id']}")
    by_cycle = {(c["administration"], c["cycle"]): c for c in second["consultations"]}
    assert set(by_cycle) == {("SDIS-65", 1), ("UDAP-65", 1), ("SDIS-65", 2)}
    assert by_cycle[("UDAP-65", 1)]["opinion"]["nature"] == "unfavourable"  # cycle 1 stays
    assert by_cycle[("SDIS-65", 2)]["status"] == "sent"
    assert by_cycle[("SDIS-65", 2)]["due_at"]
    assert any(h["event"] == "cycle_opened" for h in second["history"])

    _answer_all(api, second, "favourable")
    final = referent.get(f"{DOSSIERS}/{dossier['id']}")
    assert final["status"] == "consolidated"
    assert final["outcome"]["nature"] == "favourable"  # cycle 2's opinion alone


# --- the 24 h take-in-charge clock ------------------------------------------------------------


def test_a_dossier_not_taken_in_charge_within_24_hours_is_offered_to_another_referent(
    api: Callable[[str], Api], db: Database
) -> None:
    holder = api("holder@test.fr")
    dossier = holder.post(DOSSIERS, 201, json=HOTEL)
    holder.post(f"{DOSSIERS}/{dossier['id']}/file")
    drain()
    proposed = api("manager@test.fr").get(f"{DOSSIERS}/{dossier['id']}")["referent"]["email"]
    with db.transaction() as session:
        clock = session.scalars(
            select(Clock).where(
                Clock.dossier_id == uuid.UUID(dossier["id"]), Clock.kind == "take_charge"
            )
        ).one()
        breach = clock.due_at + dt.timedelta(minutes=1)
    with db.transaction() as session:
        sweep_batch(session, now=breach)
    with db.transaction() as session:  # the rung fires once: a second sweep changes nothing
        sweep_batch(session, now=breach + dt.timedelta(hours=1))

    shown = api("manager@test.fr").get(f"{DOSSIERS}/{dossier['id']}")
    assert shown["referent"]["email"] not in (None, proposed)
    offers = [h for h in shown["history"] if h["event"] == "referent_reoffered"]
    assert len(offers) == 1 and shown["referent"]["email"] in offers[0]["message"]
    alerts = _notifications(db, dossier["id"], "take_charge_reoffered")
    assert len(alerts) == 1
    with db.transaction() as session:
        managers = {str(u.id) for u in session.scalars(select(User).where(User.role == "manager"))}
    assert managers <= set(alerts[0]["user_ids"])
    # The new référent takes it in charge as usual.
    api(shown["referent"]["email"]).post(f"{DOSSIERS}/{dossier['id']}/take-charge")


def test_the_re_offer_is_a_setting_of_the_take_charge_definition(db: Database) -> None:
    from accelerator.catalogue.actions import load_catalogue
    from accelerator.shared.config import Settings
    from accelerator.sla.actions import latest_definition
    from accelerator.sla.definitions import TAKE_CHARGE_DEFINITION

    assert Settings(take_charge_reoffer="0").take_charge_reoffer is False
    session = db.sessions()
    try:
        assert latest_definition(session, TAKE_CHARGE_DEFINITION).on_breach == "reoffer"
        load_catalogue(session, take_charge_reoffer=False)
        turned_off = latest_definition(session, TAKE_CHARGE_DEFINITION)
        assert turned_off.on_breach is None and turned_off.version > 1  # a new version
    finally:
        session.rollback()
        session.close()


def test_a_draft_is_saved_step_by_step_and_no_longer_once_filed(
    api: Callable[[str], Api], db: Database
) -> None:
    holder = api("holder@test.fr")
    draft = holder.post(DOSSIERS, 201, json={**HOTEL, "procedures": [], "attributes": {}})
    path = f"{DOSSIERS}/{draft['id']}"
    changed = holder.patch(
        path,
        json={"procedures": ["PC"], "attributes": {"near_monument": True}, "jobs_created": 3},
    )
    assert changed["procedures"] == ["PC"] and changed["jobs_created"] == 3
    assert changed["attributes"]["near_monument"] is True
    assert changed["title"] == HOTEL["title"]  # what was not given stays
    assert changed["version"] == draft["version"] + 1
    assert changed["history"][-1]["message"] == (
        "Brouillon enregistré : procédures, caractéristiques du projet, emplois."
    )
    same = holder.patch(path, json={"jobs_created": 3})
    assert same["version"] == changed["version"]  # nothing changed, nothing written
    moved = holder.patch(path, json={"commune_insee": "65440"})
    assert moved["commune_insee"] == "65440" and moved["commune_name"] == "Tarbes"
    for bad in (
        {"commune_insee": "00000"},
        {"procedures": ["XX"]},
        {"procedures": ["PC", "PC"]},
        {"title": "a"},
        {"jobs_created": "3"},
        {"unknown": 1},
    ):
        refused = holder.patch(path, 422, json=bad)
        assert refused["detail"], bad
    stale = holder.client.patch(
        path, json={"jobs_created": 4}, headers={**holder.headers, "If-Match": "1"}
    )
    assert stale.status_code in (409, 412), stale.text
    assert holder.get(path)["jobs_created"] == 3
    api("holder2@test.fr").patch(path, 404, json={"jobs_created": 9})
    api("referent@test.fr").patch(path, 403, json={"jobs_created": 9})
    holder.post(f"{path}/file")
    filed = holder.patch(path, 409, json={"jobs_created": 5})
    assert "seul un brouillon se modifie" in filed["detail"]
