"""The managers' figures in a real browser (Debian's Chromium through Playwright, axe-core):
the dashboard, an administration's page and the forecast on the demo world with twelve weeks
of past work; the charts drawn by dsfr-chart under the strict CSP, each followed by its table;
the filter form used as a person would; no serious or critical accessibility violation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.pages.browser import seeded_database, serve, sign_in
from tests.pages.test_browser import _serious, browser, page

__all__ = ["browser", "page"]  # the fixtures, shared with the other browser tests

PAGES = (
    "/pilotage/indicateurs",
    "/pilotage/administrations/DDT-65",
    "/pilotage/prevision",
    "/pilotage/revues",
)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The product on the demo world with past work, on a free loopback port."""
    url = seeded_database(Path(tmp_path_factory.mktemp("pilotage")), history=True)
    with serve(url) as base:
        yield base


@pytest.mark.parametrize("email", ["manager@demo.test", "admin@demo.test"])
def test_each_managers_page_is_accessible_with_its_charts_drawn(
    page: Any, base_url: str, email: str
) -> None:
    sign_in(page, base_url, email)
    for path in PAGES:
        answer = page.goto(base_url + path)
        assert answer.status == 200, path
        assert page.locator("h1").count() == 1, path
        if path == "/pilotage/indicateurs":
            # Three charts, each drawn on its canvas (the module ran under the CSP), each
            # followed by the table that says the same.
            page.wait_for_function(
                "() => document.querySelectorAll('bar-chart canvas, line-chart canvas')"
                ".length === 3"
            )
            for chart in page.locator(".app-chart").all():
                table_id = chart.get_attribute("data-chart-for")
                assert page.locator(f"#{table_id} table caption").count() == 1
                box = chart.locator("canvas").bounding_box()
                assert box is not None and box["width"] > 300 and box["height"] > 100
        assert _serious(page) == [], (email, path)


def test_a_manager_filters_the_dashboard_and_follows_an_administration_to_a_dossier(
    page: Any, base_url: str
) -> None:
    sign_in(page, base_url, "manager@demo.test")
    page.goto(base_url + "/pilotage/indicateurs")
    page.get_by_label("Administration").select_option("DDT-65")
    page.get_by_role("button", name="Appliquer les filtres").click()
    page.wait_for_url("**/pilotage/indicateurs?*administration=DDT-65*")
    rows = page.locator("#tableau-delais tbody tr")
    assert rows.count() == 1
    rows.first.get_by_role("link").click()
    page.wait_for_url("**/pilotage/administrations/DDT-65*")
    assert (
        page.locator("h1").inner_text()
        == "Direction départementale des territoires des Hautes-Pyrénées"
    )
    page.locator("#consultations-en-retard tbody a, #consultations-a-risque tbody a").first.click()
    page.wait_for_url("**/dossiers/*")
    assert page.locator("h1").count() == 1


def test_a_reversed_period_shows_the_form_with_its_error_linked_to_its_field(
    page: Any, base_url: str
) -> None:
    sign_in(page, base_url, "manager@demo.test")
    answer = page.goto(base_url + "/pilotage/indicateurs?from=2026-07-01&to=2026-06-01")
    assert answer.status == 422
    field = page.locator("#filtre-to")
    assert field.get_attribute("aria-invalid") == "true"
    assert "Période inversée" in page.locator("#filtre-to-erreur").inner_text()
    page.locator("#filtres-erreurs a").first.click()
    assert page.evaluate("document.activeElement.id") == "filtre-to"
    assert _serious(page) == []


def test_a_table_downloads_as_csv_from_its_link(page: Any, base_url: str) -> None:
    sign_in(page, base_url, "manager@demo.test")
    page.goto(base_url + "/pilotage/indicateurs")
    with page.expect_download() as download:
        page.locator('a[href^="/pilotage/indicateurs/flow.csv"]').click()
    got = download.value
    assert got.suggested_filename == "flow.csv"
    assert Path(got.path()).read_text(encoding="utf-8").startswith("week,arrivals,completions")
