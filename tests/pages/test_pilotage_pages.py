"""The managers' figures as pages (/pilotage/indicateurs, an administration's drill-down, the
forecast) on the history of tests/metrics_dataset.py: the figures the API answers, shown in
French; the filters narrow them, a filter the API refuses shows the form again with its
errors (422); agents, holders and référents are refused like the API refuses them; each table
downloads as the API's CSV; a fixed number of statements per page."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from accelerator.catalogue.models import Administration
from accelerator.metrics.actions import refresh_facts
from accelerator.shared.db import utcnow
from tests.metrics_dataset import build
from tests.pages.conftest import HTML, PASSWORD
from tests.pages.test_page_queries import add_world

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


def names(db: Any) -> dict[str, str]:
    """The administrations' names by code."""
    with db.transaction() as session:
        return dict(session.execute(select(Administration.code, Administration.name)).all())


def days(value: float | None, unit: str = "j.") -> str:
    """A number of days as the pages write it (« 5,5 j. », « 4 j. ouvrés »)."""
    if value is None:
        return "–"
    return f"{value:.1f}".replace(".", ",").removesuffix(",0") + f" {unit}"


def share(value: float | None) -> str:
    """A share as the pages write it (« 67 % »)."""
    return "–" if value is None else f"{round(value * 100)} %"


def test_the_dashboard_shows_the_apis_figures(
    db: Any, signed_in: Callable[[str], TestClient], history: Any
) -> None:
    client = signed_in(MANAGER)
    summary = client.get(
        "/api/v1/metrics/summary", params=PERIOD, headers=bearer(client, MANAGER)
    ).json()
    page = client.get("/pilotage/indicateurs", params=PERIOD, headers=HTML)
    assert page.status_code == 200, page.text
    html, named = page.text, names(db)
    assert html.count("<h1") == 1
    assert summary["take_charge_within_24h_share"] == pytest.approx(0.667)
    assert "67 % des dossiers pris en charge dans les 24 heures" in text(html)
    # Delays: one row per administration with opinions, n and p50…p95 in both units.
    delays = {row[0]: row for row in table(html, "tableau-delais")}
    answered = [a for a in summary["administrations"] if a["n"]]
    assert set(delays) == {named[a["code"]] for a in answered}
    for a in answered:
        row = delays[named[a["code"]]]
        assert row[1] == str(a["n"])
        for cell, level in zip(row[2:6], (50, 85, 90, 95), strict=True):
            assert cell == (
                f"{days(a[f'p{level}_days'])} {days(a[f'p{level}_business_days'], 'j. ouvrés')}"
            )
        assert row[6] == (
            f"La moitié en moins de {days(a['p50_days'])} "
            f"({days(a['p50_business_days'], 'j. ouvrés')}), 90 % en moins de "
            f"{days(a['p90_days'])} ({days(a['p90_business_days'], 'j. ouvrés')})."
        )
    assert delays[named["UDAP-65"]][2].startswith("5,5 j.")  # the median of 4 and 7 days
    # Punctuality and open work: every administration, opinions or not.
    punctuality = {row[0]: row for row in table(html, "tableau-respect")}
    assert set(punctuality) == {named[a["code"]] for a in summary["administrations"]}
    for a in summary["administrations"]:
        row = punctuality[named[a["code"]]]
        assert row[1:5] == [
            str(a["n"]),
            share(a["on_time_share"]),
            share(a["on_time_target_share"]),
            share(a["tacit_share"]),
        ]
        assert row[6:] == [str(a[k]) for k in ("open", "open_breached", "at_risk")]
    # Work in progress, flow, gating, cohorts: the API's rows, in its order.
    wip = table(html, "tableau-en-cours")
    assert [r[1:] for r in wip] == [
        [str(w[k]) for k in ("days_0_30", "days_31_60", "days_61_90", "days_over_90", "total")]
        for w in summary["work_in_progress"]
    ]
    assert table(html, "tableau-flux") == [
        [f["week"], str(f["arrivals"]), str(f["completions"]), str(f["net_flow"])]
        for f in summary["flow"]
    ]
    gating = {r[0]: r for r in table(html, "tableau-determinante")}
    assert gating[named["DDT-65"]][1:] == ["1", "1", "100 %", "2 j."]
    assert [r[0] for r in table(html, "tableau-cohortes")] == [
        c["week"] for c in summary["cohorts"]
    ]
    assert "rapport 1,39" in text(html)  # parallel gain: 1.386
    # Each chart is the web component fed with the table's numbers, and its table follows.
    charts = re.findall(r"<(bar-chart|line-chart) ([^>]*)>", html)
    assert [tag for tag, _ in charts] == ["bar-chart", "bar-chart", "line-chart"]
    attributes = dict(re.findall(r'([a-z-]+)="([^"]*)"', charts[0][1]))
    assert json.loads(unescape(attributes["x"])) == [[a["code"] for a in answered]]
    assert json.loads(unescape(attributes["y"]))[0] == [round(a["p50_days"], 1) for a in answered]
    assert 'stacked="true"' in charts[1][1]
    assert html.index("<bar-chart") < html.index('id="tableau-delais"')
    # The chart library's module script and style, from /static (no inline script).
    assert re.search(r'<script type="module" src="/static/dsfr-chart/[^"]+/DSFRChart.js">', html)
    assert "<script>" not in html
    # The heatmap: one row per administration, the share written in every coloured cell.
    heat = {r[0]: r for r in table(html, "tableau-chaleur")}
    assert heat["SDIS-65"][1 + (24 - 18)].startswith("100 %")
    assert heat["SDIS-65"][1 + (29 - 18)].startswith("0 %")
    assert re.search(r'app-heat--far">0\s%', html)


def test_the_filters_narrow_the_figures(
    db: Any, signed_in: Callable[[str], TestClient], history: Any
) -> None:
    client, named = signed_in(MANAGER), names(db)
    ddt = client.get(
        "/pilotage/indicateurs", params={**PERIOD, "administration": "ddt-65"}, headers=HTML
    )
    assert ddt.status_code == 200
    assert [r[0] for r in table(ddt.text, "tableau-delais")] == [named["DDT-65"]]
    assert 'option value="DDT-65" selected' in ddt.text
    second = client.get("/pilotage/indicateurs", params={**PERIOD, "cycle": "2"}, headers=HTML)
    rows = table(second.text, "tableau-respect")
    assert [(r[0], r[4]) for r in rows] == [(named["SDIS-65"], "100 %")]
    assert "cycle 2" in text(second.text)
    # The CSV links carry the filters.
    assert (
        "/pilotage/indicateurs/administrations.csv?from=2026-05-01&amp;to=2026-07-20&amp;cycle=2"
        in second.text
    )


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "2026-07-01", "to": "2026-06-01"}, "to", "Période inversée"),
        ({"from": "1850-01-01"}, "from", "plage admise"),
        ({"from": "2026-01-01", "to": "2200-01-01"}, "to", "plage admise"),
        ({"from": "2026-13-01"}, "from", "date invalide"),
        ({"cycle": "0"}, "cycle", "au moins 1"),
        ({"cycle": "100"}, "cycle", "au plus 99"),
        ({"cycle": "deux"}, "cycle", "nombre entier attendu"),
        ({"administration": "DDT 65"}, "administration", "format non admis"),
        ({"procedure": "P" * 33}, "procedure", "trop long"),
        ({"arrondissement": "999"}, "arrondissement", "code inconnu du catalogue : 999"),
    ],
)
def test_a_refused_filter_shows_the_form_again_with_its_french_error(
    signed_in: Callable[[str], TestClient], params: dict[str, str], field: str, message: str
) -> None:
    client = signed_in(MANAGER)
    paths = ["/pilotage/indicateurs", "/pilotage/prevision"]
    if field != "administration":  # an administration's page takes it from its path
        paths.append("/pilotage/administrations/DDT-65")
    for path in paths:
        page = client.get(path, params=params, headers=HTML)
        assert page.status_code == 422, (path, page.text[:300])
        html = page.text
        assert html.count("<h1") == 1
        assert f'id="filtre-{field}-erreur"' in html, path
        assert message in text(html), path
        assert f'aria-describedby="filtre-{field}-erreur"' in html
        # The summary above the form names the field and leads to it.
        assert f'<li><a href="#filtre-{field}">' in html
        assert 'id="tableau-delais"' not in html and 'id="prevision"' not in html
        # The API refuses the same values (its own 422).
        if field != "arrondissement":
            answer = client.get(
                "/api/v1/metrics/summary", params=params, headers=bearer(client, MANAGER)
            )
            assert answer.status_code == 422
    assert client.get("/pilotage/indicateurs.csv", headers=HTML).status_code == 404
    csv_answer = client.get("/pilotage/indicateurs/flow.csv", params=params, headers=HTML)
    assert csv_answer.status_code == 422


def test_an_undeclared_parameter_is_refused(signed_in: Callable[[str], TestClient]) -> None:
    page = signed_in(MANAGER).get("/pilotage/indicateurs?agent=x", headers=HTML)
    assert page.status_code == 422
    assert "agent" in text(page.text)


@pytest.mark.parametrize("email", ["holder@pages.test", "agent@pages.test", "referent@pages.test"])
def test_holders_agents_and_referents_are_refused_like_the_api_refuses_them(
    signed_in: Callable[[str], TestClient], email: str
) -> None:
    client = signed_in(email)
    for path in (
        "/pilotage/indicateurs",
        "/pilotage/indicateurs/administrations.csv",
        "/pilotage/administrations/DDT-65",
        "/pilotage/prevision",
    ):
        assert client.get(path, headers=HTML).status_code == 403, path
    assert client.get("/api/v1/metrics/summary", headers=bearer(client, email)).status_code == 403


def test_anonymous_visitors_are_sent_to_the_sign_in_page(
    browser_client: Callable[[], TestClient],
) -> None:
    answer = browser_client().get("/pilotage/indicateurs", headers=HTML, follow_redirects=False)
    assert answer.status_code in (302, 303)
    assert "/login" in answer.headers["location"]


def test_admins_read_the_figures_and_their_menu_leaves_out_the_managers_watch_list(
    signed_in: Callable[[str], TestClient], history: Any
) -> None:
    client = signed_in(ADMIN)
    page = client.get("/pilotage/indicateurs", params=PERIOD, headers=HTML)
    assert page.status_code == 200
    menu = page.text[page.text.index('id="menu-pilotage"') :]
    menu = menu[: menu.index("</ul>")]
    assert 'href="/pilotage"' not in menu
    assert 'href="/pilotage/revues"' in menu
    manager = signed_in(MANAGER).get("/pilotage", headers=HTML).text
    links = re.findall(r'class="fr-sidemenu__link" href="([^"]+)"', manager)
    assert links == [
        "/pilotage",
        "/pilotage/indicateurs",
        "/pilotage/prevision",
        "/pilotage/simulation",
        "/pilotage/revues",
    ]
    assert 'href="/pilotage" aria-current="page"' in manager
    # The watch list leads to each late consultation's administration.
    assert 'href="/pilotage/administrations/DDT-65"' in manager


def test_each_table_downloads_as_the_apis_csv(
    signed_in: Callable[[str], TestClient], history: Any
) -> None:
    client = signed_in(MANAGER)
    token = bearer(client, MANAGER)
    for name in (
        "take-charge",
        "administrations",
        "gating",
        "parallel-gain",
        "work-in-progress",
        "flow",
        "cohorts",
        "heatmap",
        "calibration",
        "forecast",
    ):
        page = client.get(f"/pilotage/indicateurs/{name}.csv", params=PERIOD, headers=HTML)
        api = client.get(f"/api/v1/metrics/{name}.csv", params=PERIOD, headers=token)
        assert page.status_code == 200, name
        assert page.headers["content-type"] == "text/csv; charset=utf-8"
        assert f'filename="{name}.csv"' in page.headers["content-disposition"]
        if name != "forecast":  # the forecast's ages move with the clock between the two
            assert page.text == api.text, name
        assert page.text.splitlines()[0] == api.text.splitlines()[0], name
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(
                    "/pilotage/indicateurs/administrations.csv", params=PERIOD, headers=HTML
                ).text
            )
        )
    )
    udap = next(r for r in rows if r["code"] == "UDAP-65")
    assert (udap["n"], udap["p50_days"], udap["open"]) == ("2", "5.5", "1")
    unknown = client.get("/pilotage/indicateurs/agents.csv", headers=HTML)
    assert unknown.status_code == 404


def test_an_administrations_page_lists_its_late_and_at_risk_work_and_leads_to_the_dossier(
    db: Any, signed_in: Callable[[str], TestClient], history: Any
) -> None:
    client, named = signed_in(MANAGER), names(db)
    page = client.get("/pilotage/administrations/DDT-65", params=PERIOD, headers=HTML)
    assert page.status_code == 200, page.text
    html = page.text
    assert html.count("<h1") == 1
    assert f"<h1>{named['DDT-65']}</h1>" in html
    # C's DDT consultation is open, past its internal target and its legal deadline today.
    late = table(html, "consultations-en-retard")
    assert len(late) == 1
    assert f'href="/dossiers/{history.dossiers["C"]}"' in html
    # Its own figures only: its row of delays, its heatmap row.
    assert [r[0] for r in table(html, "tableau-delais")] == [named["DDT-65"]]
    assert [r[0] for r in table(html, "tableau-chaleur")] == ["DDT-65"]
    assert (
        "/pilotage/indicateurs/heatmap.csv?from=2026-05-01&amp;to=2026-07-20&amp;administration=DDT-65"
        in html
    )
    # The dashboard links here, with its filters.
    board = client.get("/pilotage/indicateurs", params=PERIOD, headers=HTML).text
    assert 'href="/pilotage/administrations/DDT-65?from=2026-05-01&amp;to=2026-07-20"' in board
    # An unknown code is the DSFR 404 page; a lower-case one goes to the catalogue's code.
    missing = client.get("/pilotage/administrations/NOPE-65", headers=HTML)
    assert missing.status_code == 404
    assert "Administration inconnue" in text(missing.text)
    lower = client.get("/pilotage/administrations/ddt-65", headers=HTML, follow_redirects=False)
    assert lower.status_code == 307
    assert lower.headers["location"] == "/pilotage/administrations/DDT-65"


def test_the_forecast_lists_the_most_likely_breaches_first(
    signed_in: Callable[[str], TestClient], history: Any
) -> None:
    client = signed_in(MANAGER)
    since = {"from": "2026-06-09"}
    api = client.get(
        "/api/v1/metrics/forecast", params=since, headers=bearer(client, MANAGER)
    ).json()
    page = client.get("/pilotage/prevision", params=since, headers=HTML)
    assert page.status_code == 200
    rows = table(page.text, "prevision")
    assert len(rows) == len(api) > 0
    assert [r[0] for r in rows] == [share(i["breach_probability"]) for i in api]
    assert [r[2] for r in rows] == [i["administration"] for i in api]
    assert page.text.count('href="/dossiers/') == len(api)
    probabilities = [i["breach_probability"] for i in api]
    assert probabilities == sorted(probabilities, reverse=True)
    # The calibration by decile, as the API's CSV gives it: the forecast made on 9 June.
    answer = client.get(
        "/api/v1/metrics/calibration.csv", params=since, headers=bearer(client, MANAGER)
    )
    deciles = list(csv.DictReader(io.StringIO(answer.text)))
    assert table(page.text, "tableau-calibrage") == [
        [d["decile"], d["n"], share(float(d["predicted"])), share(float(d["observed"]))]
        for d in deciles
    ]
    assert len(deciles) == 3
    assert "rejouée au 9 juin 2026 à 00:00" in text(page.text)


#: Most statements a managers' page may run: the session and header, the catalogue (three),
#: the figures (per table, its week and day cells in one statement, their sketches in
#: another), the watch list and its rows.
PILOTAGE_MOST = 45
PILOTAGE_PAGES = [
    "/pilotage/indicateurs?from=2026-05-01&to=2026-12-31",
    "/pilotage/administrations/DDT-65?from=2026-05-01&to=2026-12-31",
    "/pilotage/prevision",
    "/pilotage/indicateurs/administrations.csv",
]


def test_the_managers_pages_run_as_many_queries_with_300_more_consultations(
    db: Any, signed_in: Callable[[str], TestClient], statements: list[str], history: Any
) -> None:
    client = signed_in(MANAGER)

    def count() -> dict[str, tuple[int, int]]:
        found = {}
        for path in PILOTAGE_PAGES:
            statements.clear()
            answer = client.get(path, headers=HTML)
            assert answer.status_code == 200, (path, answer.text[:300])
            found[path] = (len(statements), len(answer.text))
        return found

    few = count()
    add_world(db, 300, first=90_000)
    with db.transaction() as session:
        assert refresh_facts(session, now=utcnow()) >= 300
    many = count()
    for path in PILOTAGE_PAGES:
        assert many[path][0] == few[path][0], (path, few[path][0], many[path][0])
        assert many[path][0] <= PILOTAGE_MOST, (path, many[path][0])
        # The figures are real: the pages grew with the data.
        assert many[path][1] > few[path][1], path
