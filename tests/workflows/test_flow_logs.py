"""What a flow run shows in Prefect's UI: warnings and failures of the accelerator loggers,
not every history line of every dossier of its batch (those stay in the process's logs)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.client.schemas.sorting import FlowRunSort
from prefect.logging.handlers import APILogHandler
from prefect.settings import PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW, temporary_settings
from sqlalchemy import delete, select, update

from accelerator.dossiers.models import Dossier, ProposedAdministration
from accelerator.outbox.actions import Queued, enqueue
from accelerator.outbox.models import OutboxMessage
from accelerator.outbox.topics import Topic
from accelerator.shared import logs
from accelerator.shared.db import Database, utcnow
from tests.factories import filed, paris
from workflows.relay import drain_once

pytestmark = pytest.mark.usefixtures("prefect_engine")


@pytest.fixture
def shipped_to_prefect() -> Iterator[APILogHandler]:
    """The ``accelerator`` loggers with Prefect's API handler, as Prefect sets them up for
    its "extra loggers" in the relay and worker processes."""
    logger = logging.getLogger("accelerator")
    handler = APILogHandler()
    logger.addHandler(handler)
    try:
        # The relay's own lines (outside any flow run) are not for the UI: as cli/main.py sets.
        with temporary_settings({PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW: "ignore"}):
            yield handler
    finally:
        logger.removeHandler(handler)
        logs.configure(ui_level=logging.WARNING)


def _intake_logs(
    db: Database, handler: APILogHandler, *targets: uuid.UUID
) -> list[tuple[str, str]]:
    """Run one intake batch of ``targets`` and read its flow run's logs."""
    with db.transaction() as session:
        session.execute(delete(ProposedAdministration))
        session.execute(update(Dossier).values(routed_at=None))
        session.execute(update(OutboxMessage).values(delivered_at=utcnow()))
        for target in targets:
            enqueue(session, Queued(Topic.INTAKE, {"dossier_id": str(target)}), now=utcnow())
    drain_once(db)
    handler.flush()
    with get_client(sync_client=True) as client:
        intakes = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["intake"])),
            sort=FlowRunSort.EXPECTED_START_TIME_DESC,
            limit=20,
        )
        wanted = {str(t) for t in targets}
        runs = [r for r in intakes if {str(i) for i in r.parameters["dossier_ids"]} == wanted]
        assert len(runs) == 1, runs
        found = client.read_logs(
            LogFilter(flow_run_id=LogFilterFlowRunId(any_=[runs[0].id])), limit=200
        )
    return [(line.name, line.message) for line in found]


@pytest.mark.parametrize("ui_level", ["WARNING", "INFO"])
def test_prefect_ui_gets_the_accelerator_lines_from_the_configured_level(
    db: Database, shipped_to_prefect: APILogHandler, ui_level: str
) -> None:
    logs.configure(ui_level=ui_level)
    dossier_id = filed(db, now=paris(2026, 3, 2, 10), attributes={"near_monument": True})
    missing = uuid.uuid4()

    lines = _intake_logs(db, shipped_to_prefect, dossier_id, missing)

    names = {name for name, _ in lines}
    # The failed dossier is said (ERROR), whatever the level.
    assert any(name == "accelerator.flows" and str(missing) in text for name, text in lines)
    history = [text for name, text in lines if name == "accelerator.history"]
    if ui_level == "WARNING":
        assert history == [], names
    else:
        assert history, names  # routing, proposal, clocks: the dossier's own lines
    with db.transaction() as session:
        assert session.scalar(select(Dossier.routed_at).where(Dossier.id == dossier_id))


def test_a_process_that_runs_flows_filters_what_prefect_ships(tmp_path: Path) -> None:
    """In a fresh process (a relay, a worker's flow run), Prefect sets its logging up lazily:
    the filter must be on the handler Prefect adds, whatever the import order."""
    probe = (
        "import logging, workflows.relay\n"
        "handlers = logging.getLogger('accelerator').handlers\n"
        "print([(type(h).__name__, [getattr(f, 'level', None) for f in h.filters])"
        " for h in handlers])\n"
    )
    environment = {
        **os.environ,
        "PREFECT_LOGGING_EXTRA_LOGGERS": "accelerator",  # as cli/main.py sets it
        "PREFECT_HOME": str(tmp_path),
        "ACCELERATOR_FLOW_UI_LOG_LEVEL": "ERROR",
    }
    out = subprocess.run(
        [sys.executable, "-c", probe], env=environment, capture_output=True, text=True,
        check=True, cwd=Path(__file__).resolve().parents[2],
    ).stdout  # fmt: skip
    assert "('APILogHandler', [40])" in out, out


def test_prefect_ui_gets_a_summary_of_each_batch(
    db: Database, shipped_to_prefect: APILogHandler
) -> None:
    logs.configure(ui_level="WARNING")
    dossier_id = filed(db, now=paris(2026, 3, 2, 10), attributes={"near_monument": True})

    lines = _intake_logs(db, shipped_to_prefect, dossier_id)

    assert ("accelerator.flows", "1 dossier(s) orienté(s), référent proposé, délais démarrés") in (
        lines
    )
    assert not [name for name, _ in lines if name == "accelerator.history"]
