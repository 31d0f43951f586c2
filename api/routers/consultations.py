"""Consultations: agents acknowledge and give their administration's opinion."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from accelerator.consultations import actions
from accelerator.consultations.access import access_consultation
from accelerator.consultations.models import Consultation
from accelerator.consultations.queries import build_views, list_consultations
from accelerator.consultations.schemas import ConsultationOut, OpinionIn
from accelerator.consultations.status import ConsultationStatus
from accelerator.dossiers.models import Dossier
from accelerator.identity.roles import Role, require_role
from accelerator.shared.db import utcnow
from accelerator.shared.errors import check_version
from accelerator.shared.text import t
from api.deps import CurrentUser, IfMatch, Limit, Offset, SessionDep, parse_id
from api.idempotency import idempotent
from api.policies import Scope, allow
from api.unit_of_work import Router

router = Router(prefix="/api/v1/consultations", tags=["consultations"])

VIEWERS = (Role.AGENT, Role.REFERENT, Role.MANAGER, Role.ADMIN)


def _locked(
    session: SessionDep, consultation_id: str, if_match: int | None
) -> tuple[Any, int | None]:
    """The id and, with ``If-Match``, the consultation's version read under lock (compared
    once the action has run, as for dossiers: refusals first, then the version)."""
    parsed = parse_id(consultation_id, "Consultation")
    if if_match is None:
        return parsed, None
    # Same lock order as the actions (dossier, then consultation): no deadlock.
    dossier_id = select(Consultation.dossier_id).where(Consultation.id == parsed)
    session.scalar(select(Dossier.id).where(Dossier.id.in_(dossier_id)).with_for_update())
    return parsed, session.scalar(
        select(Consultation.version).where(Consultation.id == parsed).with_for_update()
    )


def _check(version: int | None, if_match: int | None) -> None:
    """Refuse the edit (and so roll it back) if the client read another version."""
    if version is not None:
        check_version(t("consultation.what"), version, if_match)


@router.get(
    "",
    policy=allow(
        agent=Scope.VISIBLE, referent=Scope.VISIBLE, manager=Scope.VISIBLE, admin=Scope.VISIBLE
    ),
)
def index(
    session: SessionDep,
    user: CurrentUser,
    status: ConsultationStatus | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[ConsultationOut]:
    """Agents: their administration's consultations; référents: those of their dossiers."""
    require_role(user, *VIEWERS)
    return list_consultations(
        session, user, status=status.value if status else None, limit=limit, offset=offset
    )


@router.get(
    "/{consultation_id}",
    policy=allow(
        agent=Scope.CONSULTED_ADMINISTRATION, referent=Scope.ANY, manager=Scope.ANY, admin=Scope.ANY
    ),
)
def show(consultation_id: str, session: SessionDep, user: CurrentUser) -> ConsultationOut:
    """One consultation with the dossier's brief and its deadline clock."""
    consultation = access_consultation(session, user, parse_id(consultation_id, "Consultation"))
    return build_views(session, [consultation])[0]


@router.post("/{consultation_id}/acknowledge", policy=allow(agent=Scope.CONSULTED_ADMINISTRATION))
@idempotent()
def acknowledge(
    consultation_id: str, session: SessionDep, user: CurrentUser, if_match: IfMatch
) -> ConsultationOut:
    """Acknowledge receipt (agent of the administration)."""
    parsed, version = _locked(session, consultation_id, if_match)
    consultation = actions.acknowledge(session, consultation_id=parsed, user=user, now=utcnow())
    _check(version, if_match)
    return build_views(session, [consultation])[0]


@router.post("/{consultation_id}/opinion", policy=allow(agent=Scope.CONSULTED_ADMINISTRATION))
@idempotent()
def opinion(
    consultation_id: str, data: OpinionIn, session: SessionDep, user: CurrentUser, if_match: IfMatch
) -> ConsultationOut:
    """Give the administration's opinion (agent); the last one triggers consolidation."""
    parsed, version = _locked(session, consultation_id, if_match)
    consultation = actions.give_opinion(
        session,
        consultation_id=parsed,
        nature=data.nature,
        text=data.text,
        user=user,
        now=utcnow(),
    )
    _check(version, if_match)
    return build_views(session, [consultation])[0]
