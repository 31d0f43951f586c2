"""Ask the holder for missing documents; their answer resumes the clocks.

The holder only ever talks to the référent: an administration's request on its consultation
is relayed by the référent (``consultation_id``). Each affected clock pauses according to its
definition (suspension or interruption), unless the request comes after the window allowed
for it, in which case it changes no clock and says so.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.access import access_dossier, require_referent_of, require_role
from accelerator.consultations.models import Consultation
from accelerator.consultations.status import ConsultationStatus
from accelerator.consultations.status import check_transition as check_consultation
from accelerator.dossiers.actions import actor_of, change_status
from accelerator.dossiers.models import Dossier
from accelerator.dossiers.status import DossierStatus
from accelerator.errors import Conflict, InvalidInput, NotFound
from accelerator.history.actions import record
from accelerator.identity.models import User
from accelerator.identity.roles import Role
from accelerator.information.models import InformationRequest
from accelerator.information.schemas import InformationRequestIn
from accelerator.notifications.actions import Template, notify
from accelerator.sla.actions import end_pauses, pause_allowed, pause_clock
from accelerator.sla.definitions import ClockKind, ClockState
from accelerator.sla.models import Clock

REQUEST_NOT_FOUND = "Demande introuvable."

#: Clocks a dossier-level request may pause: the legal delays of the procedures.
DOSSIER_CLOCKS = (ClockKind.PROCEDURE_DEADLINE.value,)


def request_information(
    session: Session,
    *,
    dossier_id: uuid.UUID,
    data: InformationRequestIn,
    user: User,
    now: dt.datetime,
) -> InformationRequest:
    """The référent asks the holder (for the dossier, or relaying a consultation)."""
    dossier = access_dossier(session, user, dossier_id, for_update=True)
    require_referent_of(user, dossier)
    actor = actor_of(user)
    consultation: Consultation | None = None
    if data.consultation_id is not None:
        consultation = session.scalar(
            select(Consultation)
            .where(Consultation.id == data.consultation_id, Consultation.dossier_id == dossier.id)
            .with_for_update()
        )
        if consultation is None:
            raise InvalidInput("Cette consultation n'appartient pas au dossier.")
        previous = consultation.status
        check_consultation(ConsultationStatus(previous), ConsultationStatus.AWAITING_INFORMATION)
    elif dossier.status == DossierStatus.AWAITING_HOLDER:
        # Already waiting: the dossier will go back where it was before the first request.
        first = session.scalar(
            select(InformationRequest.previous_status)
            .where(
                InformationRequest.dossier_id == dossier.id,
                InformationRequest.consultation_id.is_(None),
                InformationRequest.answered_at.is_(None),
            )
            .order_by(InformationRequest.requested_at)
            .limit(1)
        )
        previous = first or DossierStatus.TAKEN_IN_CHARGE.value
    else:
        previous = dossier.status
    request = InformationRequest(
        dossier_id=dossier.id,
        consultation_id=consultation.id if consultation else None,
        message=data.message,
        pieces=data.pieces,
        requested_by_id=user.id,
        requested_at=now,
        previous_status=previous,
    )
    session.add(request)
    session.flush()
    if consultation is not None:
        consultation.status = ConsultationStatus.AWAITING_INFORMATION.value
        record(
            session,
            dossier_id=dossier.id,
            consultation_id=consultation.id,
            actor=actor,
            at=now,
            entity="consultation",
            event="information_requested",
            from_status=previous,
            to_status=consultation.status,
            message=f"{consultation.administration_code} demande des compléments : {data.message}",
        )
        clocks = session.scalars(select(Clock).where(Clock.consultation_id == consultation.id))
    elif dossier.status == DossierStatus.AWAITING_HOLDER:
        record(
            session,
            dossier_id=dossier.id,
            actor=actor,
            at=now,
            entity="dossier",
            event="information_requested",
            message=f"Nouvelle demande de compléments au porteur : {data.message}",
        )
    else:
        change_status(
            session,
            dossier,
            DossierStatus.AWAITING_HOLDER,
            actor=actor,
            now=now,
            message=f"Demande de compléments au porteur : {data.message}",
            event="information_requested",
        )
    if consultation is None:
        clocks = session.scalars(
            select(Clock).where(Clock.dossier_id == dossier.id, Clock.kind.in_(DOSSIER_CLOCKS))
        )
    for clock in clocks:
        allowed, why = pause_allowed(session, clock, now)
        if allowed:
            pause_clock(
                session,
                clock,
                reason=f"demande de compléments du {now:%d/%m/%Y}",
                at=now,
                information_request_id=request.id,
            )
        record(
            session,
            dossier_id=dossier.id,
            consultation_id=clock.consultation_id,
            actor=actor,
            at=now,
            entity="clock",
            event="clock_paused" if allowed else "clock_not_paused",
            message=f"{clock.kind} : {why}.",
            details={"clock_id": str(clock.id), "information_request_id": str(request.id)},
        )
    notify(
        session,
        template=Template.INFORMATION_REQUESTED,
        now=now,
        dossier_id=dossier.id,
        organisation_id=dossier.organisation_id,
        context={"message": data.message, "pieces": data.pieces},
    )
    return request


def answer_information(
    session: Session, *, request_id: uuid.UUID, message: str, user: User, now: dt.datetime
) -> InformationRequest:
    """The holder answers: paused clocks resume; the dossier or consultation goes back."""
    require_role(user, Role.HOLDER)
    request = session.scalar(
        select(InformationRequest).where(InformationRequest.id == request_id).with_for_update()
    )
    if request is None:
        raise NotFound(REQUEST_NOT_FOUND)
    try:
        dossier = access_dossier(session, user, request.dossier_id, for_update=True)
    except NotFound:
        raise NotFound(REQUEST_NOT_FOUND) from None
    if request.answered_at is not None:
        raise Conflict("Cette demande a déjà reçu une réponse.")
    request.answer, request.answered_at, request.answered_by_id = message, now, user.id
    actor = actor_of(user)
    resumed = end_pauses(session, information_request_id=request.id, at=now)
    if request.consultation_id is not None:
        consultation = session.get_one(Consultation, request.consultation_id)
        # A consultation answered while it waited keeps its opinion.
        if consultation.status == ConsultationStatus.AWAITING_INFORMATION:
            consultation.status = request.previous_status
            record(
                session,
                dossier_id=dossier.id,
                consultation_id=consultation.id,
                actor=actor,
                at=now,
                entity="consultation",
                event="information_received",
                from_status=ConsultationStatus.AWAITING_INFORMATION.value,
                to_status=request.previous_status,
                message=f"Compléments transmis à {consultation.administration_code}.",
            )
    elif dossier.status == DossierStatus.AWAITING_HOLDER and not _other_open_requests(
        session, dossier, request
    ):
        change_status(
            session,
            dossier,
            DossierStatus(request.previous_status),
            actor=actor,
            now=now,
            message="Le porteur a transmis les compléments demandés.",
            event="information_received",
        )
    for clock in resumed:
        record(
            session,
            dossier_id=dossier.id,
            consultation_id=clock.consultation_id,
            actor=actor,
            at=now,
            entity="clock",
            event="clock_resumed",
            message=f"{clock.kind} : "
            + ("reprend" if clock.state == ClockState.RUNNING else "toujours en pause ou arrêté")
            + ".",
            details={"clock_id": str(clock.id), "information_request_id": str(request.id)},
        )
    notify(
        session,
        template=Template.INFORMATION_RECEIVED,
        now=now,
        dossier_id=dossier.id,
        user_ids=[dossier.referent_id] if dossier.referent_id else [],
        context={"message": message},
    )
    return request


def _other_open_requests(session: Session, dossier: Dossier, request: InformationRequest) -> bool:
    return (
        session.scalar(
            select(InformationRequest.id).where(
                InformationRequest.dossier_id == dossier.id,
                InformationRequest.consultation_id.is_(None),
                InformationRequest.answered_at.is_(None),
                InformationRequest.id != request.id,
            )
        )
        is not None
    )
