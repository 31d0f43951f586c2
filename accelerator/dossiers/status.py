"""Dossier statuses and the transitions allowed between them (pure rules)."""

from __future__ import annotations

from enum import StrEnum

from accelerator.shared.errors import InvalidTransition
from accelerator.shared.text import t


class DossierStatus(StrEnum):
    """Where a dossier stands in its lifecycle."""

    DRAFT = "draft"
    FILED = "filed"
    TAKEN_IN_CHARGE = "taken_in_charge"
    CONSULTING = "consulting"
    AWAITING_HOLDER = "awaiting_holder"
    CONSOLIDATED = "consolidated"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


S = DossierStatus

#: FROM -> allowed TOs. ``awaiting_holder`` is a side state: the dossier returns to the status
#: it left. A consolidated dossier may go back to consulting for a new review cycle.
TRANSITIONS: dict[DossierStatus, frozenset[DossierStatus]] = {
    S.DRAFT: frozenset({S.FILED, S.WITHDRAWN}),
    S.FILED: frozenset({S.TAKEN_IN_CHARGE, S.AWAITING_HOLDER, S.WITHDRAWN}),
    S.TAKEN_IN_CHARGE: frozenset({S.CONSULTING, S.AWAITING_HOLDER, S.WITHDRAWN}),
    S.CONSULTING: frozenset({S.CONSOLIDATED, S.AWAITING_HOLDER, S.WITHDRAWN}),
    S.AWAITING_HOLDER: frozenset({S.FILED, S.TAKEN_IN_CHARGE, S.CONSULTING, S.WITHDRAWN}),
    S.CONSOLIDATED: frozenset({S.CLOSED, S.CONSULTING}),
    S.CLOSED: frozenset(),
    S.WITHDRAWN: frozenset(),
}

LABELS: dict[DossierStatus, str] = {
    S.DRAFT: t("dossier.status.draft"),
    S.FILED: t("dossier.status.filed"),
    S.TAKEN_IN_CHARGE: t("dossier.status.taken_in_charge"),
    S.CONSULTING: t("dossier.status.consulting"),
    S.AWAITING_HOLDER: t("dossier.status.awaiting_holder"),
    S.CONSOLIDATED: t("dossier.status.consolidated"),
    S.CLOSED: t("dossier.status.closed"),
    S.WITHDRAWN: t("dossier.status.withdrawn"),
}

#: Statuses in which a référent is actively working the dossier (their load).
ACTIVE: frozenset[DossierStatus] = frozenset(
    {S.FILED, S.TAKEN_IN_CHARGE, S.CONSULTING, S.AWAITING_HOLDER, S.CONSOLIDATED}
)


def can_transition(current: DossierStatus, target: DossierStatus) -> bool:
    """Whether a dossier in ``current`` may move to ``target``."""
    return target in TRANSITIONS[current]


def check_transition(current: DossierStatus, target: DossierStatus) -> None:
    """Raise ``InvalidTransition`` with a French message unless the move is allowed."""
    if not can_transition(current, target):
        raise InvalidTransition(
            t("dossier.transition_refused", current=LABELS[current], target=LABELS[target])
        )


#: Side states and the main statuses they may go back to. Leaving a side state for one of
#: these is a RETURN: allowed only to the status the dossier had when it entered the side
#: state (its ``came_from``), so that no action can use the side state to jump elsewhere (a
#: dossier that was consulting never comes back "taken in charge" by another référent).
#: Leaving it for another status of the table (withdrawn) is not a return.
RETURNS: dict[DossierStatus, frozenset[DossierStatus]] = {
    S.AWAITING_HOLDER: frozenset({S.FILED, S.TAKEN_IN_CHARGE, S.CONSULTING}),
}


def is_return(current: DossierStatus, target: DossierStatus) -> bool:
    """Whether moving from ``current`` to ``target`` is a return from a side state."""
    return target in RETURNS.get(current, frozenset())


def check_return(
    current: DossierStatus, target: DossierStatus, came_from: DossierStatus | None
) -> None:
    """Refuse (``InvalidTransition``) a return from a side state elsewhere than ``came_from``.

    ``came_from`` is None when the caller is not the action that ends the side state (the
    answer to the request): such a caller may not leave the side state at all.
    """
    if not is_return(current, target) or came_from == target:
        return
    if came_from is None:
        raise InvalidTransition(t("dossier.return_awaits_information", current=LABELS[current]))
    raise InvalidTransition(
        t("dossier.return_only_to", current=LABELS[current], came_from=LABELS[came_from])
    )


def check_move(
    current: DossierStatus, target: DossierStatus, *, came_from: DossierStatus | None = None
) -> None:
    """The whole rule of a status change: the table, then the return from a side state."""
    check_transition(current, target)
    check_return(current, target, came_from)
