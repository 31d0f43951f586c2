"""Consolidation: many opinions → one outcome (most severe wins; binding refusal decides)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accelerator.consultations.consolidation import Opinion, consolidate
from accelerator.consultations.status import OpinionNature

#: Most severe first, written independently of ``SEVERITY`` (docs/domain.md).
ORDER = ["unfavourable", "favourable_with_prescriptions", "favourable", "no_opinion"]
RANK = {nature: len(ORDER) - index for index, nature in enumerate(ORDER)}


def _more_severe(a: str, b: str) -> str:
    return a if ORDER.index(a) <= ORDER.index(b) else b


@pytest.mark.parametrize(
    ("first", "second"),
    [pytest.param(a, b, id=f"{a}+{b}") for a, b in itertools.product(ORDER, ORDER)],
)
def test_the_most_severe_nature_wins_for_every_pair(first: str, second: str) -> None:
    outcome = consolidate([Opinion("DDT-65", first), Opinion("SDIS-65", second)])
    assert outcome.nature == _more_severe(first, second)
    assert outcome.binding is False
    assert outcome.decided_by is None


def test_the_severity_order_is_strict() -> None:
    for more, less in itertools.pairwise(ORDER):
        assert consolidate([Opinion("A", less), Opinion("B", more)]).nature == more


def test_a_binding_unfavourable_opinion_decides() -> None:
    outcome = consolidate(
        [
            Opinion("SDIS-65", "favourable"),
            Opinion("UDAP-65", "unfavourable", binding=True),
            Opinion("DDT-65", "favourable_with_prescriptions"),
        ]
    )
    assert outcome.nature is OpinionNature.UNFAVOURABLE
    assert outcome.binding is True
    assert outcome.decided_by == "UDAP-65"
    assert "UDAP-65" in outcome.summary
    assert "liant" in outcome.summary


def test_two_binding_refusals_are_both_named_and_the_first_code_decides() -> None:
    outcome = consolidate(
        [
            Opinion("UDAP-65", "unfavourable", binding=True),
            Opinion("DRAC-CRMH", "unfavourable", binding=True),
        ]
    )
    assert outcome.decided_by == "DRAC-CRMH"
    assert "DRAC-CRMH, UDAP-65" in outcome.summary


def test_a_non_binding_unfavourable_opinion_is_unfavourable_but_does_not_decide() -> None:
    outcome = consolidate(
        [Opinion("SDIS-65", "unfavourable"), Opinion("UDAP-65", "favourable", binding=True)]
    )
    assert outcome.nature is OpinionNature.UNFAVOURABLE
    assert outcome.binding is False
    assert outcome.decided_by is None


def test_a_binding_favourable_opinion_does_not_decide() -> None:
    outcome = consolidate(
        [
            Opinion("UDAP-65", "favourable", binding=True),
            Opinion("DDT-65", "favourable_with_prescriptions"),
        ]
    )
    assert outcome.nature is OpinionNature.FAVOURABLE_WITH_PRESCRIPTIONS
    assert outcome.binding is False
    assert outcome.decided_by is None


def test_no_opinion_at_all_gives_no_opinion() -> None:
    outcome = consolidate([])
    assert outcome.nature is OpinionNature.NO_OPINION
    assert outcome.binding is False
    assert outcome.decided_by is None
    assert outcome.summary == "Aucun avis exprimé."


def test_tacit_opinions_are_counted_in_the_summary() -> None:
    outcome = consolidate(
        [
            Opinion("SDIS-65", "favourable", tacit=True),
            Opinion("DDT-65", "favourable"),
            Opinion("OFB", "no_opinion", tacit=True),
        ]
    )
    assert outcome.nature is OpinionNature.FAVOURABLE
    assert outcome.summary.endswith("3 avis dont 2 tacite(s).")
    assert "DDT-65, SDIS-65" in outcome.summary


def test_without_tacit_opinions_the_summary_only_counts_them() -> None:
    outcome = consolidate([Opinion("SDIS-65", "favourable"), Opinion("DDT-65", "favourable")])
    assert outcome.summary.endswith("; 2 avis.")
    assert "tacite" not in outcome.summary


opinions = st.lists(
    st.builds(
        Opinion,
        administration=st.sampled_from(["DDT-65", "SDIS-65", "UDAP-65", "OFB", "ARS-DD65"]),
        nature=st.sampled_from(ORDER),
        binding=st.booleans(),
        tacit=st.booleans(),
    ),
    max_size=8,
)


@given(opinions)
def test_the_outcome_is_the_most_severe_input(items: list[Opinion]) -> None:
    outcome = consolidate(items)
    expected = max((o.nature for o in items), key=RANK.__getitem__, default="no_opinion")
    assert outcome.nature == expected
    decides = any(o.binding and o.nature == "unfavourable" for o in items)
    assert outcome.binding is decides
    assert (outcome.decided_by is not None) is decides


@given(st.data(), opinions)
def test_the_outcome_does_not_depend_on_input_order(
    data: st.DataObject, items: list[Opinion]
) -> None:
    shuffled = data.draw(st.permutations(items))
    assert consolidate(shuffled) == consolidate(items)
