"""The pages in a real browser (Debian's Chromium, headless, through Playwright) against a real
server on loopback with the demo world: what a person sees, types and is refused, and axe-core's
accessibility check of each page (no serious or critical violation)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from accelerator.identity.actions import SIGN_IN_REFUSED
from tests.pages.browser import LANDINGS, chromium, seeded_database, serve, sign_in


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The product on a seeded SQLite database, on a free loopback port."""
    url = seeded_database(Path(tmp_path_factory.mktemp("pages")))
    with serve(url) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, once for the module."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (its own cookies). A script error, a CSP violation or an asset
    that fails to load fails the test (pages answered 4xx on purpose are the tests' own)."""
    context = browser.new_context()
    opened = context.new_page()
    errors: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def on_response(response: Any) -> None:
        if response.request.resource_type != "document" and response.status >= 400:
            errors.append(f"{response.status} {response.url}")

    opened.on("console", on_console)
    opened.on("pageerror", lambda e: errors.append(str(e)))
    opened.on("response", on_response)
    opened.on("requestfailed", lambda r: errors.append(f"failed {r.url}"))
    yield opened
    context.close()
    assert errors == []


def _serious(page: Any) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_the_home_page_is_public_french_and_styled_by_the_products_own_dsfr(
    page: Any, base_url: str
) -> None:
    answer = page.goto(base_url + "/")
    assert answer.status == 200
    assert page.get_attribute("html", "lang") == "fr"
    sheets = page.eval_on_selector_all("link[rel=stylesheet]", "ls => ls.map(l => l.href)")
    assert any(s.startswith(f"{base_url}/static/dsfr/1.15.3/dsfr.min.css") for s in sheets)
    assert all(s.startswith(base_url) for s in sheets)
    # The DSFR's own font and script are served and running (no CDN, nothing blocked by CSP).
    assert "Marianne" in page.evaluate("getComputedStyle(document.body).fontFamily")
    page.wait_for_function("() => window.dsfr !== undefined")
    assert page.locator("h1").count() == 1
    assert _serious(page) == []


def test_each_demo_account_lands_on_its_own_page(browser: Any, base_url: str) -> None:
    landed = set()
    for email, (path, heading) in LANDINGS.items():
        context = browser.new_context()
        page = context.new_page()
        sign_in(page, base_url, email)
        assert page.url == base_url + path, email
        assert page.locator("h1").inner_text() == heading
        assert page.locator("h1").count() == 1
        assert _serious(page) == [], email
        landed.add(page.url)
        context.close()
    assert len(landed) == 5


def test_a_wrong_password_shows_the_french_message(page: Any, base_url: str) -> None:
    sign_in(page, base_url, "holder@demo.test", "pas-le-bon")
    assert page.url == base_url + "/login"
    assert SIGN_IN_REFUSED in page.locator("#login-alert").inner_text()
    assert _serious(page) == []


def test_a_form_without_its_csrf_token_is_refused(page: Any, base_url: str) -> None:
    page.goto(base_url + "/login")
    page.evaluate("document.querySelector('input[name=csrf_token]').remove()")
    page.locator("#email").fill("holder@demo.test")
    page.locator("#password").fill("demo")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Accès refusé"
    assert _serious(page) == []
    page.goto(base_url + "/mes-dossiers")
    assert page.url == base_url + "/login"


def test_logout_ends_the_session_and_its_cookie_opens_nothing(
    browser: Any, page: Any, base_url: str
) -> None:
    sign_in(page, base_url, "holder@demo.test")
    assert page.url == base_url + "/mes-dossiers"
    cookies = page.context.cookies()
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_load_state()
    assert page.url == base_url + "/"
    replay = browser.new_context()
    replay.add_cookies(cookies)
    again = replay.new_page()
    again.goto(base_url + "/mes-dossiers")
    assert again.url == base_url + "/login"
    replay.close()


def test_the_sign_in_form_works_with_the_keyboard_alone(page: Any, base_url: str) -> None:
    page.goto(base_url + "/login")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Contenu"
    page.keyboard.press("Enter")
    for _ in range(10):
        if page.evaluate("document.activeElement.id") == "email":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.type("referent@demo.test")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type("demo")
    page.keyboard.press("Enter")
    page.wait_for_url(base_url + "/file-de-travail")
    # The work queue's tabs move with the arrow keys (the DSFR's script).
    page.locator("[role=tab][aria-selected=true]").focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.getAttribute('role')") == "tab"


def test_error_pages_are_french_and_accessible(page: Any, base_url: str) -> None:
    answer = page.goto(base_url + "/nulle-part")
    assert answer.status == 404
    assert page.locator("h1").inner_text() == "Page non trouvée"
    assert _serious(page) == []


def test_the_holder_files_step_by_step_with_a_pdf_and_every_step_is_accessible(
    page: Any, base_url: str, tmp_path: Path
) -> None:
    from tests import samples

    sign_in(page, base_url, "holder@demo.test")
    page.get_by_role("link", name="Déposer un nouveau dossier").click()
    assert _serious(page) == []
    page.get_by_label("Intitulé du projet").fill("Gîte de groupe à Luz-Saint-Sauveur")
    page.get_by_label("Description du projet").fill("Vingt lits, ouverts toute l'année.")
    page.get_by_label("Commune du projet").fill("Luz-Saint-Sauveur")
    page.keyboard.press("Enter")  # Enter saves and goes on
    page.wait_for_url("**/brouillon?etape=procedures")
    assert _serious(page) == []
    page.locator("label[for=procedure-PC]").click()
    page.get_by_role("button", name="Enregistrer et continuer").click()
    page.wait_for_url("**/brouillon?etape=questions")
    assert _serious(page) == []
    page.locator("label[for=question-public_access_building]").click()
    page.get_by_label("Emplois créés (facultatif)").fill("3")
    page.get_by_role("button", name="Enregistrer et continuer").click()
    page.wait_for_url("**/brouillon?etape=pieces")
    assert _serious(page) == []
    plan = tmp_path / "plan de situation.pdf"
    plan.write_bytes(samples.PDF)
    page.get_by_label("Pièce fournie").select_option("PC1")
    page.locator("#piece-fichier").set_input_files(str(plan))
    page.get_by_role("button", name="Joindre").click()
    page.wait_for_url("**/brouillon?etape=pieces")
    assert "plan de situation.pdf (PC1)" in page.content()
    page.get_by_role("button", name="Déposer le dossier").click()
    page.wait_for_url("**/dossiers/*?fait=depose")
    assert "Votre dossier est déposé" in page.content()
    assert page.locator("h1").inner_text() == "Gîte de groupe à Luz-Saint-Sauveur"
    assert _serious(page) == []
    # Every tab of the dossier page, by keyboard-reachable buttons, stays accessible.
    for tab in ("pieces", "consultations", "echanges", "historique", "delais"):
        page.click(f"#onglet-{tab}")
        assert _serious(page) == []
    assert "plan de situation.pdf" in page.content()


def test_the_referent_reads_a_dossier_and_its_queue_sorted(page: Any, base_url: str) -> None:
    sign_in(page, base_url, "referent@demo.test")
    page.goto(base_url + "/file-de-travail?onglet=consulting&tri=reference&ordre=desc")
    assert _serious(page) == []
    page.locator("#onglet-consulting-panneau tbody a").first.click()
    page.wait_for_url("**/dossiers/*")
    assert _serious(page) == []
    page.click("#onglet-consultations")
    assert "Administrations consultées" in page.content()
    assert _serious(page) == []


def test_an_agent_acknowledges_and_gives_an_opinion_with_a_pdf(
    page: Any, base_url: str, tmp_path: Path
) -> None:
    sign_in(page, base_url, "agent.ddt-65@demo.test")
    page.goto(base_url + "/mes-consultations?statut=sent")
    page.locator("#mes-consultations tbody a").first.click()
    page.wait_for_load_state()
    assert "/consultations/" in page.url
    assert page.locator("h1").count() == 1
    assert page.get_by_role("heading", name="Comment ce délai a été calculé").is_visible()
    assert _serious(page) == []
    page.get_by_role("button", name="Accuser réception").click()
    page.wait_for_load_state()
    assert "?fait=accuse-reception" in page.url
    assert "Accusé de réception enregistré" in page.locator("#alerte-succes").inner_text()
    # An opinion that needs its reasons, sent without: the error sits by the text field.
    page.locator("label[for=nature-unfavourable]").click()
    page.get_by_role("button", name="Rendre l'avis").click()
    page.wait_for_load_state()
    assert page.locator("#text-error").is_visible()
    assert page.locator("#text").get_attribute("aria-describedby") == "text-error"
    assert _serious(page) == []
    pdf = tmp_path / "prescriptions.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< >>\n%%EOF\n")
    page.locator("label[for=nature-favourable_with_prescriptions]").click()
    page.get_by_label("Motivation et prescriptions").fill("Rampe d'accès à prévoir.")
    page.locator("#file").set_input_files(str(pdf))
    page.get_by_role("button", name="Rendre l'avis").click()
    page.wait_for_load_state()
    assert "?fait=avis" in page.url
    assert "Avis enregistré" in page.locator("#alerte-succes").inner_text()
    assert page.get_by_role("link", name="prescriptions.pdf").is_visible()
    assert page.locator("h1").count() == 1
    assert _serious(page) == []


def test_an_admin_edits_an_administration_and_reads_it_in_the_journal(
    page: Any, base_url: str
) -> None:
    sign_in(page, base_url, "admin@demo.test")
    assert _serious(page) == []
    page.get_by_role("link", name="Administrations", exact=True).click()
    page.wait_for_url("**/gestion/administrations")
    assert _serious(page) == []
    page.locator("#administrations tbody a", has_text="OFB").click()
    page.wait_for_url("**/gestion/administrations/OFB")
    page.get_by_label("Adresse de contact").fill("pas une adresse")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_load_state()
    # Refused: the form again, the message under its field, linked to it.
    field = page.locator("#administration-contact")
    assert field.get_attribute("aria-describedby") == "administration-contact-erreur"
    assert "adresse" in page.locator("#administration-contact-erreur").inner_text().lower()
    assert _serious(page) == []
    field.fill("sd65@ofb.gouv.fr")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url("**/gestion/administrations/OFB?fait=administration-modifiee")
    assert "L’administration est modifiée." in page.content()
    assert _serious(page) == []
    page.get_by_role("link", name="Journal des modifications").click()
    page.wait_for_url("**/gestion/journal")
    row = page.locator("#journal tbody tr").first
    assert "OFB" in row.inner_text() and "sd65@ofb.gouv.fr" in row.inner_text()
    assert "admin@demo.test" in row.inner_text()
    page.select_option("#journal-type", "closure")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url("**/gestion/journal?type=closure")
    assert "Aucune modification enregistrée." in page.content()
    assert _serious(page) == []


def test_a_manager_opens_a_weekly_pack_from_the_watch_list(page: Any, base_url: str) -> None:
    sign_in(page, base_url, "manager@demo.test")
    page.get_by_role("link", name="Revues hebdomadaires (PDF et HTML)").click()
    page.wait_for_url("**/pilotage/revues")
    assert page.locator("h1").inner_text() == "Revues hebdomadaires"
    assert _serious(page) == []
    # The last complete week's pack as HTML: its inline style is allowed by its digest (a
    # refused style would be a console error, which fails the test), its charts are images.
    page.locator("#revues tbody tr").nth(1).get_by_role("link", name=re.compile("HTML")).click()
    page.wait_for_url("**/pilotage/revues/*.html")
    assert page.locator("h1").inner_text().startswith("Revue hebdomadaire de la semaine ")
    colour = page.evaluate("getComputedStyle(document.querySelector('h2')).color")
    assert colour == "rgb(0, 0, 145)"  # #000091 from the pack's own style block
    assert _serious(page) == []
    pdf = page.request.get(page.url.removesuffix(".html") + ".pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF-")
