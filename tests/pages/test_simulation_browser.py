"""The what-if simulator in a real browser (Debian's Chromium through Playwright, axe-core),
on the demo world with twelve weeks of past work: a manager fills the form as a person would,
lands on the queued run, and once it ran (as the flow would) reads its answer, the chart drawn
by dsfr-chart under the strict CSP and followed by its table; a refused field is linked from
the error summary; no serious or critical accessibility violation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.pages.browser import run_what_ifs, seeded_database, serve, sign_in
from tests.pages.test_browser import _serious, browser, page

__all__ = ["browser", "page"]  # the fixtures, shared with the other browser tests


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The product on the demo world with past work: (database URL, base URL)."""
    url = seeded_database(Path(tmp_path_factory.mktemp("simulation")), history=True)
    with serve(url) as base:
        yield url, base


def fill(page: Any, dossiers: str = "3") -> None:
    """The what-if « DDT in 10 days instead of 20 », as a person types it."""
    page.get_by_label("Nombre de dossiers").fill(dossiers)
    page.get_by_label("Administration 1").select_option("DDT-65")
    page.get_by_label("Médiane 1").fill("10")
    page.get_by_label("90e centile 1").fill("17,5")
    page.get_by_label("Unité 1").select_option("days")
    page.get_by_role("button", name="Lancer la simulation").click()
    page.wait_for_load_state()


def test_a_manager_runs_a_what_if_and_reads_its_answer(page: Any, served: tuple[str, str]) -> None:
    url, base_url = served
    sign_in(page, base_url, "manager@demo.test")
    page.get_by_role("link", name="Simulation « et si »").first.click()
    page.wait_for_url("**/pilotage/simulation")
    assert page.locator("h1").count() == 1
    assert _serious(page) == []
    fill(page)
    page.wait_for_url("**/pilotage/simulation/*")
    assert "En attente" in page.locator(".fr-badge").first.text_content()
    assert _serious(page) == []
    assert run_what_ifs(url) == 1
    page.get_by_role("link", name="Actualiser").click()
    page.wait_for_load_state()
    assert "Terminée" in page.locator(".fr-badge").first.text_content()
    page.wait_for_function("() => document.querySelectorAll('bar-chart canvas').length === 1")
    chart = page.locator(".app-chart")
    assert chart.get_attribute("data-chart-for") == "tableau-simulation"
    assert page.locator("#tableau-simulation table caption").count() == 1
    box = chart.locator("canvas").bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    rows = page.locator("#tableau-simulation tbody tr")
    assert rows.count() == 3  # parallel, serial, their ratio
    assert rows.nth(0).locator("th").inner_text() == "En parallèle"
    assert _serious(page) == []
    # Back to the list: the run, finished, with its medians.
    page.get_by_role("link", name="Retour aux simulations").click()
    page.wait_for_url("**/pilotage/simulation")
    assert "Terminée" in page.locator("#tableau-simulations tbody tr").first.text_content()


def test_a_refused_field_is_linked_from_the_summary(page: Any, served: tuple[str, str]) -> None:
    _, base_url = served
    sign_in(page, base_url, "admin@demo.test")
    page.goto(base_url + "/pilotage/simulation")
    fill(page, dossiers="501")
    field = page.locator("#simulation-dossiers")
    assert field.get_attribute("aria-invalid") == "true"
    assert "au plus 500" in page.locator("#simulation-dossiers-erreur").inner_text()
    page.locator("#simulation-erreurs a").first.click()
    assert page.evaluate("document.activeElement.id") == "simulation-dossiers"
    # What was typed is still there.
    assert page.get_by_label("Médiane 1").input_value() == "10"
    assert _serious(page) == []
