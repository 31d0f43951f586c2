"""/pilotage/revues: the recent weeks with their packs as PDF and HTML, linked from
/pilotage; the files are the same pack the API and the Monday e-mail give."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from pypdf import PdfReader

from accelerator.metrics.pack import last_complete_week, week_of
from accelerator.shared.db import utcnow
from reports.weekly import CONTENT_SECURITY_POLICY
from tests.metrics_dataset import build
from tests.pages.conftest import HTML

MANAGER, ADMIN = "manager@pages.test", "admin@pages.test"
#: A side menu's links, in order, and the one marked as the current page.
MENU_LINK = re.compile(r'class="fr-sidemenu__link" href="([^"]+)"( aria-current="page")?')


def test_the_manager_space_links_the_reviews(signed_in: Callable[[str], TestClient]) -> None:
    page = signed_in(MANAGER).get("/pilotage", headers=HTML)
    assert page.status_code == 200
    assert 'href="/pilotage/revues"' in page.text


def test_the_reviews_page_lists_the_recent_weeks(signed_in: Callable[[str], TestClient]) -> None:
    page = signed_in(MANAGER).get("/pilotage/revues", headers=HTML)
    assert page.status_code == 200
    assert page.text.count("<h1") == 1
    weeks = re.findall(r'href="/pilotage/revues/(\d{4}-W\d{2})\.pdf"', page.text)
    now = utcnow()
    # The running week, then the twelve complete ones before it, newest first.
    assert len(weeks) == 13 and weeks[0] == str(week_of(now))
    assert weeks[1] == str(last_complete_week(now))
    assert weeks == sorted(weeks, reverse=True)
    assert all(f'href="/pilotage/revues/{w}.html"' in page.text for w in weeks)
    assert "en cours" in page.text


def test_the_reviews_page_has_the_pilotage_side_menu_with_itself_marked(
    signed_in: Callable[[str], TestClient],
) -> None:
    manager = signed_in(MANAGER).get("/pilotage/revues", headers=HTML).text
    assert 'id="menu-pilotage"' in manager
    links = MENU_LINK.findall(manager)
    assert links == [
        ("/pilotage", ""),
        ("/pilotage/indicateurs", ""),
        ("/pilotage/prevision", ""),
        ("/pilotage/simulation", ""),
        ("/pilotage/revues", ' aria-current="page"'),
    ]
    # An administrator's menu leaves out the managers' watch list, as on the other pages,
    # and no link on the page leads to it (it would answer 403).
    admin = signed_in(ADMIN).get("/pilotage/revues", headers=HTML).text
    assert [url for url, _ in MENU_LINK.findall(admin)] == [
        "/pilotage/indicateurs",
        "/pilotage/prevision",
        "/pilotage/simulation",
        "/pilotage/revues",
    ]
    assert 'href="/pilotage"' not in admin
    assert admin.count('aria-current="page"') == 1


def test_the_files_are_the_week_pack(
    db: Any, signed_in: Callable[[str], TestClient], accounts: dict[str, str]
) -> None:
    build(db)
    client = signed_in(MANAGER)
    pdf = client.get("/pilotage/revues/2026-W24.pdf", headers=HTML)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).split()
    )
    assert "La moitié en moins de 7,0 j, 90 % en moins de 7,0 j." in text
    html = client.get("/pilotage/revues/2026-W29.html", headers=HTML)
    assert html.status_code == 200
    assert html.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "Consultations en retard (1)" in html.text


def test_a_bad_week_is_a_french_error_page(signed_in: Callable[[str], TestClient]) -> None:
    client = signed_in(MANAGER)
    for path, words in (
        ("/pilotage/revues/2026-48.pdf", "AAAA-Wnn"),
        ("/pilotage/revues/2100-W01.html", "pas encore commencé"),
    ):
        answer = client.get(path, headers=HTML)
        assert answer.status_code == 422, path
        assert words in answer.text and answer.text.count("<h1") == 1
