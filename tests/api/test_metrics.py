"""/metrics speaks Prometheus: outbox backlog from the database, request latencies."""

from __future__ import annotations

from collections.abc import Callable

from tests.api.conftest import HOTEL, Api


def test_metrics_show_the_outbox_backlog(api: Callable[[str], Api]) -> None:
    holder = api("holder@test.fr")
    dossier = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    holder.post(f"/api/v1/dossiers/{dossier['id']}/file")
    text = holder.client.get("/metrics").text
    # Filing queued an intake, a receipt and a webhook event; no relay ran in this test.
    assert 'accelerator_outbox_pending{topic="flow.intake"} 1.0' in text
    assert 'accelerator_outbox_pending{topic="notify"} 1.0' in text
    assert "accelerator_outbox_lag_seconds" in text
    assert 'route="/api/v1/dossiers/{dossier_id}/file"' in text
    created = 'method="POST",route="/api/v1/dossiers",status="201"'
    assert f"accelerator_http_request_duration_seconds_count{{{created}}} 1.0" in text
