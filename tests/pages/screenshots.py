"""Regenerate docs/screenshots/: the home page, the sign-in form, each role's landing page and
the dossier page of a holder and a référent, the agent's consultation page and the
administrators' journal after one edit, as Debian's
Chromium renders them on the demo world; and the managers' figures (dashboard, an
administration's page, the forecast) and the what-if simulator (the form with its runs, a
finished run's answer) on the demo world with twelve weeks of past work.

    .venv/bin/python -m tests.pages.screenshots      (or: make screenshots)
    .venv/bin/python -m tests.pages.screenshots pilotage      (the managers' figures only)
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.pages.browser import (
    LANDINGS,
    chromium,
    run_what_ifs,
    seeded_database,
    serve,
    sign_in,
)

OUTPUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
NAMES = {
    "holder@demo.test": "porteur-mes-dossiers",
    "referent@demo.test": "referent-file-de-travail",
    "agent.ddt-65@demo.test": "agent-consultations",
    "manager@demo.test": "pilotage",
    "admin@demo.test": "administration",
}


def _open_first_consultation(page: Any) -> None:
    """From the agent's queue, the first consultation still waiting for its receipt."""
    page.goto(page.url.split("/mes-consultations")[0] + "/mes-consultations?statut=sent")
    page.locator("#mes-consultations tbody a").first.click()
    page.wait_for_load_state()


#: Pages reached from a landing page, by the account that lands there.
def _open_first_dossier(page: Any) -> None:
    page.locator("tbody a").first.click()
    page.wait_for_url("**/dossiers/*")


def _edit_then_journal(page: Any) -> None:
    """An administrator gives OFB its contact address, then reads the journal."""
    base = page.url.split("/gestion")[0]
    page.goto(base + "/gestion/administrations/OFB")
    page.get_by_label("Adresse de contact").fill("sd65@ofb.gouv.fr")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url("**/gestion/administrations/OFB?fait=*")
    page.goto(base + "/gestion/journal")


PAGES_AFTER: dict[str, list[tuple[str, Callable[[Any], None]]]] = {
    "admin@demo.test": [("administration-journal", _edit_then_journal)],
    "agent.ddt-65@demo.test": [("agent-consultation", _open_first_consultation)],
    "holder@demo.test": [("porteur-dossier", _open_first_dossier)],
    "referent@demo.test": [("referent-dossier", _open_first_dossier)],
}


#: The managers' figures, on a world with past work: (file name, path).
PILOTAGE_PAGES = [
    ("pilotage-indicateurs", "/pilotage/indicateurs"),
    ("pilotage-administration", "/pilotage/administrations/DDT-65"),
    ("pilotage-prevision", "/pilotage/prevision"),
]


def _full_page(page: Any, path: Path) -> None:
    """A full-page capture once the page's charts are drawn and settled."""
    if page.locator("bar-chart, line-chart").count():
        page.wait_for_function(
            "() => [...document.querySelectorAll('bar-chart, line-chart')]"
            ".every(c => c.querySelector('canvas'))"
        )
    # A full-page capture resizes the viewport, and the charts redraw while it is taken:
    # give the viewport the page's height first, let them settle.
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 1280, "height": height})
    page.wait_for_timeout(1500)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def _what_if(page: Any, base_url: str, url: str) -> None:
    """« DDT in 10 days instead of 20 » queued from the form, run as the flow would, then the
    list of runs and the run's answer."""
    page.goto(base_url + "/pilotage/simulation")
    page.get_by_label("Nombre de dossiers").fill("30")
    page.get_by_label("Administration 1").select_option("DDT-65")
    page.get_by_label("Médiane 1").fill("10")
    page.get_by_label("90e centile 1").fill("17,5")
    page.get_by_label("Unité 1").select_option("days")
    page.get_by_role("button", name="Lancer la simulation").click()
    page.wait_for_url("**/pilotage/simulation/*")
    run_url = page.url
    run_what_ifs(url)
    page.goto(base_url + "/pilotage/simulation")
    _full_page(page, OUTPUT / "pilotage-simulation.png")
    page.goto(run_url)
    _full_page(page, OUTPUT / "pilotage-simulation-resultat.png")


def pilotage() -> None:
    """The managers' figures, their charts drawn, and the what-if simulator, into
    docs/screenshots/."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        url = seeded_database(Path(directory), history=True)
        with serve(url) as base_url, chromium() as browser:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
            page = context.new_page()
            sign_in(page, base_url, "manager@demo.test")
            for name, path in PILOTAGE_PAGES:
                page.goto(base_url + path)
                _full_page(page, OUTPUT / f"{name}.png")
            _what_if(page, base_url, url)
            context.close()


def main() -> None:
    """Write one PNG per page into docs/screenshots/."""
    if sys.argv[1:] == ["pilotage"]:
        pilotage()
        sys.stdout.write(f"Captures écrites dans {OUTPUT}\n")
        return
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        url = seeded_database(Path(directory))
        with serve(url) as base_url, chromium() as browser:
            viewport = {"width": 1280, "height": 900}
            page = browser.new_page(viewport=viewport)
            for path, name in (("/", "accueil"), ("/login", "connexion")):
                page.goto(base_url + path)
                page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)
            page.close()
            for email, name in NAMES.items():
                context = browser.new_context(viewport=viewport)
                page = context.new_page()
                sign_in(page, base_url, email)
                assert page.url.endswith(LANDINGS[email][0]), page.url
                page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)
                if email in PAGES_AFTER:
                    for name_after, show in PAGES_AFTER[email]:
                        show(page)
                        page.screenshot(path=str(OUTPUT / f"{name_after}.png"), full_page=True)
                context.close()
    pilotage()
    sys.stdout.write(f"Captures écrites dans {OUTPUT}\n")


if __name__ == "__main__":
    main()
