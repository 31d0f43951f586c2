"""Calendars over HTTP: everyone reads, only an administrator changes or re-projects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from accelerator.journal.models import ConfigChange
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


def journal(db: Any) -> list[ConfigChange]:
    with db.transaction() as session:
        rows = list(session.scalars(select(ConfigChange).order_by(ConfigChange.at)))
        for row in rows:
            session.expunge(row)
        return rows


def test_a_calendar_change_over_the_api_is_journaled_as_on_the_admin_pages(
    api: Callable[[str], Api], db: Any
) -> None:
    admin = api("admin@test.fr")
    body = {"date": "2026-05-15", "name": "Pont", "hours": []}
    listed = {c["code"]: c for c in admin.get("/api/v1/calendars")}
    api("referent@test.fr").post("/api/v1/calendars/FR-976/overrides", 403, json=body)
    admin.post("/api/v1/calendars/FR-976/overrides", 201, json=body)
    # The closure's row, as /gestion/fermetures writes it (there, the clocks it re-projected
    # at once are counted too; here they keep their deadline until POST /clocks/reproject).
    [closure] = journal(db)
    assert (closure.kind, closure.key, closure.event, closure.actor_label) == (
        "closure", "FR-976:2026-05-15", "created", "admin@test.fr",
    )  # fmt: skip
    assert closure.actor_id is not None
    assert closure.before is None
    assert closure.after == {"date": "2026-05-15", "name": "Pont", "intervals": []}
    assert closure.message.startswith(
        "Fermeture du vendredi 15 mai 2026 (Pont) ajoutée au calendrier FR-976 : "
    )
    # The same day given hours instead: its row says what it was.
    admin.post(
        "/api/v1/calendars/FR-976/overrides", 201,
        json={**body, "name": "Matinée", "hours": [["08:00", "12:00"]]},
    )  # fmt: skip
    week = {"weekly": {"1": [["08:30", "12:00"]]}, "whit_monday_worked": True}
    admin.request("PUT", "/api/v1/calendars/FR-976/week", json=week)
    reopened, changed_week = journal(db)[1:]
    assert (reopened.kind, reopened.event, reopened.before, reopened.after) == (
        "closure", "updated", closure.after,
        {"date": "2026-05-15", "name": "Matinée", "intervals": [["08:00", "12:00"]]},
    )  # fmt: skip
    assert (changed_week.kind, changed_week.key, changed_week.event) == (
        "calendar", "FR-976", "week_set",
    )  # fmt: skip
    assert changed_week.before == {
        "weekly": listed["FR-976"]["weekly"],
        "whit_monday_worked": listed["FR-976"]["whit_monday_worked"],
    }
    assert changed_week.after == {"weekly": {"1": [["08:30", "12:00"]]}, "whit_monday_worked": True}
    # A refused change writes nothing.
    admin.request("PUT", "/api/v1/calendars/FR-976/week", 422, json={"weekly": {"1": []}})
    assert len(journal(db)) == 3
