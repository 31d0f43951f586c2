"""Structured logs: every line about a dossier carries its reference, in JSON when asked."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from accelerator.shared import logs
from tests.api.conftest import HOTEL, Api


def test_requests_on_a_dossier_log_its_reference(
    api: Callable[[str], Api], json_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    holder = api("holder@test.fr")
    dossier = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    response = holder.client.post(
        f"/api/v1/dossiers/{dossier['id']}/file",
        headers={**holder.headers, "X-Request-ID": "essai-42"},
    )
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "essai-42"
    reference = response.json()["reference"]
    lines = [line for line in json_lines() if line.get("request_id") == "essai-42"]
    filed = next(line for line in lines if line.get("to_status") == "filed")
    assert filed["event"] == "dossier.status_changed"
    assert filed["dossier_id"] == dossier["id"] and filed["level"] == "INFO"
    assert "déposé" in filed["message"]
    [access] = [line for line in lines if line["logger"] == "accelerator.api.access"]
    assert access["dossier"] == reference and access["dossier_id"] == dossier["id"]
    assert access["status"] == 200 and access["route"] == "/api/v1/dossiers/{dossier_id}/file"
    assert access["role"] == "holder" and "password" not in json.dumps(access)
    # Another request gets its own id and does not inherit the previous dossier.
    holder.get("/api/v1/dossiers")
    last = [line for line in json_lines() if line["logger"] == "accelerator.api.access"][-1]
    assert last["request_id"] != "essai-42" and "dossier" not in last


def test_text_format_shows_the_dossier_and_scopes_nest() -> None:
    formatter = logs.TextFormatter("%(levelname)s%(where)s %(message)s")
    record = logging.makeLogRecord({"msg": "routé", "levelname": "INFO"})
    with logs.scope(dossier="ACC-2026-00007"):
        logs.ContextFilter().filter(record)
        with logs.scope(item="x"):
            logs.annotate(dossier="ACC-2026-00008")
        inner = logging.makeLogRecord({"msg": "suite", "levelname": "INFO"})
        logs.ContextFilter().filter(inner)
    assert formatter.format(record) == "INFO [ACC-2026-00007] routé"
    assert formatter.format(inner) == "INFO [ACC-2026-00007] suite"
    outside = logging.makeLogRecord({"msg": "hors dossier", "levelname": "INFO"})
    logs.ContextFilter().filter(outside)
    assert formatter.format(outside) == "INFO hors dossier"
