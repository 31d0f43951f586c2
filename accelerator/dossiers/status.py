"""Dossier statuses and the transitions allowed between them (pure rules)."""

from __future__ import annotations

from enum import StrEnum

from accelerator.errors import InvalidTransition


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
    S.DRAFT: "brouillon",
    S.FILED: "déposé",
    S.TAKEN_IN_CHARGE: "pris en charge",
    S.CONSULTING: "en consultation",
    S.AWAITING_HOLDER: "en attente du porteur",
    S.CONSOLIDATED: "avis consolidé",
    S.CLOSED: "clos",
    S.WITHDRAWN: "retiré",
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
            f"Le dossier est « {LABELS[current]} » : il ne peut pas passer à « {LABELS[target]} »."
        )
