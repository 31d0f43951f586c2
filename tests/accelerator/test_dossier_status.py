"""Every (from, to) pair of dossier statuses against the lifecycle written in docs/domain.md."""

from __future__ import annotations

import itertools

import pytest

from accelerator.dossiers.status import (
    LABELS,
    DossierStatus,
    can_transition,
    check_move,
    check_return,
    check_transition,
    is_return,
)
from accelerator.shared.errors import InvalidTransition

#: Written independently of ``TRANSITIONS``: draft → filed → taken in charge → consulting →
#: consolidated → closed; awaiting holder is a side state that returns where it came from;
#: a consolidated dossier may go back to consulting for a new review cycle; closed and
#: withdrawn are final.
ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        ("draft", "filed"),
        ("draft", "withdrawn"),
        ("filed", "taken_in_charge"),
        ("filed", "awaiting_holder"),
        ("filed", "withdrawn"),
        ("taken_in_charge", "consulting"),
        ("taken_in_charge", "awaiting_holder"),
        ("taken_in_charge", "withdrawn"),
        ("consulting", "consolidated"),
        ("consulting", "awaiting_holder"),
        ("consulting", "withdrawn"),
        ("awaiting_holder", "filed"),
        ("awaiting_holder", "taken_in_charge"),
        ("awaiting_holder", "consulting"),
        ("awaiting_holder", "withdrawn"),
        ("consolidated", "closed"),
        ("consolidated", "consulting"),
    }
)

STATUS_VALUES = [
    "draft",
    "filed",
    "taken_in_charge",
    "consulting",
    "awaiting_holder",
    "consolidated",
    "closed",
    "withdrawn",
]

PAIRS = [
    pytest.param(DossierStatus(a), DossierStatus(b), id=f"{a}->{b}")
    for a, b in itertools.product(STATUS_VALUES, STATUS_VALUES)
]


def test_the_status_enum_has_exactly_the_documented_statuses() -> None:
    assert sorted(s.value for s in DossierStatus) == sorted(STATUS_VALUES)


def test_every_status_has_a_french_label() -> None:
    assert set(LABELS) == set(DossierStatus)
    assert all(label.strip() for label in LABELS.values())
    assert len(set(LABELS.values())) == len(LABELS)


@pytest.mark.parametrize(("current", "target"), PAIRS)
def test_can_transition_matches_the_lifecycle(
    current: DossierStatus, target: DossierStatus
) -> None:
    assert can_transition(current, target) is ((current.value, target.value) in ALLOWED)


@pytest.mark.parametrize(("current", "target"), PAIRS)
def test_check_transition_accepts_allowed_and_refuses_others_in_french(
    current: DossierStatus, target: DossierStatus
) -> None:
    if (current.value, target.value) in ALLOWED:
        assert check_transition(current, target) is None
        return
    with pytest.raises(InvalidTransition) as caught:
        check_transition(current, target)
    message = caught.value.message
    assert f"« {LABELS[current]} »" in message
    assert f"« {LABELS[target]} »" in message
    assert message.startswith("Le dossier est")
    assert caught.value.status_code == 409


@pytest.mark.parametrize("status", list(DossierStatus), ids=str)
def test_no_status_may_transition_to_itself(status: DossierStatus) -> None:
    assert not can_transition(status, status)
    with pytest.raises(InvalidTransition):
        check_transition(status, status)


@pytest.mark.parametrize("final", [DossierStatus.CLOSED, DossierStatus.WITHDRAWN], ids=str)
def test_closed_and_withdrawn_are_final(final: DossierStatus) -> None:
    assert [t for t in DossierStatus if can_transition(final, t)] == []


def test_a_consolidated_dossier_can_open_a_new_review_cycle() -> None:
    assert can_transition(DossierStatus.CONSOLIDATED, DossierStatus.CONSULTING)


def test_the_refusal_message_names_both_labels_literally() -> None:
    with pytest.raises(InvalidTransition) as caught:
        check_transition(DossierStatus.CLOSED, DossierStatus.FILED)
    assert caught.value.message == "Le dossier est « clos » : il ne peut pas passer à « déposé »."


#: Independent statement of the side state: awaiting holder goes back only to where it came
#: from (one of these), and only the answer that ends the wait knows where (``came_from``).
RETURN_TARGETS = {"filed", "taken_in_charge", "consulting"}
CAME_FROM = [None, *STATUS_VALUES]


def _move_allowed(current: str, target: str, came_from: str | None) -> bool:
    if (current, target) not in ALLOWED:
        return False
    if current == "awaiting_holder" and target in RETURN_TARGETS:
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
    origin = None if came_from is None else DossierStatus(came_from)
    if _move_allowed(current, target, came_from):
        assert check_move(DossierStatus(current), DossierStatus(target), came_from=origin) is None
        return
    with pytest.raises(InvalidTransition) as caught:
        check_move(DossierStatus(current), DossierStatus(target), came_from=origin)
    assert caught.value.message.startswith("Le dossier est")
    assert caught.value.status_code == 409


def test_a_waiting_dossier_is_not_taken_in_charge_again() -> None:
    with pytest.raises(InvalidTransition) as caught:
        check_move(DossierStatus.AWAITING_HOLDER, DossierStatus.TAKEN_IN_CHARGE)
    assert caught.value.message == (
        "Le dossier est « en attente du porteur » : il ne reprend son cours qu'à la réception "
        "des compléments demandés au porteur."
    )
    with pytest.raises(InvalidTransition) as caught:
        check_return(
            DossierStatus.AWAITING_HOLDER,
            DossierStatus.TAKEN_IN_CHARGE,
            came_from=DossierStatus.CONSULTING,
        )
    assert "« en consultation »" in caught.value.message


def test_leaving_the_side_state_for_good_is_not_a_return() -> None:
    assert not is_return(DossierStatus.AWAITING_HOLDER, DossierStatus.WITHDRAWN)
    check_move(DossierStatus.AWAITING_HOLDER, DossierStatus.WITHDRAWN)
    assert {s.value for s in DossierStatus if is_return(DossierStatus.AWAITING_HOLDER, s)} == (
        RETURN_TARGETS
    )
    assert not any(is_return(DossierStatus.CONSULTING, s) for s in DossierStatus)
