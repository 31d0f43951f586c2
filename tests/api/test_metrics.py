"""/metrics speaks Prometheus: outbox backlog from the database, request latencies."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.api.conftest import HOTEL, Api


def test_metrics_show_the_outbox_backlog(api: Callable[[str], Api]) -> None:
    holder = api("holder@test.fr")
    dossier = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    holder.post(f"/api/v1/dossiers/{dossier['id']}/file")
    admin = api("admin@test.fr")
    text = admin.client.get("/metrics", headers=admin.headers).text
    # Filing queued an intake, a receipt and a webhook event; no relay ran in this test.
    assert 'accelerator_outbox_pending{topic="flow.intake"} 1.0' in text
    assert 'accelerator_outbox_pending{topic="notify"} 1.0' in text
    assert "accelerator_outbox_lag_seconds" in text
    assert 'route="/api/v1/dossiers/{dossier_id}/file"' in text
    assert 'accelerator_outbox_delivered{topic="flow.intake"}' not in text


@pytest.mark.usefixtures("prefect_engine")
def test_metrics_show_flow_outcomes_by_topic(api: Callable[[str], Api]) -> None:
    from workflows.relay import drain

    holder = api("holder@test.fr")
    dossier = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    holder.post(f"/api/v1/dossiers/{dossier['id']}/file")
    drain()
    admin = api("admin@test.fr")
    text = admin.client.get("/metrics", headers=admin.headers).text
    assert 'accelerator_outbox_delivered{topic="flow.intake"} 1.0' in text
    assert 'accelerator_outbox_pending{topic="flow.intake"}' not in text
    assert 'accelerator_outbox_retrying{topic="flow.intake"}' not in text
    created = 'method="POST",route="/api/v1/dossiers",status="201"'
    assert f"accelerator_http_request_duration_seconds_count{{{created}}} 1.0" in text
