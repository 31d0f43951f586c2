"""Every (from, to) pair of consultation statuses against the lifecycle of docs/domain.md."""

from __future__ import annotations

import itertools

import pytest

from accelerator.consultations.status import (
    FINISHED,
    LABELS,
    ConsultationStatus,
    can_transition,
    check_move,
    check_return,
    check_transition,
    is_return,
)
from accelerator.shared.errors import InvalidTransition

#: Written independently of ``TRANSITIONS``. A paused consultation (awaiting information) has
#: no deadline so it cannot turn tacit, but it may be answered without resuming first; it
#: goes back to sent or acknowledged (whichever it left, see the return tests below).
ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        ("sent", "acknowledged"),
        ("sent", "awaiting_information"),
        ("sent", "answered"),
        ("sent", "tacit"),
        ("sent", "cancelled"),
        ("acknowledged", "awaiting_information"),
        ("acknowledged", "answered"),
        ("acknowledged", "tacit"),
        ("acknowledged", "cancelled"),
        ("awaiting_information", "sent"),
        ("awaiting_information", "acknowledged"),
        ("awaiting_information", "answered"),
        ("awaiting_information", "cancelled"),
    }
)

STATUS_VALUES = [
    "sent",
    "acknowledged",
    "awaiting_information",
    "answered",
    "tacit",
    "cancelled",
]

PAIRS = [
    pytest.param(ConsultationStatus(a), ConsultationStatus(b), id=f"{a}->{b}")
    for a, b in itertools.product(STATUS_VALUES, STATUS_VALUES)
]


def test_the_status_enum_has_exactly_the_documented_statuses() -> None:
    assert sorted(s.value for s in ConsultationStatus) == sorted(STATUS_VALUES)


def test_every_status_has_a_distinct_french_label() -> None:
    assert set(LABELS) == set(ConsultationStatus)
    assert len(set(LABELS.values())) == len(LABELS)


@pytest.mark.parametrize(("current", "target"), PAIRS)
def test_can_transition_matches_the_lifecycle(
    current: ConsultationStatus, target: ConsultationStatus
) -> None:
    assert can_transition(current, target) is ((current.value, target.value) in ALLOWED)


@pytest.mark.parametrize(("current", "target"), PAIRS)
def test_check_transition_accepts_allowed_and_refuses_others_in_french(
    current: ConsultationStatus, target: ConsultationStatus
) -> None:
    if (current.value, target.value) in ALLOWED:
        assert check_transition(current, target) is None
        return
    with pytest.raises(InvalidTransition) as caught:
        check_transition(current, target)
    message = caught.value.message
    assert f"« {LABELS[current]} »" in message
    assert f"« {LABELS[target]} »" in message
    assert message.startswith("La consultation est")
    assert caught.value.status_code == 409


@pytest.mark.parametrize("status", list(ConsultationStatus), ids=str)
def test_no_status_may_transition_to_itself(status: ConsultationStatus) -> None:
    assert not can_transition(status, status)
    with pytest.raises(InvalidTransition):
        check_transition(status, status)


def test_a_paused_consultation_cannot_turn_tacit_but_can_be_answered() -> None:
    paused = ConsultationStatus.AWAITING_INFORMATION
    assert not can_transition(paused, ConsultationStatus.TACIT)
    assert can_transition(paused, ConsultationStatus.ANSWERED)


def test_finished_statuses_are_exactly_the_final_ones() -> None:
    final = {s for s in ConsultationStatus if not any(can_transition(s, t) for t in LABELS)}
    assert final == {"answered", "tacit", "cancelled"}
    assert set(FINISHED) == final


#: Independent statement of the side state: awaiting information goes back only to the status
#: it left (sent or acknowledged); acknowledging it meanwhile would hide the pause.
RETURN_TARGETS = {"sent", "acknowledged"}
CAME_FROM = [None, *STATUS_VALUES]


def _move_allowed(current: str, target: str, came_from: str | None) -> bool:
    if (current, target) not in ALLOWED:
        return False
    if current == "awaiting_information" and target in RETURN_TARGETS:
        return came_from == target
    return True


@pytest.mark.parametrize(
    ("current", "target", "came_from"),
    [
        pytest.param(a, b, c, id=f"{a}->{b}<-{c}")
        for a, b, c in itertools.product(STATUS_VALUES, STATUS_VALUES, CAME_FROM)
    ],
)
def test_check_move_returns_from_the_side_state_only_to_where_it_came_from(
    current: str, target: str, came_from: str | None
) -> None:
    origin = None if came_from is None else ConsultationStatus(came_from)
    move = (ConsultationStatus(current), ConsultationStatus(target))
    if _move_allowed(current, target, came_from):
        assert check_move(*move, came_from=origin) is None
        return
    with pytest.raises(InvalidTransition) as caught:
        check_move(*move, came_from=origin)
    assert caught.value.message.startswith("La consultation est")
    assert caught.value.status_code == 409


def test_acknowledging_a_consultation_awaiting_information_is_refused_in_french() -> None:
    with pytest.raises(InvalidTransition) as caught:
        check_move(ConsultationStatus.AWAITING_INFORMATION, ConsultationStatus.ACKNOWLEDGED)
    assert caught.value.message == (
        "La consultation est « en attente d'informations » : elle ne reprend son cours qu'à la "
        "réception des compléments demandés au porteur."
    )
    with pytest.raises(InvalidTransition) as caught:
        check_return(
            ConsultationStatus.AWAITING_INFORMATION,
            ConsultationStatus.ACKNOWLEDGED,
            came_from=ConsultationStatus.SENT,
        )
    assert "« envoyée »" in caught.value.message
    assert not is_return(ConsultationStatus.AWAITING_INFORMATION, ConsultationStatus.ANSWERED)
