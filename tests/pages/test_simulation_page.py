"""/pilotage/simulation: the what-if form, read into the simulation's own model, queues a run
(303 to its page) and nothing else; refused input comes back under its field in French (422,
nothing queued, never a 500); the CSRF token is required; holders, référents and agents are
refused; a finished run shows its answer as a table with its chart, a failed one its reason."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from accelerator.outbox.models import OutboxMessage
from accelerator.shared.db import utcnow
from accelerator.simulation.schemas import SimulationConfig
from accelerator.whatif.actions import fail_run, finish_run, start_run
from accelerator.whatif.models import SimulationRun
from tests.pages.conftest import HTML, csrf_of
from tests.pages.test_pilotage_pages import table, text

MANAGER, ADMIN = "manager@pages.test", "admin@pages.test"
PATH = "/pilotage/simulation"

#: The form as a manager fills it: DDT-65 in 10 days instead of 20.
FILLED = {
    "dossiers": "3",
    "seed": "7",
    "per_week": "",
    "information": "15",
    "change-1-administration": "DDT-65",
    "change-1-median": "10",
    "change-1-p90": "17,5",
    "change-1-unit": "days",
}

#: An answer as ``simulation.rules.as_json`` writes it.
ANSWER: dict[str, Any] = {
    "dossiers": 3,
    "seed": 7,
    "seconds": 12.3,
    "modes": {
        "parallel": {"n": 3, "p50": 21.0, "p85": 24.5, "p95": 30.25, "tacit": 1,
                     "information_requests": 2},
        "serial": {"n": 3, "p50": 41.0, "p85": 50.0, "p95": 61.0, "tacit": 0,
                   "information_requests": 2},
    },
    "ratio": {"p50": 0.512, "p85": 0.49, "p95": 0.496},
    "responses": {
        "DDT-65": {"source": "file", "observed": 0, "kind": "lognormal", "median": 10.0,
                   "p90": 17.5, "unit": "days"},
        "OFB": {"source": "legal", "observed": 3, "kind": "legal"},
    },
    "notes": ["moins de 20 avis dans l'historique, délai légal retenu pour : OFB"],
}  # fmt: skip


def runs(db: Any) -> list[SimulationRun]:
    with db.transaction() as session:
        found = list(session.scalars(select(SimulationRun)))
        for run in found:
            session.expunge(run)
        return found


def post(client: TestClient, data: dict[str, str], *, token: bool = True) -> Any:
    page = client.get(PATH, headers=HTML)
    fields = {**data, "csrf_token": csrf_of(page.text, PATH)} if token else dict(data)
    return client.post(PATH, data=fields, headers=HTML, follow_redirects=False)


def errors(html: str) -> dict[str, str]:
    """Each refused field's message, by the field's id."""
    return {
        m.group(1).removesuffix("-erreur"): text(m.group(2))
        for m in re.finditer(
            r'<div class="fr-messages-group" id="([^"]+)"[^>]*>(.*?)</div>', html, re.S
        )
    }


def test_a_manager_queues_a_what_if_and_lands_on_its_page(
    db: Any, signed_in: Callable[[str], TestClient]
) -> None:
    client = signed_in(MANAGER)
    form = client.get(PATH, headers=HTML)
    assert form.status_code == 200
    html = form.text
    assert html.count("<h1") == 1 and "Simulation « et si »" in unescape(html)
    # Every field has its label; the side menu marks the page.
    for field in ("dossiers", "seed", "per_week", "information", "change-1-administration",
                  "change-1-median", "change-1-p90", "change-1-unit", "change-3-unit"):  # fmt: skip
        assert f'for="simulation-{field}"' in html and f'id="simulation-{field}"' in html, field
    assert 'href="/pilotage/simulation" aria-current="page"' in html
    assert "Aucune simulation pour l'instant." in unescape(html)
    answer = post(client, FILLED)
    assert answer.status_code == 303, answer.text
    (run,) = runs(db)
    assert answer.headers["location"] == f"{PATH}/{run.id}"
    assert (run.status, run.dossiers, run.seed) == ("queued", 3, 7)
    # The form became the scenario a --config file would give.
    assert SimulationConfig.model_validate(run.scenario) == SimulationConfig.model_validate(
        {
            "information_probability": 0.15,
            "administrations": {
                "DDT-65": {
                    "response": {"kind": "lognormal", "median": 10, "p90": 17.5, "unit": "days"}
                }
            },
        }
    )
    with db.transaction() as session:
        (message,) = session.scalars(select(OutboxMessage)).all()
        assert message.payload == {"run_id": str(run.id)}
    shown = client.get(answer.headers["location"], headers=HTML)
    assert shown.status_code == 200
    page = text(shown.text)
    assert "En attente" in page and "3 dossiers simulés, graine 7" in page
    assert "DDT-65 : lognormale, médiane 10,0 j, p90 17,5 j" in page
    assert "15 % de demandes de précisions" in page
    assert f'href="{PATH}/{run.id}"' in shown.text  # « Actualiser »
    listed = client.get(PATH, headers=HTML).text
    assert table(listed, "tableau-simulations")[0][1:5] == [
        "3", "7", "DDT-65 : lognormale, médiane 10,0 j, p90 17,5 j 15 % de demandes de précisions",
        "En attente",
    ]  # fmt: skip


def test_admins_queue_too(db: Any, signed_in: Callable[[str], TestClient]) -> None:
    answer = post(signed_in(ADMIN), {**FILLED, "change-1-administration": ""} | {
        "change-1-median": "", "change-1-p90": ""})  # fmt: skip
    assert answer.status_code == 303
    (run,) = runs(db)
    assert SimulationConfig.model_validate(run.scenario).administrations == {}


@pytest.mark.parametrize("email", ["holder@pages.test", "referent@pages.test", "agent@pages.test"])
def test_other_roles_are_refused_the_page_and_the_form(
    db: Any, signed_in: Callable[[str], TestClient], email: str
) -> None:
    client = signed_in(email)
    assert client.get(PATH, headers=HTML).status_code == 403
    token = csrf_of(client.get("/", headers=HTML).text, "/logout")
    answer = client.post(
        PATH, data={**FILLED, "csrf_token": token}, headers=HTML, follow_redirects=False
    )
    assert answer.status_code == 403
    assert runs(db) == []


def test_a_post_without_its_csrf_token_queues_nothing(
    db: Any, signed_in: Callable[[str], TestClient]
) -> None:
    client = signed_in(MANAGER)
    assert post(client, FILLED, token=False).status_code == 403
    assert post(client, {**FILLED, "csrf_token": "faux"}, token=False).status_code == 403
    assert runs(db) == []


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"dossiers": "501"}, "dossiers", "valeur trop grande (au plus 500)"),
        ({"dossiers": "0"}, "dossiers", "valeur trop petite (au moins 1)"),
        ({"dossiers": "douze"}, "dossiers", "nombre entier attendu"),
        ({"dossiers": ""}, "dossiers", "champ obligatoire"),
        ({"seed": "-1"}, "seed", "valeur trop petite (au moins 0)"),
        ({"seed": "9" * 20}, "seed", "valeur trop grande"),
        ({"per_week": "0"}, "per_week", "valeur trop petite"),
        ({"information": "150"}, "information", "Indiquez un pourcentage entre 0 et 100."),
        ({"information": "beaucoup"}, "information", "Indiquez un pourcentage entre 0 et 100."),
        ({"change-1-p90": "5"}, "change-1-p90", "le p90 ne peut pas être inférieur à la médiane"),
        ({"change-1-median": "dix"}, "change-1-median", "nombre attendu"),
        ({"change-1-median": ""}, "change-1-median", "Indiquez la médiane."),
        ({"change-1-median": "4000"}, "change-1-median", "valeur trop grande (au plus 3650"),
        ({"change-1-unit": "semaines"}, "change-1-unit", "valeur non admise"),
        ({"change-1-administration": "DDT-99"}, "change-1-administration", "inconnue"),
        ({"change-2-median": "3"}, "change-2-administration", "Choisissez l'administration"),
        (
            {"change-2-administration": "DDT-65", "change-2-median": "3", "change-2-p90": "4"},
            "change-2-administration",
            "déjà modifiée (administration 1)",
        ),
        ({"dossiers": "ü" * 5000}, "dossiers", "nombre entier attendu"),
    ],
)
def test_refused_input_comes_back_under_its_field_and_queues_nothing(
    db: Any,
    signed_in: Callable[[str], TestClient],
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    client = signed_in(MANAGER)
    answer = post(client, {**FILLED, **changes})
    assert answer.status_code == 422, answer.text
    found = errors(answer.text)
    assert message in found.get(f"simulation-{field}", ""), found
    html = answer.text
    assert re.search(rf'id="simulation-{field}"[^>]*aria-invalid="true"', html), field
    # The summary links to the field; what was typed is shown again.
    assert f'href="#simulation-{field}"' in html
    assert 'value="17,5"' in html or "change-1-p90" in changes
    assert runs(db) == []


def test_a_fourth_waiting_run_is_refused_at_the_top_of_the_form(
    db: Any, signed_in: Callable[[str], TestClient]
) -> None:
    client = signed_in(MANAGER)
    for _ in range(3):
        assert post(client, FILLED).status_code == 303
    answer = post(client, FILLED)
    assert answer.status_code == 422
    assert "3 simulations sont déjà en attente ou en cours" in unescape(answer.text)
    assert len(runs(db)) == 3


def _done(db: Any, client: TestClient) -> uuid.UUID:
    assert post(client, FILLED).status_code == 303
    (run,) = runs(db)
    now = utcnow()
    with db.transaction() as session:
        start_run(session, run_id=run.id, now=now)
        finish_run(session, run_id=run.id, result=ANSWER, now=now + dt.timedelta(minutes=2))
    return run.id


def test_a_finished_run_shows_its_answer_as_a_table_with_its_chart(
    db: Any, signed_in: Callable[[str], TestClient]
) -> None:
    client = signed_in(MANAGER)
    run_id = _done(db, client)
    page = client.get(f"{PATH}/{run_id}", headers=HTML)
    assert page.status_code == 200
    html = page.text
    assert table(html, "tableau-simulation") == [
        ["En parallèle", "3", "21 j.", "24,5 j.", "30,2 j.", "1", "2"],
        ["En série", "3", "41 j.", "50 j.", "61 j.", "0", "2"],
        ["Ratio parallèle / série", "", "0,51", "0,49", "0,50", "", ""],
    ]
    assert "la moitié des dossiers sont consolidés en moins de 21 j., contre 41 j." in text(html)
    # The chart says what the table says, and names the table it draws.
    chart = re.search(r'<bar-chart x="([^"]+)" y="([^"]+)" name="([^"]+)"', html)
    assert chart is not None
    assert json.loads(unescape(chart.group(1))) == [["Médiane", "85e centile", "95e centile"]]
    assert json.loads(unescape(chart.group(2))) == [[21.0, 24.5, 30.2], [41.0, 50.0, 61.0]]
    assert json.loads(unescape(chart.group(3))) == ["En parallèle", "En série"]
    assert 'data-chart-for="tableau-simulation"' in html
    assert table(html, "tableau-distributions") == [
        ["DDT-65", "lognormale, médiane 10,0 j, p90 17,5 j", "donnée par le scénario"],
        ["OFB", "répond à l'échéance légale de sa consultation",
         "3 avis dans l'historique : trop peu pour ajuster, délai légal retenu"],
    ]  # fmt: skip
    assert "délai légal retenu pour : OFB" in unescape(html)
    # The list gives the medians, and leads to the run.
    row = table(client.get(PATH, headers=HTML).text, "tableau-simulations")[0]
    assert row[4:] == ["Terminée", "21 j. en parallèle, 41 j. en série"]


def test_a_failed_run_shows_why(db: Any, signed_in: Callable[[str], TestClient]) -> None:
    client = signed_in(MANAGER)
    assert post(client, FILLED).status_code == 303
    (run,) = runs(db)
    with db.transaction() as session:
        fail_run(session, run_id=run.id, message="Le scénario ne passe plus.", now=utcnow())
    page = text(client.get(f"{PATH}/{run.id}", headers=HTML).text)
    assert "Échouée" in page and "La simulation a échoué : Le scénario ne passe plus." in page


@pytest.mark.parametrize("run_id", ["1b0f2c5e-7d4a-4c3e-9a2b-5e6f7a8b9c0d", "pas-un-identifiant"])
def test_an_unknown_run_is_not_found(signed_in: Callable[[str], TestClient], run_id: str) -> None:
    answer = signed_in(MANAGER).get(f"{PATH}/{run_id}", headers=HTML)
    assert answer.status_code == 404
    assert answer.text.count("<h1") == 1
