"""Choosing a référent: least loaded, ties to the alphabetical e-mail, nobody → None."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from accelerator.assignment.rules import Candidate, choose


def _candidate(email: str, load: int) -> Candidate:
    return Candidate(uuid.uuid5(uuid.NAMESPACE_DNS, email), email, load)


def test_the_least_loaded_candidate_wins() -> None:
    chosen = choose(
        [
            _candidate("alice@pref65.fr", 5),
            _candidate("bob@pref65.fr", 2),
            _candidate("chloe@pref65.fr", 3),
        ]
    )
    assert chosen is not None
    assert chosen.email == "bob@pref65.fr"


def test_a_tie_goes_to_the_first_email_in_alphabetical_order() -> None:
    chosen = choose(
        [
            _candidate("zoe@pref65.fr", 1),
            _candidate("marc@pref65.fr", 1),
            _candidate("anne@pref65.fr", 4),
        ]
    )
    assert chosen is not None
    assert chosen.email == "marc@pref65.fr"
    assert chosen.user_id == uuid.uuid5(uuid.NAMESPACE_DNS, "marc@pref65.fr")


def test_a_zero_load_beats_an_earlier_email() -> None:
    chosen = choose([_candidate("a@pref65.fr", 1), _candidate("b@pref65.fr", 0)])
    assert chosen is not None
    assert chosen.email == "b@pref65.fr"


def test_nobody_to_choose_gives_none() -> None:
    assert choose([]) is None


candidates = st.lists(
    st.builds(
        _candidate,
        email=st.text(alphabet="abcmxz.-", min_size=1, max_size=8).map(lambda s: f"{s}@pref65.fr"),
        load=st.integers(min_value=0, max_value=20),
    ),
    min_size=1,
    max_size=10,
    unique_by=lambda c: c.email,
)


@given(st.data(), candidates)
def test_the_choice_does_not_depend_on_input_order(
    data: st.DataObject, items: list[Candidate]
) -> None:
    shuffled = data.draw(st.permutations(items))
    assert choose(shuffled) == choose(items)


@given(candidates)
def test_the_choice_is_least_loaded_then_first_email(items: list[Candidate]) -> None:
    chosen = choose(items)
    assert chosen is not None
    assert chosen in items
    lowest = min(c.load for c in items)
    assert chosen.load == lowest
    assert chosen.email == sorted(c.email for c in items if c.load == lowest)[0]
