"""Routing as pure rules: a dossier's attributes → every administration to consult, and why.

ALL matching rules apply, not the first. When several rules name the same administration it is
consulted once; the lowest-ranked matching rule decides its consultation type, and every
matching rule is kept so the référent can see why.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}

#: Target placeholder resolved from the commune's arrondissement (préfecture or sous-préfecture).
GRANT_AUTHORITY = "@grant_authority"


@dataclass(frozen=True)
class RuleTarget:
    """One administration a rule sends the dossier to, with the consultation type."""

    administration: str
    consultation_type: str


@dataclass(frozen=True)
class Rule:
    """A routing rule as loaded from the catalogue."""

    code: str
    rank: int
    label: str
    condition: Mapping[str, Any]
    targets: tuple[RuleTarget, ...]


@dataclass(frozen=True)
class Match:
    """An administration to consult and the rules that asked for it (first decides the type)."""

    administration: str
    consultation_type: str
    rule: str
    rules: tuple[str, ...]
    rank: int


def evaluate(condition: Mapping[str, Any], attributes: Mapping[str, Any]) -> bool:
    """Whether ``attributes`` satisfy ``condition`` (``any``/``all``/``not``/``attr``)."""
    if "any" in condition:
        return any(evaluate(part, attributes) for part in condition["any"])
    if "all" in condition:
        return all(evaluate(part, attributes) for part in condition["all"])
    if "not" in condition:
        return not evaluate(condition["not"], attributes)
    value = attributes.get(condition["attr"])
    if "eq" in condition:
        return bool(value == condition["eq"])
    for name, compare in COMPARISONS.items():
        if name in condition:
            return value is not None and bool(compare(value, condition[name]))
    return bool(value)


def route(
    rules: Sequence[Rule], attributes: Mapping[str, Any], *, grant_authority: str
) -> list[Match]:
    """Every administration to consult, ordered by the rank of the first rule naming it."""
    found: dict[str, Match] = {}
    for rule in sorted(rules, key=lambda r: (r.rank, r.code)):
        if not evaluate(rule.condition, attributes):
            continue
        for target in rule.targets:
            code = (
                grant_authority
                if target.administration == GRANT_AUTHORITY
                else target.administration
            )
            existing = found.get(code)
            if existing is None:
                found[code] = Match(
                    code, target.consultation_type, rule.code, (rule.code,), rule.rank
                )
            elif rule.code not in existing.rules:
                found[code] = Match(
                    code,
                    existing.consultation_type,
                    existing.rule,
                    (*existing.rules, rule.code),
                    existing.rank,
                )
    return sorted(found.values(), key=lambda m: (m.rank, m.administration))
