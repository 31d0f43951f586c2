"""Calendars over HTTP: everyone reads, only an administrator changes or re-projects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.api.conftest import Api


def test_only_an_administrator_changes_a_calendar(api: Callable[[str], Api]) -> None:
    listed = {c["code"]: c for c in api("holder@test.fr").get("/api/v1/calendars")}
    assert listed["FR-974"]["timezone"] == "Indian/Reunion"
    body: dict[str, Any] = {"date": "2026-05-15", "name": "Pont", "hours": []}
    api("referent@test.fr").post("/api/v1/calendars/FR-976/overrides", 403, json=body)
    api("manager@test.fr").post("/api/v1/clocks/reproject", 403, json={"calendar": "FR-976"})
    admin = api("admin@test.fr")
    bad = admin.post(
        "/api/v1/calendars/FR-976/overrides", 422, json={**body, "hours": [["12:00", "09:00"]]}
    )
    assert "Horaires invalides" in bad["detail"]
    changed = admin.post("/api/v1/calendars/FR-976/overrides", 201, json=body)
    assert changed["version"] == listed["FR-976"]["version"] + 1
    assert changed["overrides"] == [{"date": "2026-05-15", "name": "Pont", "intervals": []}]
    assert admin.post("/api/v1/clocks/reproject", json={"calendar": "FR-976"}) == []
    week = {"weekly": {"1": [["08:30", "12:00"], ["13:30", "17:30"]]}, "whit_monday_worked": True}
    api("referent@test.fr").request("PUT", "/api/v1/calendars/FR-976/week", 403, json=week)
    changed = admin.request("PUT", "/api/v1/calendars/FR-976/week", json=week)
    assert changed["weekly"] == {"1": [["08:30", "12:00"], ["13:30", "17:30"]]}
    assert changed["whit_monday_worked"] is True
    empty = admin.request("PUT", "/api/v1/calendars/FR-976/week", 422, json={"weekly": {"1": []}})
    assert "aucune heure" in empty["detail"]
    assert "Précisez" in admin.post("/api/v1/clocks/reproject", 422, json={})["detail"]
