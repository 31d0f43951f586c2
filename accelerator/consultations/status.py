"""Consultation statuses, opinion natures and their pure rules."""

from __future__ import annotations

from enum import StrEnum

from accelerator.shared.errors import InvalidTransition
from accelerator.shared.text import t


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
#: tacit; it may still be answered without being resumed first. Awaiting information is a
#: side state: it goes back to the status it left (sent or acknowledged, see ``RETURNS``).
TRANSITIONS: dict[ConsultationStatus, frozenset[ConsultationStatus]] = {
    C.SENT: frozenset({C.ACKNOWLEDGED, C.AWAITING_INFORMATION, C.ANSWERED, C.TACIT, C.CANCELLED}),
    C.ACKNOWLEDGED: frozenset({C.AWAITING_INFORMATION, C.ANSWERED, C.TACIT, C.CANCELLED}),
    C.AWAITING_INFORMATION: frozenset({C.SENT, C.ACKNOWLEDGED, C.ANSWERED, C.CANCELLED}),
    C.ANSWERED: frozenset(),
    C.TACIT: frozenset(),
    C.CANCELLED: frozenset(),
}

LABELS: dict[ConsultationStatus, str] = {
    C.SENT: t("consultation.status.sent"),
    C.ACKNOWLEDGED: t("consultation.status.acknowledged"),
    C.AWAITING_INFORMATION: t("consultation.status.awaiting_information"),
    C.ANSWERED: t("consultation.status.answered"),
    C.TACIT: t("consultation.status.tacit"),
    C.CANCELLED: t("consultation.status.cancelled"),
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
            t("consultation.transition_refused", current=LABELS[current], target=LABELS[target])
        )


#: Side states and the statuses they may go back to: a return goes only to the status the
#: consultation had when it entered the side state (``came_from``). Acknowledging a
#: consultation that awaits information would hide the pause: refused.
RETURNS: dict[ConsultationStatus, frozenset[ConsultationStatus]] = {
    C.AWAITING_INFORMATION: frozenset({C.SENT, C.ACKNOWLEDGED}),
}


def is_return(current: ConsultationStatus, target: ConsultationStatus) -> bool:
    """Whether moving from ``current`` to ``target`` is a return from a side state."""
    return target in RETURNS.get(current, frozenset())


def check_return(
    current: ConsultationStatus,
    target: ConsultationStatus,
    came_from: ConsultationStatus | None,
) -> None:
    """Refuse (``InvalidTransition``) a return from a side state elsewhere than ``came_from``.

    ``came_from`` is None when the caller is not the answer that ends the side state.
    """
    if not is_return(current, target) or came_from == target:
        return
    if came_from is None:
        raise InvalidTransition(
            t("consultation.return_awaits_information", current=LABELS[current])
        )
    raise InvalidTransition(
        t("consultation.return_only_to", current=LABELS[current], came_from=LABELS[came_from])
    )


def check_move(
    current: ConsultationStatus,
    target: ConsultationStatus,
    *,
    came_from: ConsultationStatus | None = None,
) -> None:
    """The whole rule of a status change: the table, then the return from a side state."""
    check_transition(current, target)
    check_return(current, target, came_from)


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
    N.FAVOURABLE: t("opinion.nature.favourable"),
    N.FAVOURABLE_WITH_PRESCRIPTIONS: t("opinion.nature.favourable_with_prescriptions"),
    N.UNFAVOURABLE: t("opinion.nature.unfavourable"),
    N.NO_OPINION: t("opinion.nature.no_opinion"),
}
