"""Reconciliation flow: re-drive what should have happened, and close flow runs left RUNNING
or PENDING by a process that died (Prefect never learns of a ``kill -9``, see PREFECT.md)."""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger, task
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterStartTime,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.states import Crashed

from accelerator.reconciliation.actions import reconcile
from accelerator.shared.config import get_settings
from accelerator.shared.db import utcnow
from accelerator.shared.text import t
from workflows.steps import in_transaction


@task(name="requeue-missing-work")
def requeue() -> dict[str, list[str]]:
    """Queue again intakes, launches, consolidations and what-ifs that never happened; fail
    the what-ifs whose process died."""
    grace = dt.timedelta(seconds=get_settings().reconcile_grace_seconds)
    repairs = in_transaction(lambda s: reconcile(s, now=utcnow(), grace=grace))
    return {
        "intakes": repairs.intakes,
        "launches": repairs.launches,
        "consolidations": repairs.consolidations,
        "what_ifs": repairs.what_ifs,
        "stale_what_ifs": repairs.stale_what_ifs,
    }


@task(name="close-stuck-flow-runs")
async def close_stuck_runs(now: dt.datetime | None = None) -> int:
    """Mark as crashed the flow runs RUNNING or PENDING for longer than ``stuck_run_seconds``.

    A flow of this product finishes in seconds, and a worker moves a run from PENDING to
    RUNNING within seconds: one left in either state that long lost its process (a worker
    killed while it submitted it, or while it ran), and holds a slot of the work pool's
    concurrency limit until it is closed. The missing work itself is queued again by
    :func:`requeue`. ``now`` defaults to the current instant.
    """
    cutoff = (now or utcnow()) - dt.timedelta(seconds=get_settings().stuck_run_seconds)
    async with get_client() as client:
        running = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.RUNNING])),
                start_time=FlowRunFilterStartTime(before_=cutoff),  # type: ignore[arg-type]
            ),
            limit=200,
        )
        pending = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PENDING])),
                expected_start_time=FlowRunFilterExpectedStartTime(before_=cutoff),  # type: ignore[arg-type]
            ),
            limit=200,
        )
        # Pending since when: the state's own time (the run may have been scheduled long ago).
        stuck = [*running, *(r for r in pending if r.state and r.state.timestamp < cutoff)]
        for run in stuck:
            await client.set_flow_run_state(
                run.id,
                Crashed(message=t("workflows.run_vanished")),
                force=True,
            )
    return len(stuck)


@flow(name="reconcile", log_prints=True)
async def reconcile_flow() -> dict[str, object]:
    """Re-drive missing work; close stuck flow runs. Safe to run any time, any number of times."""
    repairs = requeue()
    stuck = await close_stuck_runs()
    if any(repairs.values()) or stuck:
        get_run_logger().warning("reconciliation: %s; stuck runs closed: %d", repairs, stuck)
    return {**repairs, "stuck_runs": stuck}
