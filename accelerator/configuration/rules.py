"""Pure checks of what an administrator writes: a routing rule's condition, against the
facts a dossier may carry (``dossiers.schemas.DossierAttributes``).

A condition is a tree the routing rules evaluate (``routing.rules.evaluate``): ``any`` / ``all``
(a list of conditions), ``not`` (one condition), or a fact: ``{"attr": name}`` (the fact is
true), ``{"attr": name, "eq": value}``, ``{"attr": name, "gte": number}`` (``gt``, ``lt``,
``lte``). A condition naming a fact no dossier has, or comparing it with the wrong kind of
value, would silently never match: it is refused instead.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from accelerator.dossiers.schemas import DossierAttributes
from accelerator.routing.rules import COMPARISONS
from accelerator.shared.text import t

#: How deep a condition may nest, and how many parts an ``any``/``all`` may hold.
MAX_DEPTH = 5
MAX_PARTS = 20


@dataclass(frozen=True)
class Fact:
    """A dossier fact a condition may name: a yes/no, a number, or one of fixed choices."""

    kind: Literal["flag", "number", "choice"]
    choices: frozenset[str] = frozenset()


def dossier_facts() -> dict[str, Fact]:
    """The facts of ``DossierAttributes``, by name, with their kind."""
    facts: dict[str, Fact] = {}
    for name, info in DossierAttributes.model_fields.items():
        annotation = info.annotation
        if annotation is bool:
            facts[name] = Fact("flag")
            continue
        inner = next((a for a in typing.get_args(annotation) if a is not type(None)), None)
        if typing.get_origin(inner) is Literal:
            facts[name] = Fact("choice", frozenset(str(v) for v in typing.get_args(inner)))
        elif inner is not None and float in (inner, *typing.get_args(inner)):
            facts[name] = Fact("number")
    return facts


class ConditionRefused(ValueError):
    """A condition that cannot be a routing rule's (its message is in French)."""


def check_condition(
    condition: object, facts: Mapping[str, Fact], *, depth: int = 1
) -> dict[str, Any]:
    """``condition`` if it is a well-formed tree over ``facts``; ``ConditionRefused``."""
    if depth > MAX_DEPTH:
        raise ConditionRefused(t("configuration.condition.too_deep", depth=MAX_DEPTH))
    if not isinstance(condition, dict) or not condition:
        raise ConditionRefused(t("configuration.condition.not_object"))
    for combinator in ("any", "all"):
        if combinator in condition:
            parts = condition[combinator]
            if set(condition) != {combinator}:
                raise ConditionRefused(t("configuration.condition.alone", name=combinator))
            if not isinstance(parts, list) or not 1 <= len(parts) <= MAX_PARTS:
                raise ConditionRefused(
                    t("configuration.condition.parts", name=combinator, most=MAX_PARTS)
                )
            return {combinator: [check_condition(p, facts, depth=depth + 1) for p in parts]}
    if "not" in condition:
        if set(condition) != {"not"}:
            raise ConditionRefused(t("configuration.condition.alone", name="not"))
        return {"not": check_condition(condition["not"], facts, depth=depth + 1)}
    name = condition.get("attr")
    if not isinstance(name, str) or name not in facts:
        raise ConditionRefused(
            t("configuration.condition.unknown_fact", name=str(name)[:64], known=", ".join(facts))
        )
    fact = facts[name]
    tests = set(condition) - {"attr"}
    if len(tests) > 1 or not tests <= {"eq", *COMPARISONS}:
        raise ConditionRefused(t("configuration.condition.one_test", name=name))
    if not tests:
        if fact.kind != "flag":
            raise ConditionRefused(t("configuration.condition.needs_test", name=name))
        return {"attr": name}
    test = tests.pop()
    value = condition[test]
    if test in COMPARISONS:
        if fact.kind != "number" or isinstance(value, bool) or not isinstance(value, int | float):
            raise ConditionRefused(t("configuration.condition.number_expected", name=name))
    elif fact.kind == "flag" and not isinstance(value, bool):
        raise ConditionRefused(t("configuration.condition.flag_expected", name=name))
    elif fact.kind == "choice" and value not in fact.choices:
        raise ConditionRefused(
            t(
                "configuration.condition.choice_expected",
                name=name,
                choices=", ".join(sorted(fact.choices)),
            )
        )
    elif fact.kind == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ConditionRefused(t("configuration.condition.number_expected", name=name))
    return {"attr": name, test: value}
