"""Requests for information as the consultation's thread shows them.

An administration asks for pieces on its consultation's thread; the référent relays the
request to the holder (``information.actions.request_information`` with the consultation).
The holder never writes to an administration: the platform writes, on the consultation's
thread, the request as it was sent to the holder and later the holder's answer with the
documents attached to it, both linked to the request (``Message.information_request_id``).
The answer is posted in the name of the dossier's référent, who relays everything.

Use these two functions rather than ``information.actions``'s: they do the same, and the
thread follows.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.consultations.models import Consultation
from accelerator.documents.models import Document
from accelerator.dossiers.models import Dossier
from accelerator.identity.models import User
from accelerator.information import actions as information
from accelerator.information.models import InformationRequest
from accelerator.information.schemas import InformationRequestIn
from accelerator.messages.actions import tell_administration, write
from accelerator.messages.models import MessageKind
from accelerator.messages.schemas import MessageIn
from accelerator.shared.text import t


def request_information(
    session: Session,
    *,
    dossier_id: uuid.UUID,
    data: InformationRequestIn,
    user: User,
    now: dt.datetime,
) -> InformationRequest:
    """Ask the holder; a request relayed for a consultation is shown on its thread."""
    request = information.request_information(
        session, dossier_id=dossier_id, data=data, user=user, now=now
    )
    if request.consultation_id is not None:
        body = t("message.relay.request", message=data.message)
        if data.pieces:
            body += "\n\n" + t("message.relay.pieces", pieces=" ; ".join(data.pieces))
        _relay(session, request, body=body, author=user, documents=[], now=now)
    return request


def answer_information(
    session: Session, *, request_id: uuid.UUID, message: str, user: User, now: dt.datetime
) -> InformationRequest:
    """Answer a request (holder); an answer to a consultation's request is shown on its
    thread with the documents the holder attached to the request."""
    request = information.answer_information(
        session, request_id=request_id, message=message, user=user, now=now
    )
    if request.consultation_id is not None:
        dossier = session.get_one(Dossier, request.dossier_id)
        relaying = session.get(User, dossier.referent_id) if dossier.referent_id else None
        if relaying is not None:
            documents = list(
                session.scalars(
                    select(Document.id)
                    .where(
                        Document.information_request_id == request.id,
                        Document.dossier_id == dossier.id,
                    )
                    .order_by(Document.uploaded_at, Document.id)
                )
            )
            _relay(
                session,
                request,
                body=t("message.relay.answer", answer=message),
                author=relaying,
                documents=documents,
                now=now,
                kind=MessageKind.INFORMATION_ANSWER,
            )
    return request


def _relay(
    session: Session,
    request: InformationRequest,
    *,
    body: str,
    author: User,
    documents: list[uuid.UUID],
    now: dt.datetime,
    kind: MessageKind = MessageKind.INFORMATION_REQUEST,
) -> None:
    """Write ``body`` on the request's consultation thread and tell the administration."""
    consultation = session.get_one(Consultation, request.consultation_id)
    dossier = session.get_one(Dossier, request.dossier_id)
    write(
        session,
        dossier=dossier,
        consultation_id=consultation.id,
        # Written by the platform, not typed by a user: no input bound to apply.
        data=MessageIn.model_construct(body=body, document_ids=documents),
        user=author,
        now=now,
        kind=kind,
        information_request_id=request.id,
    )
    tell_administration(
        session, dossier=dossier, consultation=consultation, author=author, body=body, now=now
    )
