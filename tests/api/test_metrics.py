"""/metrics speaks Prometheus: outbox backlog from the database, request latencies."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import HOTEL, Api


def requests_counted(admin: Api, method: str, route: str, status: str) -> float:
    """How many requests of ``route`` the app's latency histogram counted so far (the app
    serves the whole session: its counts start where the previous test left them)."""
    text = admin.client.get("/metrics", headers=admin.headers).text
    labels = {"method": method, "route": route, "status": status}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.endswith("_count") and sample.labels == labels:
                return sample.value
    return 0.0


def test_metrics_show_the_outbox_backlog(api: Callable[[str], Api]) -> None:
    holder, admin = api("holder@test.fr"), api("admin@test.fr")
    route = "/api/v1/dossiers/{dossier_id}/file"
    before = requests_counted(admin, "POST", route, "200")
    dossier = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    holder.post(f"/api/v1/dossiers/{dossier['id']}/file")
    text = admin.client.get("/metrics", headers=admin.headers).text
    # Filing queued an intake, a receipt and a webhook event; no relay ran in this test.
    assert 'accelerator_outbox_pending{topic="flow.intake"} 1.0' in text
    assert 'accelerator_outbox_pending{topic="notify"} 1.0' in text
    assert "accelerator_outbox_lag_seconds" in text
    assert requests_counted(admin, "POST", route, "200") == before + 1
    assert 'accelerator_outbox_delivered{topic="flow.intake"}' not in text


@pytest.mark.usefixtures("prefect_engine")
def test_metrics_show_flow_outcomes_by_topic(api: Callable[[str], Api]) -> None:
    from workflows.relay import drain

    holder, admin = api("holder@test.fr"), api("admin@test.fr")
    before = requests_counted(admin, "POST", "/api/v1/dossiers", "201")
    dossier = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    holder.post(f"/api/v1/dossiers/{dossier['id']}/file")
    drain()
    text = admin.client.get("/metrics", headers=admin.headers).text
    assert 'accelerator_outbox_delivered{topic="flow.intake"} 1.0' in text
    assert 'accelerator_outbox_pending{topic="flow.intake"}' not in text
    assert 'accelerator_outbox_retrying{topic="flow.intake"}' not in text
    assert requests_counted(admin, "POST", "/api/v1/dossiers", "201") == before + 1
