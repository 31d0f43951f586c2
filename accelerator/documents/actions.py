"""Attach a document to a dossier: who may, when, and under which limits.

An upload is two steps around the file itself (``api/routers/documents.py``):

1. :func:`upload_allowance`, before a byte of the body is read: the caller may attach to
   this dossier now, and how many bytes this file may hold (the per-file limit, or what is
   left of the dossier's);
2. once the file is received, checked (``filetypes``) and stored under its new key:
   :func:`record_document`, in one transaction, checks everything again under the dossier's
   lock (another upload may have used the quota meanwhile), writes the row and the history.
   If it refuses, the caller deletes the stored file: a refused upload leaves nothing.

Like every action it never commits and never calls the network (the file is stored by the
caller, outside the transaction, so that no lock is held while bytes travel).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.consultations.access import access_consultation
from accelerator.consultations.actions import give_opinion
from accelerator.consultations.models import Consultation
from accelerator.consultations.status import FINISHED, LABELS, ConsultationStatus, OpinionNature
from accelerator.documents.filetypes import Detected, TooLarge
from accelerator.documents.models import Document
from accelerator.documents.queries import dossier_bytes, pieces_catalogue
from accelerator.dossiers.access import access_dossier, require_referent_of
from accelerator.dossiers.models import Dossier
from accelerator.dossiers.status import DossierStatus
from accelerator.history.actions import record
from accelerator.history.actor import Actor
from accelerator.identity.models import User
from accelerator.identity.roles import Role, require_role
from accelerator.information.models import InformationRequest
from accelerator.shared.config import Settings
from accelerator.shared.errors import InvalidInput, InvalidTransition
from accelerator.shared.text import t


@dataclass(frozen=True)
class Limits:
    """The size limits of uploads (settings ``max_document_bytes``, ``..._dossier_...``)."""

    per_file: int
    per_dossier: int

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        """The limits the settings give."""
        return cls(
            per_file=settings.max_document_bytes, per_dossier=settings.max_dossier_documents_bytes
        )


@dataclass(frozen=True)
class StoredFile:
    """A received, checked and stored file, not yet recorded."""

    storage_key: str
    filename: str
    detected: Detected
    size: int
    sha256: str


def _megabytes(size: int) -> str:
    return f"{size / (1 << 20):.0f} Mo" if size >= 1 << 20 else f"{size} octets"


def _open_requests(session: Session, dossier: Dossier) -> list[InformationRequest]:
    return list(
        session.scalars(
            select(InformationRequest).where(
                InformationRequest.dossier_id == dossier.id,
                InformationRequest.answered_at.is_(None),
            )
        )
    )


def _check_may_attach(session: Session, dossier: Dossier, user: User) -> None:
    """Holders attach to a draft, or while the référent asks for pieces; the dossier's
    référent attaches once it is filed."""
    require_role(user, Role.HOLDER, Role.REFERENT)
    if Role(user.role) is Role.REFERENT:
        require_referent_of(user, dossier)
        return
    if dossier.status != DossierStatus.DRAFT and not _open_requests(session, dossier):
        raise InvalidTransition(t("document.filed_needs_request"))


def upload_allowance(session: Session, *, dossier_id: uuid.UUID, user: User, limits: Limits) -> int:
    """How many bytes the file ``user`` is about to send may hold; refuses (404, 403, 409,
    413) before the body is read."""
    dossier = access_dossier(session, user, dossier_id)
    _check_may_attach(session, dossier, user)
    return _room(session, dossier.id, limits)


def _room(session: Session, dossier_id: uuid.UUID, limits: Limits) -> int:
    """How many bytes the next file of the dossier may hold (413 when it is full)."""
    left = limits.per_dossier - dossier_bytes(session, dossier_id)
    if left <= 0:
        raise TooLarge(t("document.dossier_quota_reached", limit=_megabytes(limits.per_dossier)))
    return min(limits.per_file, left)


def _new_document(
    session: Session,
    *,
    dossier_id: uuid.UUID,
    stored: StoredFile,
    user: User,
    limits: Limits,
    now: dt.datetime,
    consultation_id: uuid.UUID | None = None,
    information_request_id: uuid.UUID | None = None,
    piece: str | None = None,
) -> Document:
    """The document row of a stored file, its size checked again under the dossier's lock
    (against every other upload)."""
    if stored.size > limits.per_file:
        raise TooLarge(t("document.file_too_large", limit=_megabytes(limits.per_file)))
    if dossier_bytes(session, dossier_id) + stored.size > limits.per_dossier:
        raise TooLarge(t("document.dossier_quota_exceeded", limit=_megabytes(limits.per_dossier)))
    document = Document(
        dossier_id=dossier_id,
        consultation_id=consultation_id,
        information_request_id=information_request_id,
        piece=piece,
        filename=stored.filename,
        content_type=stored.detected.content_type,
        charset=stored.detected.charset,
        size=stored.size,
        sha256=stored.sha256,
        storage_key=stored.storage_key,
        uploaded_by_id=user.id,
        uploaded_at=now,
    )
    session.add(document)
    session.flush()
    return document


def record_document(
    session: Session,
    *,
    dossier_id: uuid.UUID,
    stored: StoredFile,
    piece: str | None,
    information_request_id: uuid.UUID | None,
    consultation_id: uuid.UUID | None,
    user: User,
    limits: Limits,
    now: dt.datetime,
) -> Document:
    """Record a stored file as a document of the dossier (a new version of a piece keeps the
    previous ones); every check of :func:`upload_allowance` again, under the dossier's lock."""
    dossier = access_dossier(session, user, dossier_id, for_update=True)
    _check_may_attach(session, dossier, user)
    holder = Role(user.role) is Role.HOLDER
    if piece is not None:
        known = {
            p.code for ps in pieces_catalogue(session, dossier.procedures).values() for p in ps
        }
        if piece not in known:
            raise InvalidInput(t("document.piece_unknown", piece=piece))
    if information_request_id is not None:
        if not holder:
            raise InvalidInput(t("document.only_holder_answers"))
        request = session.get(InformationRequest, information_request_id)
        if request is None or request.dossier_id != dossier.id:
            raise InvalidInput(t("document.request_of_other_dossier"))
        if request.answered_at is not None:
            raise InvalidInput(t("document.request_answered"))
    if consultation_id is not None:
        if holder:
            raise InvalidInput(t("document.holder_no_consultation"))
        consultation = session.get(Consultation, consultation_id)
        if consultation is None or consultation.dossier_id != dossier.id:
            raise InvalidInput(t("document.consultation_of_other_dossier"))
    document = _new_document(
        session,
        dossier_id=dossier.id,
        stored=stored,
        user=user,
        limits=limits,
        now=now,
        consultation_id=consultation_id,
        information_request_id=information_request_id,
        piece=piece,
    )
    what = t("document.piece_added", piece=piece) if piece else t("document.added")
    record(
        session,
        dossier_id=dossier.id,
        consultation_id=consultation_id,
        actor=Actor.of(user),
        at=now,
        entity="document",
        event="document_added",
        message=f"{what} : « {stored.filename} » ({_megabytes(stored.size)}).",
        details={
            "document_id": str(document.id),
            **(
                {"information_request_id": str(information_request_id)}
                if information_request_id
                else {}
            ),
        },
    )
    return document


def opinion_allowance(
    session: Session, *, consultation_id: uuid.UUID, user: User, limits: Limits
) -> int:
    """How many bytes the file an agent attaches to their administration's opinion may hold;
    refuses (404, 403, 409, 413) before the body is read: the consultation must still await
    its opinion."""
    require_role(user, Role.AGENT)
    consultation = access_consultation(session, user, consultation_id)
    status = ConsultationStatus(consultation.status)
    if status in FINISHED:
        raise InvalidTransition(t("document.opinion_no_longer_awaited", status=LABELS[status]))
    return _room(session, consultation.dossier_id, limits)


def give_opinion_with_file(
    session: Session,
    *,
    consultation_id: uuid.UUID,
    nature: OpinionNature,
    text: str,
    stored: StoredFile | None,
    user: User,
    limits: Limits,
    now: dt.datetime,
) -> Consultation:
    """An agent gives the administration's opinion (``consultations.actions.give_opinion``,
    first: its refusals leave nothing) with a file attached to it: a document of the
    consultation, read by the platform and that administration only. Agents attach documents
    in no other way, so a consultation's documents uploaded by its administration are its
    opinion's (``queries.consultation_documents``)."""
    consultation = give_opinion(
        session, consultation_id=consultation_id, nature=nature, text=text, user=user, now=now
    )
    if stored is None:
        return consultation
    # give_opinion holds the dossier's lock: the quota is checked against every other upload.
    document = _new_document(
        session,
        dossier_id=consultation.dossier_id,
        stored=stored,
        user=user,
        limits=limits,
        now=now,
        consultation_id=consultation.id,
    )
    record(
        session,
        dossier_id=consultation.dossier_id,
        consultation_id=consultation.id,
        actor=Actor.of(user),
        at=now,
        entity="document",
        event="document_added",
        message=t(
            "document.opinion_attachment_added",
            administration=consultation.administration_code,
            filename=stored.filename,
            size=_megabytes(stored.size),
        ),
        details={"document_id": str(document.id)},
    )
    return consultation


def orphan_keys(session: Session, keys: list[str]) -> list[str]:
    """The ``keys`` of the store that no document names (a process killed between storing a
    file and committing its row left them): ``accelerator documents sweep`` deletes them."""
    if not keys:
        return []
    named = set(session.scalars(select(Document.storage_key).where(Document.storage_key.in_(keys))))
    return [key for key in keys if key not in named]
