"""Regenerate docs/screenshots/: the home page, the sign-in form, each role's landing page and
the dossier page of a holder and a référent, as Debian's Chromium renders them on the demo
world.

    .venv/bin/python -m tests.pages.screenshots      (or: make screenshots)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.pages.browser import LANDINGS, chromium, seeded_database, serve, sign_in

OUTPUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
NAMES = {
    "holder@demo.test": "porteur-mes-dossiers",
    "referent@demo.test": "referent-file-de-travail",
    "agent.ddt-65@demo.test": "agent-consultations",
    "manager@demo.test": "pilotage",
    "admin@demo.test": "administration",
}
#: Whose first dossier of their list is captured too, and under which name.
DOSSIER_PAGES = {
    "holder@demo.test": "porteur-dossier",
    "referent@demo.test": "referent-dossier",
}


def main() -> None:
    """Write one PNG per page into docs/screenshots/."""
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
                if email in DOSSIER_PAGES:
                    page.locator("table a").first.click()
                    page.wait_for_url("**/dossiers/*")
                    page.screenshot(
                        path=str(OUTPUT / f"{DOSSIER_PAGES[email]}.png"), full_page=True
                    )
                context.close()
    sys.stdout.write(f"Captures écrites dans {OUTPUT}\n")


if __name__ == "__main__":
    main()
