"""The five steps of the walking skeleton, end to end through HTTP, flows in a real Prefect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.api.conftest import HOTEL, Api, file_and_launch
from workflows.relay import drain

pytestmark = pytest.mark.usefixtures("prefect_engine")


def test_a_dossier_travels_the_whole_way(api: Callable[[str], Api], db: Any) -> None:
    holder, referent = api("holder@test.fr"), api("referent@test.fr")

    # 1-2. The holder files; the intake flow routes, proposes a référent, starts the clock.
    draft = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    assert draft["status"] == "draft" and draft["reference"] is None
    filed = holder.post(f"/api/v1/dossiers/{draft['id']}/file")
    assert filed["status"] == "filed"
    assert filed["reference"].startswith("ACC-")
    assert drain() >= 1

    dossier = holder.get(f"/api/v1/dossiers/{draft['id']}")
    proposal = {p["code"]: p["rule"] for p in dossier["proposed_administrations"]}
    assert proposal == {"UDAP-65": "abf", "SDIS-65": "erp", "DDT-65": "erp", "PREF-65": "erp"}
    # Cauterets is in the Argelès-Gazost arrondissement (651): only referent@ covers it.
    assert dossier["referent"]["email"] == "referent@test.fr"
    clocks = {c["kind"]: c for c in dossier["clocks"]}
    assert set(clocks) == {"take_charge", "procedure_deadline"}
    assert clocks["take_charge"]["state"] == "running"
    assert clocks["take_charge"]["budget"] == "24 heures"
    # A building permit for an ERP: 5 months (R423-28), counted from the filing.
    assert clocks["procedure_deadline"]["budget"] == "5 mois"
    events = [h["event"] for h in dossier["history"]]
    assert {"created", "status_changed", "routed", "referent_proposed", "clock_started"} <= set(
        events
    )

    # 3. The référent takes it in charge (clock stops) and launches, dropping DDT and adding DREAL.
    taken = referent.post(f"/api/v1/dossiers/{draft['id']}/take-charge")
    assert taken["status"] == "taken_in_charge"
    assert {c["kind"]: c["state"] for c in taken["clocks"]} == {
        "take_charge": "stopped",
        "procedure_deadline": "running",
    }
    chosen = ["UDAP-65", "SDIS-65", "PREF-65", "DREAL-OCC"]
    launched = referent.post(
        f"/api/v1/dossiers/{draft['id']}/consultations", 202, json={"administrations": chosen}
    )
    assert launched["status"] == "consulting"
    drain()
    dossier = referent.get(f"/api/v1/dossiers/{draft['id']}")
    consultations = {c["administration"]: c for c in dossier["consultations"]}
    assert set(consultations) == set(chosen)
    assert all(c["status"] == "sent" for c in consultations.values())
    # Every consultation was sent at the same instant (parallel, not one after another).
    assert len({c["sent_at"] for c in consultations.values()}) == 1
    sent_day = consultations["UDAP-65"]["sent_at"][:10]
    # ABF: 2 months, ERP decision: 4 months, generic: 1 month; ends at 00:00 local time.
    for code, months in {"UDAP-65": 2, "PREF-65": 4, "SDIS-65": 1, "DREAL-OCC": 1}.items():
        due = consultations[code]["due_at"]
        assert due.endswith(("T00:00:00+01:00", "T00:00:00+02:00")), due
        assert _months_between(sent_day, due[:10]) == months, (code, sent_day, due)

    # 4. Each agent sees only its administration's consultation, acknowledges, gives its opinion.
    natures = {
        "UDAP-65": "favourable_with_prescriptions",
        "SDIS-65": "favourable",
        "PREF-65": "favourable",
        "DREAL-OCC": "favourable",
    }
    for code, nature in natures.items():
        agent = api(f"agent.{code.lower()}@test.fr")
        [mine] = agent.get("/api/v1/consultations")
        assert mine["administration"] == code
        assert mine["dossier"]["reference"] == filed["reference"]
        agent.post(f"/api/v1/consultations/{mine['id']}/acknowledge")
        answered = agent.post(
            f"/api/v1/consultations/{mine['id']}/opinion",
            json={"nature": nature, "text": f"Avis de {code} : matériaux traditionnels exigés."},
        )
        assert answered["status"] == "answered"
        # Progress is visible to the holder as it comes.
        seen = {
            c["administration"]: c["status"]
            for c in holder.get(f"/api/v1/dossiers/{draft['id']}")["consultations"]
        }
        assert seen[code] == "answered"
    drain()

    dossier = holder.get(f"/api/v1/dossiers/{draft['id']}")
    assert dossier["status"] == "consolidated"
    assert dossier["outcome"]["nature"] == "favourable_with_prescriptions"
    assert dossier["outcome"]["binding"] is False

    # 5. The référent closes with a final message; the holder sees it all and the history.
    closed = referent.post(
        f"/api/v1/dossiers/{draft['id']}/close",
        json={
            "message": "Avis favorable de l'ensemble des services, avec les prescriptions de l'ABF."
        },
    )
    assert closed["status"] == "closed"
    dossier = holder.get(f"/api/v1/dossiers/{draft['id']}")
    assert dossier["closing_message"].startswith("Avis favorable")
    transitions = [
        (h["from"], h["to"]) for h in dossier["history"] if h["entity"] == "dossier" and h["to"]
    ]
    assert transitions == [
        (None, "draft"),
        ("draft", "filed"),
        ("filed", "taken_in_charge"),
        ("taken_in_charge", "consulting"),
        ("consulting", "consolidated"),
        ("consolidated", "closed"),
    ]
    assert all(h["actor"] and h["at"] for h in dossier["history"])
    # The holder reads administrations, not people (docs/domain.md); the référent reads who.
    opinions = [h for h in dossier["history"] if h["event"] == "opinion_given"]
    assert {h["actor"] for h in opinions} == {
        c["administration_name"] for c in dossier["consultations"]
    }
    staff_view = referent.get(f"/api/v1/dossiers/{draft['id']}")
    opinions = [h for h in staff_view["history"] if h["event"] == "opinion_given"]
    assert {h["actor"] for h in opinions} == {f"agent.{c.lower()}@test.fr" for c in natures}


def test_binding_unfavourable_opinion_decides(api: Callable[[str], Api], db: Any) -> None:
    holder = api("holder@test.fr")
    dossier = file_and_launch(api, ["UDAP-65", "SDIS-65"])
    for code, nature in (("SDIS-65", "favourable"), ("UDAP-65", "unfavourable")):
        agent = api(f"agent.{code.lower()}@test.fr")
        [mine] = agent.get("/api/v1/consultations")
        agent.post(
            f"/api/v1/consultations/{mine['id']}/opinion", json={"nature": nature, "text": "Motif."}
        )
    drain()
    outcome = holder.get(f"/api/v1/dossiers/{dossier['id']}")["outcome"]
    assert outcome == {
        "nature": "unfavourable",
        "binding": True,
        "decided_by": "UDAP-65",
        "summary": outcome["summary"],
    }
    assert "UDAP-65" in outcome["summary"]


def test_flows_rerun_change_nothing(api: Callable[[str], Api], db: Any) -> None:
    from workflows.intake import intake_flow
    from workflows.launch import launch_flow

    holder, referent = api("holder@test.fr"), api("referent@test.fr")
    dossier = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    holder.post(f"/api/v1/dossiers/{dossier['id']}/file")
    drain()
    before = holder.get(f"/api/v1/dossiers/{dossier['id']}")
    intake_flow(dossier_ids=[before["id"]])
    after = holder.get(f"/api/v1/dossiers/{dossier['id']}")
    assert after == before

    referent.post(f"/api/v1/dossiers/{dossier['id']}/take-charge")
    referent.post(f"/api/v1/dossiers/{dossier['id']}/consultations", 202)
    drain()
    first = referent.get(f"/api/v1/dossiers/{dossier['id']}")
    with db.transaction() as session:
        from sqlalchemy import select

        from accelerator.consultations.models import ConsultationLaunch

        launch_id = session.scalar(select(ConsultationLaunch.id))
    launch_flow(launch_ids=[launch_id])
    again = referent.get(f"/api/v1/dossiers/{dossier['id']}")
    assert again == first
    assert len(again["consultations"]) == 4


def _months_between(start: str, due: str) -> int:
    """Months from ``start`` to the day before ``due`` (deadline printed as next-day 00:00)."""
    import datetime as dt

    a = dt.date.fromisoformat(start)
    last = dt.date.fromisoformat(due) - dt.timedelta(days=1)
    months = (last.year - a.year) * 12 + last.month - a.month
    assert last.day == a.day or last.day < a.day, (start, due)
    return months
