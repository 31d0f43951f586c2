"""``what-if`` flow: a what-if a manager queued from ``/pilotage/simulation``, run in the
background and its answer stored (``accelerator/whatif``).

Three steps, each its own transaction but the middle one: mark the run running (nothing to
do if it is no longer queued: the message was delivered twice), simulate (both modes on
throwaway databases, the distributions fitted on this database's history, minutes for the
page's largest runs), store the answer, or why it failed, in French.

The relay hands the flow messages over (``dispatch``): in the distributed mode as a
deployment run a worker picks up; in the embedded one to ``RUNNER``, one thread of the relay
that runs them one after another, so that the relay's other work (intakes, e-mails) never
waits behind a simulation and two simulations never share the machine's cores.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
import uuid
from typing import Any

from prefect import flow, task
from prefect.runtime import flow_run

from accelerator.shared.config import get_settings
from accelerator.shared.db import get_database, utcnow
from accelerator.shared.errors import InvalidInput
from accelerator.shared.text import t
from accelerator.simulation.actions import run_what_if
from accelerator.simulation.queries import held_times
from accelerator.whatif.actions import fail_run, finish_run, start_run
from accelerator.whatif.schemas import RunParameters
from workflows import deployments
from workflows.steps import in_transaction, summary

log = logging.getLogger("accelerator.flows")


def _run_name() -> str:
    return f"what-if-{flow_run.parameters.get('run_id', '')}"


@task(name="what-if-start")
def start(run_id: uuid.UUID) -> RunParameters | None:
    """Mark the run running; its inputs, or None when it already started or finished."""
    return in_transaction(lambda s: start_run(s, run_id=run_id, now=utcnow()))


@task(name="what-if-simulate")
def simulate(parameters: RunParameters) -> dict[str, object]:
    """Both modes over the run's dossiers; the answer as ``simulation.rules.as_json``."""
    with get_database().transaction(read_only=True) as session:
        history = held_times(session)
    return run_what_if(parameters, history=history)


@task(name="what-if-finish")
def finish(run_id: uuid.UUID, result: dict[str, object]) -> None:
    """Store the answer; the run is done."""
    in_transaction(lambda s: finish_run(s, run_id=run_id, result=result, now=utcnow()))


@task(name="what-if-fail")
def fail(run_id: uuid.UUID, message: str) -> None:
    """Store why the run failed, in French."""
    in_transaction(lambda s: fail_run(s, run_id=run_id, message=message, now=utcnow()))


@flow(name="what-if", flow_run_name=_run_name, log_prints=True)
def what_if_flow(run_id: uuid.UUID) -> str:
    """Run one queued what-if and store its answer; returns the run's status (``skipped``
    when it was not queued any more: a repeated delivery changes nothing)."""
    parameters = start(run_id)
    if parameters is None:
        summary("what-if %s: not queued any more, nothing to do", run_id)
        return "skipped"
    try:
        result = simulate(parameters)
    except InvalidInput as refusal:
        fail(run_id, refusal.message)
        summary("what-if %s refused: %s", run_id, refusal.message)
        return "failed"
    except Exception as error:
        log.exception("what-if %s failed", run_id)
        fail(run_id, t("whatif.failed_unexpected", error=type(error).__name__))
        return "failed"
    finish(run_id, result)
    summary("what-if %s done: %d dossier(s)", run_id, parameters.dossiers)
    return "done"


class Runner:
    """The embedded mode's what-if runner: one daemon thread that runs the flows handed to
    it one after another, with the settings of the thread that started it (Prefect's are a
    context variable: heartbeats off, ``workflows.engine.flow_settings``).

    A run handed over and not started when the process stops stays queued: the
    reconciliation queues its message again; one cut off while running is marked failed
    once stale (``whatif.actions.fail_stale_runs``).
    """

    def __init__(self) -> None:
        self.waiting: queue.Queue[tuple[contextvars.Context, uuid.UUID]] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def submit(self, run_id: uuid.UUID) -> None:
        """Run ``run_id``'s flow after those handed over before it."""
        self.waiting.put((contextvars.copy_context(), run_id))
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._work, name="what-if", daemon=True)
                self.thread.start()

    def _work(self) -> None:
        while True:
            context, run_id = self.waiting.get()
            try:
                context.run(what_if_flow, run_id=run_id)
            except Exception:
                log.exception("what-if flow %s raised", run_id)
            finally:
                self.waiting.task_done()

    def join(self) -> None:
        """Wait until every run handed over has finished (tests)."""
        self.waiting.join()


RUNNER = Runner()


def dispatch(_message_id: uuid.UUID, payload: dict[str, Any]) -> None:
    """The relay's handler of a what-if message: submit the deployment (distributed mode;
    the run's id as idempotency key: one flow run per what-if), else hand it to ``RUNNER``."""
    run_id = uuid.UUID(str(payload["run_id"]))
    if get_settings().flow_mode == "deployments":
        deployments.submit("what-if", {"run_id": str(run_id)}, key=f"what-if:{run_id}")
        return
    RUNNER.submit(run_id)
