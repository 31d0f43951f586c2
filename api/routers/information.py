"""Requests for missing documents: the référent asks, the holder answers."""

from __future__ import annotations

from accelerator.dossiers.models import Dossier
from accelerator.information.schemas import AnswerIn, InformationRequestIn
from accelerator.messages.relay import answer_information, request_information
from accelerator.shared.db import utcnow
from accelerator.views.queries import build_views
from accelerator.views.schemas import DossierOut
from api.deps import CurrentUser, SessionDep, parse_id
from api.idempotency import idempotent
from api.policies import Scope, allow
from api.unit_of_work import Router

router = Router(prefix="/api/v1", tags=["compléments"])


@router.post(
    "/dossiers/{dossier_id}/information-requests",
    status_code=201,
    policy=allow(referent=Scope.DOSSIER_REFERENT),
)
@idempotent(201)
def ask(
    dossier_id: str, data: InformationRequestIn, session: SessionDep, user: CurrentUser
) -> DossierOut:
    """Ask the holder for documents (référent); the dossier or consultation waits for them."""
    request = request_information(
        session, dossier_id=parse_id(dossier_id, "Dossier"), data=data, user=user, now=utcnow()
    )
    return build_views(session, [session.get_one(Dossier, request.dossier_id)], viewer=user)[0]


@router.post(
    "/information-requests/{request_id}/answer", policy=allow(holder=Scope.OWN_ORGANISATION)
)
@idempotent()
def answer(request_id: str, data: AnswerIn, session: SessionDep, user: CurrentUser) -> DossierOut:
    """Answer a request (holder); paused clocks resume according to their definition."""
    request = answer_information(
        session,
        request_id=parse_id(request_id, "Demande"),
        message=data.message,
        user=user,
        now=utcnow(),
    )
    return build_views(session, [session.get_one(Dossier, request.dossier_id)], viewer=user)[0]
