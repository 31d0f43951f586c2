"""Consolidation as a pure rule: many opinions → one outcome.

The most severe nature wins (unfavourable > favourable with prescriptions > favourable >
no opinion); a binding unfavourable opinion (e.g. the ABF's refused accord) decides the outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from accelerator.consultations.status import NATURE_LABELS, SEVERITY, OpinionNature
from accelerator.shared.text import t


@dataclass(frozen=True)
class Opinion:
    """One administration's opinion as consolidation sees it."""

    administration: str
    nature: str
    binding: bool = False
    tacit: bool = False


@dataclass(frozen=True)
class Outcome:
    """The consolidated answer."""

    nature: OpinionNature
    binding: bool
    decided_by: str | None
    summary: str


def consolidate(opinions: Sequence[Opinion]) -> Outcome:
    """The outcome of ``opinions`` (no opinion at all gives ``no_opinion``)."""
    binding_refusals = sorted(
        o.administration
        for o in opinions
        if o.binding and OpinionNature(o.nature) is OpinionNature.UNFAVOURABLE
    )
    if binding_refusals:
        first = binding_refusals[0]
        return Outcome(
            OpinionNature.UNFAVOURABLE,
            True,
            first,
            t("consolidation.binding_refusal", administrations=", ".join(binding_refusals)),
        )
    if not opinions:
        return Outcome(OpinionNature.NO_OPINION, False, None, t("consolidation.no_opinion"))
    worst = max(opinions, key=lambda o: (SEVERITY[OpinionNature(o.nature)], o.administration))
    nature = OpinionNature(worst.nature)
    same = sorted(o.administration for o in opinions if OpinionNature(o.nature) is nature)
    tacit = sum(1 for o in opinions if o.tacit)
    summary = t(
        "consolidation.summary", nature=NATURE_LABELS[nature], administrations=", ".join(same)
    )
    summary += (
        t("consolidation.count_with_tacit", count=len(opinions), tacit=tacit)
        if tacit
        else t("consolidation.count", count=len(opinions))
    )
    return Outcome(nature, False, None, summary)
