"""Read side of routing: the rules in force, as pure values for `rules.route`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.catalogue.models import (
    RoutingRule,
)
from accelerator.routing.rules import Rule, RuleTarget


def routing_rules(session: Session) -> list[Rule]:
    """Every routing rule, as pure values, by rank."""
    return [
        Rule(
            code=row.code,
            rank=row.rank,
            label=row.label,
            condition=row.condition,
            targets=tuple(
                RuleTarget(t["administration"], t["consultation_type"]) for t in row.targets
            ),
        )
        for row in session.scalars(select(RoutingRule).order_by(RoutingRule.rank))
    ]
