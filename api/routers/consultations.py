"""Consultations: agents acknowledge and give their administration's opinion."""

from __future__ import annotations

from typing import Any

from fastapi import Query
from sqlalchemy import select

from accelerator.access import access_consultation, require_role
from accelerator.consultations import actions
from accelerator.consultations.queries import build_views, list_consultations
from accelerator.consultations.schemas import ConsultationOut, OpinionIn
from accelerator.consultations.status import ConsultationStatus
from accelerator.db import utcnow
from accelerator.dossiers.models import Dossier
from accelerator.identity.roles import Role
from accelerator.validation import MAX_OFFSET
from api.deps import CurrentUser, IfMatch, SessionDep, parse_id
from api.idempotency import idempotent
from api.unit_of_work import Router

router = Router(prefix="/api/v1/consultations", tags=["consultations"])

VIEWERS = (Role.AGENT, Role.REFERENT, Role.MANAGER, Role.ADMIN)


def _locked(
    session: SessionDep, user: CurrentUser, consultation_id: str, if_match: int | None
) -> Any:
    """The id; with ``If-Match``, the consultation is checked against the version read."""
    parsed = parse_id(consultation_id, "Consultation")
    if if_match is not None:
        # Same lock order as the actions (dossier, then consultation): no deadlock.
        dossier_id = access_consultation(session, user, parsed).dossier_id
        session.scalar(select(Dossier.id).where(Dossier.id == dossier_id).with_for_update())
        access_consultation(session, user, parsed, expected_version=if_match)
    return parsed


@router.get("")
def index(
    session: SessionDep,
    user: CurrentUser,
    status: ConsultationStatus | None = None,
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> list[ConsultationOut]:
    """Agents: their administration's consultations; référents: those of their dossiers."""
    require_role(user, *VIEWERS)
    return list_consultations(
        session, user, status=status.value if status else None, limit=limit, offset=offset
    )


@router.get("/{consultation_id}")
def show(consultation_id: str, session: SessionDep, user: CurrentUser) -> ConsultationOut:
    """One consultation with the dossier's brief and its deadline clock."""
    consultation = access_consultation(session, user, parse_id(consultation_id, "Consultation"))
    return build_views(session, [consultation])[0]


@router.post("/{consultation_id}/acknowledge")
@idempotent()
def acknowledge(
    consultation_id: str, session: SessionDep, user: CurrentUser, if_match: IfMatch
) -> ConsultationOut:
    """Acknowledge receipt (agent of the administration)."""
    consultation = actions.acknowledge(
        session,
        consultation_id=_locked(session, user, consultation_id, if_match),
        user=user,
        now=utcnow(),
    )
    return build_views(session, [consultation])[0]


@router.post("/{consultation_id}/opinion")
@idempotent()
def opinion(
    consultation_id: str, data: OpinionIn, session: SessionDep, user: CurrentUser, if_match: IfMatch
) -> ConsultationOut:
    """Give the administration's opinion (agent); the last one triggers consolidation."""
    consultation = actions.give_opinion(
        session,
        consultation_id=_locked(session, user, consultation_id, if_match),
        nature=data.nature,
        text=data.text,
        user=user,
        now=utcnow(),
    )
    return build_views(session, [consultation])[0]
