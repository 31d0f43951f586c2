"""Route a filed dossier: record every administration the rules say must be consulted."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.catalogue.models import Arrondissement
from accelerator.catalogue.queries import commune_arrondissement, default_grant_authority
from accelerator.dossiers.models import Dossier, ProposedAdministration
from accelerator.history.actions import record
from accelerator.history.actor import Actor
from accelerator.routing.queries import routing_rules
from accelerator.routing.rules import Rule, route
from accelerator.shared.errors import NotFound
from accelerator.shared.text import t


def route_dossier(
    session: Session, *, dossier_id: uuid.UUID, now: dt.datetime
) -> list[ProposedAdministration]:
    """Compute and store the proposal once; a second call returns the stored proposal."""
    dossier = session.scalar(select(Dossier).where(Dossier.id == dossier_id).with_for_update())
    if dossier is None:
        raise NotFound(t("dossier.not_found_id", dossier_id=dossier_id))
    if dossier.routed_at is not None:
        return list_proposal(session, dossier.id)
    arrondissement = commune_arrondissement(session, dossier.commune_insee)
    return route_locked_dossier(session, dossier, arrondissement=arrondissement, now=now)


def route_locked_dossier(
    session: Session,
    dossier: Dossier,
    *,
    arrondissement: Arrondissement | None,
    now: dt.datetime,
    rules: list[Rule] | None = None,
) -> list[ProposedAdministration]:
    """:func:`route_dossier` for a dossier the caller has locked, with its commune's
    arrondissement (None: a commune the catalogue lacks); the routing ``rules`` may be
    preloaded."""
    if dossier.routed_at is not None:
        return list_proposal(session, dossier.id)
    grant_authority = (
        arrondissement.grant_authority if arrondissement else default_grant_authority()
    )
    if rules is None:
        rules = routing_rules(session)
    matches = route(rules, dossier.attributes, grant_authority=grant_authority)
    labels = {rule.code: rule.label for rule in rules}
    proposal = [
        ProposedAdministration(
            dossier_id=dossier.id,
            administration_code=m.administration,
            consultation_type_code=m.consultation_type,
            rule_code=m.rule,
            rule_codes=list(m.rules),
            rank=m.rank,
        )
        for m in matches
    ]
    session.add_all(proposal)
    dossier.routed_at = now
    record(
        session,
        dossier_id=dossier.id,
        actor=Actor.flow("intake"),
        at=now,
        entity="dossier",
        event="routed",
        message=(
            t("routing.administrations_to_consult")
            + "; ".join(f"{m.administration} ({labels.get(m.rule, m.rule)})" for m in matches)
            + "."
            if matches
            else t("routing.no_rule")
        ),
        details={
            "matches": [
                {"administration": m.administration, "rules": list(m.rules)} for m in matches
            ]
        },
    )
    return proposal


def list_proposal(session: Session, dossier_id: uuid.UUID) -> list[ProposedAdministration]:
    """The stored proposal of a dossier, in rule order."""
    return list(
        session.scalars(
            select(ProposedAdministration)
            .where(ProposedAdministration.dossier_id == dossier_id)
            .order_by(ProposedAdministration.rank, ProposedAdministration.administration_code)
        )
    )
