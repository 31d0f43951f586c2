"""Issue 12's journey, end to end in Debian's Chromium against a real server and a real
Prefect engine: the holder files the hotel project with a PDF; the référent takes charge,
adjusts the routing and launches; the agents answer (the SDIS asks for a piece, the holder
sends it through the référent's request); the référent closes with a final letter; the
manager sees the late list. Between the steps, the outbox is drained as the relay would
(intake, fan-out and consolidation flows run for real)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from accelerator.shared.db import get_database, set_default_database_url
from tests import samples
from tests.pages.browser import chromium, seeded_database, serve, sign_in
from workflows.relay import drain

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_engine")]

TITLE = "Extension de l'hôtel des Thermes à Cauterets"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The demo world on its own database, served; (base URL, database URL)."""
    url = seeded_database(tmp_path)
    set_default_database_url(url)
    with serve(url) as base:
        yield base, url


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def relay(url: str) -> None:
    """What the relay does in production: deliver the outbox (flows run inline)."""
    drain(get_database(url))


def as_user(browser: Any, base: str, email: str) -> Any:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(page, base, email)
    return page


def open_consultation(page: Any, base: str) -> None:
    """The agent opens the hotel's consultation from their queue."""
    page.goto(base + "/mes-consultations")
    page.get_by_role("link", name=TITLE).first.click()
    page.wait_for_url("**/consultations/*")


def give_opinion(page: Any, nature: str, text: str) -> None:
    page.locator(f"label[for=nature-{nature}]").click()
    page.locator("#text").fill(text)
    page.get_by_role("button", name="Rendre l'avis").click()
    page.wait_for_url("**?fait=avis")


def test_a_dossier_from_filing_to_closing_in_the_browser(
    world: tuple[str, str], browser: Any, tmp_path: Path
) -> None:
    base, url = world
    plan = tmp_path / "plan-situation.pdf"
    plan.write_bytes(samples.PDF)
    notice = tmp_path / "notice-securite.pdf"
    notice.write_bytes(samples.PDF)

    # 1. The holder files the hotel step by step, with its site plan.
    holder = as_user(browser, base, "holder@demo.test")
    holder.get_by_role("link", name="Déposer un nouveau dossier").click()
    holder.get_by_label("Intitulé du projet").fill(TITLE)
    holder.get_by_label("Description du projet").fill("24 chambres et un espace bien-être.")
    holder.get_by_label("Commune du projet").fill("Cauterets (65138)")
    holder.get_by_role("button", name="Enregistrer et continuer").click()
    holder.locator("label[for=procedure-PC]").click()
    holder.get_by_role("button", name="Enregistrer et continuer").click()
    holder.locator("label[for=question-near_monument]").click()
    holder.locator("label[for=question-public_access_building]").click()
    holder.get_by_label("Montant de l'investissement, en euros (facultatif)").fill("3 200 000")
    holder.get_by_role("button", name="Enregistrer et continuer").click()
    holder.get_by_label("Pièce fournie").select_option("PC1")
    holder.locator("#piece-fichier").set_input_files(str(plan))
    holder.get_by_role("button", name="Joindre").click()
    holder.wait_for_url("**/brouillon?etape=pieces")
    holder.get_by_role("button", name="Déposer le dossier").click()
    holder.wait_for_url("**/dossiers/*?fait=depose")
    dossier_url = holder.url.split("?")[0]
    assert "Votre dossier est déposé" in holder.content()
    relay(url)  # intake: routed, a référent proposed, the 24 h clock started

    # 2. The référent takes charge, leaves out the prefecture's ERP decision, launches.
    referent = as_user(browser, base, "referent@demo.test")
    referent.goto(dossier_url)
    referent.get_by_role("button", name="Prendre en charge").click()
    referent.wait_for_url("**?fait=pris-en-charge")
    for code in ("UDAP-65", "SDIS-65", "DDT-65"):
        assert referent.locator(f"#administration-{code}").is_checked(), code
    assert referent.locator("#administration-PREF-65").is_checked()
    referent.locator("label[for=administration-PREF-65]").click()  # adjusted
    referent.get_by_role("button", name="Lancer les consultations").click()
    referent.wait_for_url("**?fait=consultations-lancees")
    relay(url)  # fan-out: one consultation per administration, in parallel
    referent.goto(dossier_url + "?onglet=consultations")
    table = referent.locator("#onglet-consultations-panneau table").inner_text()
    assert "Service départemental d'incendie" in table and "Préfecture" not in table

    # 3. The SDIS asks for its safety notice; the référent relays it to the holder.
    sdis = as_user(browser, base, "agent.sdis-65@demo.test")
    open_consultation(sdis, base)
    sdis_url = sdis.url.split("?")[0]
    sdis.locator("label[for=kind-pieces]").click()
    sdis.locator("#body").fill("Il nous faut la notice de sécurité incendie (PC40).")
    sdis.get_by_role("button", name="Envoyer au référent").click()
    sdis.wait_for_load_state()
    referent.goto(dossier_url + "?onglet=demande")
    referent.get_by_label("Demande pour").select_option(
        label="Service départemental d'incendie et de secours des Hautes-Pyrénées"
    )
    referent.get_by_label("Message au porteur").fill("Le SDIS demande la notice de sécurité.")
    referent.get_by_label("Pièces demandées").fill("PC40")
    referent.get_by_role("button", name="Envoyer la demande").click()
    referent.wait_for_url("**?fait=demande-envoyee")
    # The SDIS reads the relayed request on its thread; its deadline waits for the holder.
    sdis.goto(sdis_url)
    thread = sdis.locator("#echanges").locator("xpath=..").text_content() or ""
    assert "Demande transmise au porteur" in thread and "PC40" in thread
    sdis.goto(base + "/mes-consultations")
    assert re.search(r"\d+ j\. après complément", sdis.content())

    # 4. The holder sends the piece through the request and answers it.
    holder.goto(dossier_url)
    assert "Une réponse est attendue du porteur de projet" in holder.content()
    holder.click("#onglet-pieces")
    holder.get_by_label("Pièce fournie").select_option("PC40")
    holder.locator("#piece-fichier").set_input_files(str(notice))
    holder.get_by_role("button", name="Joindre").click()
    holder.wait_for_url("**?fait=piece-ajoutee")
    holder.click("#onglet-demande")
    holder.get_by_label("Votre réponse").fill("La notice de sécurité est jointe.")
    holder.get_by_role("button", name="Envoyer ma réponse").click()
    holder.wait_for_url("**?fait=reponse-envoyee")

    # 5. The three administrations answer; the SDIS sees the notice first.
    sdis.goto(sdis_url)
    assert "notice-securite.pdf" in sdis.content()
    thread = sdis.locator("#echanges").locator("xpath=..").text_content() or ""
    assert "Réponse du porteur de projet" in thread
    assert "La notice de sécurité est jointe." in thread and "notice-securite.pdf" in thread
    give_opinion(sdis, "favourable_with_prescriptions", "Désenfumage du spa à prévoir.")
    for email in ("agent.udap-65@demo.test", "agent.ddt-65@demo.test"):
        agent = as_user(browser, base, email)
        open_consultation(agent, base)
        give_opinion(agent, "favourable", "Rien à signaler.")
    relay(url)  # consolidation

    # 6. The référent reads the consolidated answer and closes with the final letter.
    referent.goto(dossier_url)
    assert "Avis consolidé" in referent.content()
    referent.get_by_label("Lettre de réponse au porteur").fill(
        "Avis favorable, sous réserve du désenfumage du spa."
    )
    referent.get_by_role("button", name="Envoyer la réponse et clore le dossier").click()
    referent.wait_for_url("**?fait=dossier-clos")
    holder.goto(dossier_url)
    assert "Avis favorable, sous réserve du désenfumage du spa." in holder.content()
    assert "Désenfumage du spa à prévoir." not in holder.content()  # raw opinion: référent's

    # 7. The manager sees the late consultations of the demo world.
    manager = as_user(browser, base, "manager@demo.test")
    assert manager.url.endswith("/pilotage")
    assert manager.locator("table").count() >= 1
    assert "en retard" in manager.content().lower()
