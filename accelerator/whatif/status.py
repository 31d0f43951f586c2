"""A what-if run's statuses and the moves allowed between them (pure rules)."""

from __future__ import annotations

from enum import StrEnum

from accelerator.shared.errors import InvalidTransition
from accelerator.shared.text import t


class RunStatus(StrEnum):
    """Where a what-if run stands."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


S = RunStatus

#: FROM -> allowed TOs. A queued run may fail without starting (its scenario no longer
#: valid, the reconciliation giving up on it); a finished run never moves again.
TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    S.QUEUED: frozenset({S.RUNNING, S.FAILED}),
    S.RUNNING: frozenset({S.DONE, S.FAILED}),
    S.DONE: frozenset(),
    S.FAILED: frozenset(),
}

#: Not finished yet: these count against the number of runs that may wait at once.
WAITING: frozenset[RunStatus] = frozenset({S.QUEUED, S.RUNNING})

LABEL_KEYS: dict[RunStatus, str] = {
    S.QUEUED: "whatif.status.queued",
    S.RUNNING: "whatif.status.running",
    S.DONE: "whatif.status.done",
    S.FAILED: "whatif.status.failed",
}


def check_transition(current: RunStatus, target: RunStatus) -> None:
    """Raise ``InvalidTransition`` with a French message unless the move is allowed."""
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(
            t(
                "whatif.transition_refused",
                current=t(LABEL_KEYS[current]),
                target=t(LABEL_KEYS[target]),
            )
        )
