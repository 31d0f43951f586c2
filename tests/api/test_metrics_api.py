"""GET /api/v1/metrics/...: the managers' figures over HTTP, each table as CSV, strict filters,
managers and admins only. The figures themselves are checked by hand in
tests/accelerator/test_metrics_figures.py; here, the same history read through the API."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Api
from tests.api.schemathesis_run import failures, run
from tests.metrics_dataset import build

#: May to 20 July 2026: open work observed at 21/07 00:00 (Paris), half a day after NOW.
PERIOD = {"from": "2026-05-01", "to": "2026-07-20"}


@pytest.fixture
def history(db: Any, accounts: dict[str, str]) -> Any:
    return build(db)


def test_managers_and_admins_read_the_summary(api: Callable[[str], Api], history: Any) -> None:
    for email in ("manager@test.fr", "admin@test.fr"):
        body = api(email).get("/api/v1/metrics/summary", params=PERIOD)
        assert body["take_charge_within_24h_share"] == pytest.approx(0.667)
        rows = {a["code"]: a for a in body["administrations"]}
        assert rows["UDAP-65"]["p50_days"] == pytest.approx(5.5)
        assert {"code", "p50_days", "p85_days", "p95_days", "on_time_share"} <= set(rows["UDAP-65"])
        assert (rows["SDIS-65"]["at_risk"], rows["DDT-65"]["open_breached"]) == (1, 1)
        gating = {g["code"]: g for g in body["gating"]}
        assert gating["DDT-65"] == {
            "code": "DDT-65",
            "gated": 1,
            "consulted": 1,
            "share": 1.0,
            "total_delay_days": 2.0,
        }
        assert body["parallel_gain_ratio"] == pytest.approx(1.386)
        assert body["as_of"] == "2026-07-21T00:00:00+02:00"


@pytest.mark.parametrize("email", ["holder@test.fr", "agent.ddt-65@test.fr", "referent@test.fr"])
def test_holders_agents_and_referents_are_refused(api: Callable[[str], Api], email: str) -> None:
    body = api(email).get("/api/v1/metrics/summary", 403)
    assert "pilotage" in body["detail"]
    api(email).get("/api/v1/metrics/administrations.csv", 403)


def test_anonymous_callers_sign_in_first(client: TestClient) -> None:
    assert client.get("/api/v1/metrics/summary").status_code == 401


def test_each_table_is_served_as_csv(
    client: TestClient, api: Callable[[str], Api], history: Any
) -> None:
    manager = api("manager@test.fr")
    response = client.get(
        "/api/v1/metrics/administrations.csv", params=PERIOD, headers=manager.headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="administrations.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["code"] for r in rows] == ["DDT-65", "PREF-65", "SDIS-65", "UDAP-65"]
    udap = next(r for r in rows if r["code"] == "UDAP-65")
    assert (udap["n"], udap["p50_days"], udap["open"]) == ("2", "5.5", "1")
    assert next(r for r in rows if r["code"] == "PREF-65")["p50_days"] == ""  # no opinion yet
    for name in (
        "take-charge",
        "gating",
        "parallel-gain",
        "work-in-progress",
        "flow",
        "cohorts",
    ):
        answer = client.get(f"/api/v1/metrics/{name}.csv", params=PERIOD, headers=manager.headers)
        assert answer.status_code == 200, name
        assert len(answer.text.splitlines()) >= 2, name  # a header and at least one row
    flow = list(
        csv.DictReader(
            io.StringIO(
                client.get("/api/v1/metrics/flow.csv", params=PERIOD, headers=manager.headers).text
            )
        )
    )
    assert flow[0] == {"week": "2026-W19", "arrivals": "1", "completions": "0", "net_flow": "1"}


def test_filters_narrow_every_figure(api: Callable[[str], Api], history: Any) -> None:
    manager = api("manager@test.fr")
    ddt = manager.get("/api/v1/metrics/summary", params={**PERIOD, "administration": "ddt-65"})
    assert [a["code"] for a in ddt["administrations"]] == ["DDT-65"]
    assert ddt["take_charge"]["filed"] == 2
    second = manager.get("/api/v1/metrics/summary", params={**PERIOD, "cycle": "2"})
    assert [(a["code"], a["tacit_share"]) for a in second["administrations"]] == [("SDIS-65", 1.0)]
    dp = manager.get("/api/v1/metrics/summary", params={**PERIOD, "procedure": "DP"})
    assert dp["take_charge"]["filed"] == 1
    cauterets = manager.get("/api/v1/metrics/summary", params={**PERIOD, "arrondissement": "651"})
    assert cauterets["parallel_gain_ratio"] == pytest.approx(20 / 9, abs=1e-3)


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "2026-07-01", "to": "2026-06-01"}, None, "Période inversée"),
        ({"from": "1850-01-01"}, None, "plage admise"),
        ({"from": "2026-13-01"}, "from", "date invalide"),
        ({"cycle": "0"}, "cycle", "au moins 1"),
        ({"cycle": "100"}, "cycle", "au plus 99"),
        ({"administration": "DDT 65"}, "administration", "format non admis"),
        ({"procedure": "P" * 33}, "procedure", "trop long"),
        ({"agent": "x"}, None, "agent"),
    ],
)
def test_hostile_filters_are_refused_in_french(
    api: Callable[[str], Api], params: dict[str, str], field: str | None, message: str
) -> None:
    body = api("manager@test.fr").get("/api/v1/metrics/summary", 422, params=params)
    text = body["detail"] + " ".join(e["message"] for e in body.get("errors", []))
    assert message in text, body
    if field is not None:
        assert any(field in e["field"] for e in body["errors"]), body


def test_the_metrics_routes_keep_their_contract(
    client: TestClient, api: Callable[[str], Api], history: Any
) -> None:
    """schemathesis on the metrics routes only (the whole API: tests/api/test_schemathesis.py)."""
    headers = {
        "anonymous": {},
        "holder": api("holder@test.fr").headers,
        "manager": api("manager@test.fr").headers,
        "admin": api("admin@test.fr").headers,
    }
    outcomes = run(client.app, headers, examples=6, only="/api/v1/metrics")
    assert len({o.operation for o in outcomes}) >= 8
    found = failures(outcomes)
    assert not found, f"{len(found)} failures:\n" + "\n".join(found)


def test_the_heatmap_crosses_administrations_and_weeks_against_the_goal(
    client: TestClient, api: Callable[[str], Api], history: Any
) -> None:
    manager = api("manager@test.fr")
    body = manager.get("/api/v1/metrics/heatmap", params=PERIOD)
    # 1 May 2026 is in W18, 20 July in W30: every week of the period, in order.
    assert body["weeks"] == [f"2026-W{w}" for w in range(18, 31)]
    assert body["goal"] == 0.8
    cells = {(c["code"], c["week"]): c for c in body["cells"]}
    assert sorted(cells) == [
        ("DDT-65", "2026-W24"),
        ("SDIS-65", "2026-W24"),
        ("SDIS-65", "2026-W29"),
        ("UDAP-65", "2026-W23"),
        ("UDAP-65", "2026-W24"),
    ]
    assert cells[("SDIS-65", "2026-W24")] == {
        "code": "SDIS-65",
        "week": "2026-W24",
        "n": 2,
        "within_target": 2,
        "on_time_target_share": 1.0,
        "on_time_share": 1.0,
        "meets_goal": True,
    }
    # B's second cycle: SDIS silent until the legal deadline, long past its target.
    tacit = cells[("SDIS-65", "2026-W29")]
    assert (tacit["n"], tacit["on_time_target_share"], tacit["meets_goal"]) == (1, 0.0, False)
    # Filters narrow it like every figure; the period bounds its weeks.
    june = manager.get(
        "/api/v1/metrics/heatmap",
        params={"from": "2026-06-08", "to": "2026-06-14", "administration": "udap-65"},
    )
    assert june["weeks"] == ["2026-W24"]
    assert [(c["code"], c["week"]) for c in june["cells"]] == [("UDAP-65", "2026-W24")]
    csv_answer = client.get("/api/v1/metrics/heatmap.csv", params=PERIOD, headers=manager.headers)
    rows = list(csv.DictReader(io.StringIO(csv_answer.text)))
    assert [(r["code"], r["week"], r["n"]) for r in rows][:2] == [
        ("DDT-65", "2026-W24", "1"),
        ("SDIS-65", "2026-W24", "2"),
    ]
    assert rows[2]["meets_goal"] == "False"
    api("agent.ddt-65@test.fr").get("/api/v1/metrics/heatmap", 403)


def test_the_forecasts_calibration_is_a_forecast_made_at_the_periods_start(
    client: TestClient, api: Callable[[str], Api], history: Any
) -> None:
    manager = api("manager@test.fr")

    def deciles(**params: str) -> list[dict[str, str]]:
        answer = client.get(
            "/api/v1/metrics/calibration.csv", params=params, headers=manager.headers
        )
        assert answer.status_code == 200
        return list(csv.DictReader(io.StringIO(answer.text)))

    # Made on Tue 09/06 00:00: A's UDAP (4 held days) and SDIS (7) had answered; A's DDT
    # and B's UDAP and SDIS were open (censored at 6.58, 4.63 and 4.63 days), E's UDAP too
    # (1 day, then waiting: no deadline now, not forecast). Kaplan–Meier: S(4) = 4/5, S(7) = 0:
    # every item open then was expected to be answered in time (0), and all three were.
    early = deciles(**{"from": "2026-06-09"})
    assert list(early[0]) == ["decile", "n", "predicted", "observed"]
    assert [(r["n"], r["predicted"], r["observed"]) for r in early] == [("1", "0.0", "0.0")] * 3
    # Made on Mon 22/06 00:00: five answers (4, 7, 7, 7, 7 days); B's second-cycle SDIS, open
    # then at 6.63 days, was expected in time too, and fell tacit on 16/07: the forecast of
    # then was wrong, and the table shows it.
    late = deciles(**{"from": "2026-06-22", "cycle": "2"})
    assert [(r["n"], r["predicted"], r["observed"]) for r in late] == [("1", "0.0", "1.0")]
    assert deciles(**{"from": "2026-06-22", "cycle": "1"}) == []
    # Before the first sending nothing was open: nothing to check.
    assert deciles(**{"from": "2026-05-01"}) == []
