"""Consultation statuses, opinion natures and their pure rules."""

from __future__ import annotations

from enum import StrEnum

from accelerator.errors import InvalidTransition


class ConsultationStatus(StrEnum):
    """Where one administration's consultation stands."""

    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    AWAITING_INFORMATION = "awaiting_information"
    ANSWERED = "answered"
    TACIT = "tacit"
    CANCELLED = "cancelled"


C = ConsultationStatus

#: A paused consultation (awaiting information) has no known deadline, so it cannot turn
#: tacit; it may still be answered without being resumed first.
TRANSITIONS: dict[ConsultationStatus, frozenset[ConsultationStatus]] = {
    C.SENT: frozenset({C.ACKNOWLEDGED, C.AWAITING_INFORMATION, C.ANSWERED, C.TACIT, C.CANCELLED}),
    C.ACKNOWLEDGED: frozenset({C.AWAITING_INFORMATION, C.ANSWERED, C.TACIT, C.CANCELLED}),
    C.AWAITING_INFORMATION: frozenset({C.ACKNOWLEDGED, C.ANSWERED, C.CANCELLED}),
    C.ANSWERED: frozenset(),
    C.TACIT: frozenset(),
    C.CANCELLED: frozenset(),
}

LABELS: dict[ConsultationStatus, str] = {
    C.SENT: "envoyée",
    C.ACKNOWLEDGED: "accusée réception",
    C.AWAITING_INFORMATION: "en attente d'informations",
    C.ANSWERED: "avis rendu",
    C.TACIT: "avis tacite",
    C.CANCELLED: "annulée",
}

#: Statuses in which the administration has finished (its opinion is known or moot).
FINISHED: frozenset[ConsultationStatus] = frozenset({C.ANSWERED, C.TACIT, C.CANCELLED})


def can_transition(current: ConsultationStatus, target: ConsultationStatus) -> bool:
    """Whether a consultation in ``current`` may move to ``target``."""
    return target in TRANSITIONS[current]


def check_transition(current: ConsultationStatus, target: ConsultationStatus) -> None:
    """Raise ``InvalidTransition`` with a French message unless the move is allowed."""
    if not can_transition(current, target):
        raise InvalidTransition(
            f"La consultation est « {LABELS[current]} » : "
            f"elle ne peut pas passer à « {LABELS[target]} »."
        )


class OpinionNature(StrEnum):
    """The nature of an opinion, as in Plat'AU."""

    FAVOURABLE = "favourable"
    FAVOURABLE_WITH_PRESCRIPTIONS = "favourable_with_prescriptions"
    UNFAVOURABLE = "unfavourable"
    NO_OPINION = "no_opinion"


N = OpinionNature

#: Higher is more severe; consolidation keeps the most severe nature.
SEVERITY: dict[OpinionNature, int] = {
    N.NO_OPINION: 0,
    N.FAVOURABLE: 1,
    N.FAVOURABLE_WITH_PRESCRIPTIONS: 2,
    N.UNFAVOURABLE: 3,
}

NATURE_LABELS: dict[OpinionNature, str] = {
    N.FAVOURABLE: "favorable",
    N.FAVOURABLE_WITH_PRESCRIPTIONS: "favorable avec prescriptions",
    N.UNFAVOURABLE: "défavorable",
    N.NO_OPINION: "sans avis",
}
