"""Consultations: agents acknowledge and give their administration's opinion."""

from __future__ import annotations

from fastapi import APIRouter, Query

from accelerator.access import access_consultation, require_role
from accelerator.consultations import actions
from accelerator.consultations.queries import build_views, list_consultations
from accelerator.consultations.schemas import ConsultationOut, OpinionIn
from accelerator.consultations.status import ConsultationStatus
from accelerator.db import utcnow
from accelerator.identity.roles import Role
from api.deps import CurrentUser, SessionDep, parse_id

router = APIRouter(prefix="/api/v1/consultations", tags=["consultations"])

VIEWERS = (Role.AGENT, Role.REFERENT, Role.MANAGER, Role.ADMIN)


@router.get("")
def index(
    session: SessionDep,
    user: CurrentUser,
    status: ConsultationStatus | None = None,
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0),
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
def acknowledge(consultation_id: str, session: SessionDep, user: CurrentUser) -> ConsultationOut:
    """Acknowledge receipt (agent of the administration)."""
    consultation = actions.acknowledge(
        session, consultation_id=parse_id(consultation_id, "Consultation"), user=user, now=utcnow()
    )
    return build_views(session, [consultation])[0]


@router.post("/{consultation_id}/opinion")
def opinion(
    consultation_id: str, data: OpinionIn, session: SessionDep, user: CurrentUser
) -> ConsultationOut:
    """Give the administration's opinion (agent); the last one triggers consolidation."""
    consultation = actions.give_opinion(
        session,
        consultation_id=parse_id(consultation_id, "Consultation"),
        nature=data.nature,
        text=data.text,
        user=user,
        now=utcnow(),
    )
    return build_views(session, [consultation])[0]
