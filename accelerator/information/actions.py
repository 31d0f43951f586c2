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

from accelerator.consultations.actions import change_status as change_consultation_status
from accelerator.consultations.actions import consolidate_when_complete
from accelerator.consultations.models import Consultation
from accelerator.consultations.status import ConsultationStatus
from accelerator.dossiers.access import access_dossier, require_referent_of
from accelerator.dossiers.actions import change_status
from accelerator.dossiers.models import Dossier
from accelerator.dossiers.status import DossierStatus
from accelerator.history.actions import record
from accelerator.history.actor import Actor
from accelerator.identity.models import User
from accelerator.identity.roles import Role, require_role
from accelerator.information.models import InformationRequest
from accelerator.information.schemas import InformationRequestIn
from accelerator.notifications.actions import Template, notification
from accelerator.outbox.actions import enqueue
from accelerator.shared.errors import Conflict, InvalidInput, NotFound
from accelerator.shared.text import t
from accelerator.sla.actions import end_pauses, pause_allowed, pause_clock
from accelerator.sla.definitions import ClockKind, ClockState
from accelerator.sla.models import Clock

REQUEST_NOT_FOUND = t("information.not_found")

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
    actor = Actor.of(user)
    consultation: Consultation | None = None
    # The status changes first: a refused move leaves no request, pause nor history behind.
    if data.consultation_id is not None:
        consultation = session.scalar(
            select(Consultation)
            .where(Consultation.id == data.consultation_id, Consultation.dossier_id == dossier.id)
            .with_for_update()
        )
        if consultation is None:
            raise InvalidInput(t("document.consultation_of_other_dossier"))
        previous = consultation.status
        change_consultation_status(
            session,
            consultation,
            ConsultationStatus.AWAITING_INFORMATION,
            actor=actor,
            now=now,
            message=t(
                "information.requested_by_administration",
                administration=consultation.administration_code,
                message=data.message,
            ),
            event="information_requested",
        )
    elif dossier.status == DossierStatus.AWAITING_HOLDER:
        # Already waiting: the dossier will go back where it was before the first request.
        previous = came_from(session, dossier).value
        record(
            session,
            dossier_id=dossier.id,
            actor=actor,
            at=now,
            entity="dossier",
            event="information_requested",
            message=t("information.requested_again", message=data.message),
        )
    else:
        previous = dossier.status
        change_status(
            session,
            dossier,
            DossierStatus.AWAITING_HOLDER,
            actor=actor,
            now=now,
            message=t("information.requested", message=data.message),
            event="information_requested",
        )
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
    clocks = session.scalars(
        select(Clock).where(Clock.consultation_id == consultation.id)
        if consultation is not None
        else select(Clock).where(Clock.dossier_id == dossier.id, Clock.kind.in_(DOSSIER_CLOCKS))
    )
    for clock in clocks:
        allowed, why = pause_allowed(session, clock, now)
        if allowed:
            pause_clock(
                session,
                clock,
                reason=t("information.pause_reason", now=now),
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
    enqueue(
        session,
        notification(
            Template.INFORMATION_REQUESTED,
            dossier_id=dossier.id,
            organisation_id=dossier.organisation_id,
            context={"message": data.message, "pieces": data.pieces},
        ),
        now=now,
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
        raise Conflict(t("information.already_answered"))
    actor = Actor.of(user)
    # The status returns first (to where it came from, checked), then the request and clocks.
    if request.consultation_id is not None:
        consultation = session.scalar(
            select(Consultation).where(Consultation.id == request.consultation_id).with_for_update()
        )
        assert consultation is not None
        # A consultation answered while it waited keeps its opinion.
        if consultation.status == ConsultationStatus.AWAITING_INFORMATION:
            back = ConsultationStatus(request.previous_status)
            change_consultation_status(
                session,
                consultation,
                back,
                actor=actor,
                now=now,
                message=t("information.sent_to", administration=consultation.administration_code),
                event="information_received",
                came_from=back,
            )
    elif dossier.status == DossierStatus.AWAITING_HOLDER and not _other_open_requests(
        session, dossier, request
    ):
        back_to = came_from(session, dossier)
        change_status(
            session,
            dossier,
            back_to,
            actor=actor,
            now=now,
            message=t("information.received"),
            event="information_received",
            came_from=back_to,
        )
        if back_to is DossierStatus.CONSULTING:
            consolidate_when_complete(session, dossier, now=now, occasion=f":{request.id}")
    request.answer, request.answered_at, request.answered_by_id = message, now, user.id
    resumed = end_pauses(session, information_request_id=request.id, at=now)
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
            + (
                t("information.clock_resumes")
                if clock.state == ClockState.RUNNING
                else t("information.clock_still_stopped")
            )
            + ".",
            details={"clock_id": str(clock.id), "information_request_id": str(request.id)},
        )
    enqueue(
        session,
        notification(
            Template.INFORMATION_RECEIVED,
            dossier_id=dossier.id,
            user_ids=[dossier.referent_id] if dossier.referent_id else [],
            context={"message": message},
        ),
        now=now,
    )
    return request


def came_from(session: Session, dossier: Dossier) -> DossierStatus:
    """The status a dossier awaiting the holder had before: its earliest open request's.

    Every later request while it waits copies it, so any open request would do; the earliest
    is the one that put the dossier in the side state.
    """
    previous = session.scalar(
        select(InformationRequest.previous_status)
        .where(
            InformationRequest.dossier_id == dossier.id,
            InformationRequest.consultation_id.is_(None),
            InformationRequest.answered_at.is_(None),
        )
        .order_by(InformationRequest.requested_at, InformationRequest.id)
        .limit(1)
    )
    if previous is None:
        raise Conflict(t("information.awaiting_without_request"))
    return DossierStatus(previous)


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
