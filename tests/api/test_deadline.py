"""GET /api/v1/deadline answers as the CLI does, with the explanation."""

from __future__ import annotations

from collections.abc import Callable

from tests.api.conftest import Api


def test_deadline_is_explained(api: Callable[[str], Api]) -> None:
    answer = api("referent@test.fr").get(
        "/api/v1/deadline",
        params={"calendar": "FR", "start": "2026-01-31T10:00:00+01:00", "add": "1 months"},
    )
    assert answer["deadline"] == "2026-03-01T00:00:00+01:00"
    assert answer["calendar"] == "FR" and answer["timezone"] == "Europe/Paris"
    assert any("dernier jour du mois" in line for line in answer["explanation"])
    assert answer["explanation"][-1] == "Échéance : 2026-03-01T00:00:00+01:00."


def test_holidays_are_named_in_the_explanation(api: Callable[[str], Api]) -> None:
    answer = api("holder@test.fr").get(
        "/api/v1/deadline",
        params={
            "calendar": "FR-67",
            "start": "2026-04-02T10:00:00+02:00",
            "add": "1 business_days",
        },
    )
    assert answer["deadline"] == "2026-04-08T00:00:00+02:00"
    text = " ".join(answer["explanation"])
    assert "Vendredi saint" in text and "Lundi de Pâques" in text


def test_bad_deadline_requests_are_422(api: Callable[[str], Api]) -> None:
    user = api("holder@test.fr")
    start = "2026-01-31T10:00:00+01:00"
    unknown = user.get(
        "/api/v1/deadline", 422, params={"calendar": "XX", "start": start, "add": "1 months"}
    )
    assert "Calendrier inconnu : XX" in unknown["detail"]
    user.get("/api/v1/deadline", 422, params={"calendar": "FR", "start": start, "add": "1 day"})
    user.get("/api/v1/deadline", 422, params={"calendar": "FR", "start": start})


def test_between_counts_business_days(api: Callable[[str], Api]) -> None:
    answer = api("holder@test.fr").get(
        "/api/v1/between",
        params={
            "calendar": "FR",
            "start": "2026-06-09T10:00:00+02:00",
            "end": "2026-06-12T00:00:00+02:00",
            "unit": "business_days",
        },
    )
    assert answer["amount"] == 2
