"""Read side of documents: who may see which, lists, completeness, the procedures' pieces.

Who reads a document (docs/security.md):

- a document of the dossier (``consultation_id`` empty): the holder's organisation, the
  platform (référents, managers, administrators) once the dossier is filed, and the agents
  of every administration consulted on the dossier;
- a document of one consultation: the platform and that consultation's administration.

Anyone else gets 404, as for an object that does not exist (``access_document``).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select
from sqlalchemy.orm import Session

from accelerator.catalogue.models import Procedure, ProcedurePiece
from accelerator.consultations.access import access_consultation
from accelerator.consultations.models import Consultation
from accelerator.documents.models import Document
from accelerator.documents.schemas import (
    DocumentOut,
    PieceOut,
    PiecesOut,
    ProcedureOut,
    ProcedurePieceOut,
    SuppliedPieceOut,
)
from accelerator.dossiers.access import access_dossier
from accelerator.dossiers.models import Dossier
from accelerator.dossiers.status import DossierStatus
from accelerator.identity.models import User
from accelerator.identity.roles import Role
from accelerator.shared.errors import NotFound
from accelerator.shared.text import t
from accelerator.shared.validation import MAX_PAGE
from accelerator.sla.durations import Duration, Unit
from accelerator.sla.instants import local_iso
from accelerator.sla.models import Calendar

DOCUMENT_NOT_FOUND = t("document.not_found")
DEFAULT_ZONE = "Europe/Paris"


def document_visibility(user: User) -> ColumnElement[bool]:
    """SQL condition on ``Document`` (joined to its ``Dossier``) selecting what ``user`` reads."""
    role = Role(user.role)
    if role is Role.HOLDER:
        return and_(
            Dossier.organisation_id == user.organisation_id, Document.consultation_id.is_(None)
        )
    if role in (Role.REFERENT, Role.MANAGER, Role.ADMIN):
        return Dossier.status != DossierStatus.DRAFT.value
    if role is Role.AGENT and user.administration_code is not None:
        own = select(Consultation.id).where(
            Consultation.administration_code == user.administration_code
        )
        consulted = exists(own.where(Consultation.dossier_id == Document.dossier_id))
        return and_(
            consulted, or_(Document.consultation_id.is_(None), Document.consultation_id.in_(own))
        )
    return false()


def access_document(session: Session, user: User, document_id: uuid.UUID) -> Document:
    """The document if ``user`` may read it, else ``NotFound`` (whether it exists or not)."""
    document = session.scalar(
        select(Document)
        .join(Dossier, Dossier.id == Document.dossier_id)
        .where(Document.id == document_id, document_visibility(user))
    )
    if document is None:
        raise NotFound(DOCUMENT_NOT_FOUND)
    return document


def _zones(session: Session, dossier_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    ids = set(dossier_ids)
    if not ids:
        return {}
    return {
        dossier_id: zone
        for dossier_id, zone in session.execute(
            select(Dossier.id, Calendar.timezone)
            .join(Calendar, Calendar.code == Dossier.calendar_code)
            .where(Dossier.id.in_(ids))
        )
    }


def document_view(document: Document, zone: str) -> DocumentOut:
    """A document as the API shows it (times in the dossier's zone)."""
    return DocumentOut(
        id=str(document.id),
        filename=document.filename,
        content_type=document.content_type,
        size=document.size,
        sha256=document.sha256,
        piece=document.piece,
        uploaded_at=local_iso(document.uploaded_at, zone) or "",
    )


def views(session: Session, documents: Sequence[Document]) -> list[DocumentOut]:
    """Views of ``documents`` (one query for their zones)."""
    zones = _zones(session, (d.dossier_id for d in documents))
    return [document_view(d, zones.get(d.dossier_id, DEFAULT_ZONE)) for d in documents]


def _ordered(query: Select[Document], limit: int, offset: int) -> Select[Document]:
    return (
        query.order_by(Document.uploaded_at, Document.id).limit(min(limit, MAX_PAGE)).offset(offset)
    )


def list_dossier_documents(
    session: Session, user: User, dossier_id: uuid.UUID, *, limit: int = 100, offset: int = 0
) -> list[DocumentOut]:
    """The documents of a dossier ``user`` may see (agents: through their consultation)."""
    dossier = access_dossier(session, user, dossier_id)
    query = select(Document).join(Dossier, Dossier.id == Document.dossier_id)
    query = query.where(Document.dossier_id == dossier.id, document_visibility(user))
    return views(session, list(session.scalars(_ordered(query, limit, offset))))


def list_consultation_documents(
    session: Session, user: User, consultation_id: uuid.UUID, *, limit: int = 100, offset: int = 0
) -> list[DocumentOut]:
    """What the administration consulted reads: the dossier's documents and its own."""
    consultation = access_consultation(session, user, consultation_id)
    query = (
        select(Document)
        .join(Dossier, Dossier.id == Document.dossier_id)
        .where(
            Document.dossier_id == consultation.dossier_id,
            or_(Document.consultation_id.is_(None), Document.consultation_id == consultation.id),
            document_visibility(user),
        )
    )
    return views(session, list(session.scalars(_ordered(query, limit, offset))))


@dataclass(frozen=True)
class ConsultationDocuments:
    """What an administration consulted reads, in three parts: the dossier's pieces, what the
    platform attached to its consultation, and the file attached to its opinion."""

    pieces: list[DocumentOut]
    from_platform: list[DocumentOut]
    opinion: list[DocumentOut]


def consultation_documents(
    session: Session, user: User, consultation: Consultation
) -> ConsultationDocuments:
    """The documents of ``consultation`` (already accessed for ``user``) that ``user`` reads,
    oldest first, in their three parts (two queries). A document of the consultation uploaded
    by an agent is its opinion's: agents attach files only with their opinion
    (``actions.give_opinion_with_file``)."""
    rows = session.execute(
        select(Document, User.role)
        .join(Dossier, Dossier.id == Document.dossier_id)
        .join(User, User.id == Document.uploaded_by_id)
        .where(
            Document.dossier_id == consultation.dossier_id,
            or_(Document.consultation_id.is_(None), Document.consultation_id == consultation.id),
            document_visibility(user),
        )
        .order_by(Document.uploaded_at, Document.id)
        .limit(MAX_PAGE)
    ).all()
    zone = _zones(session, [consultation.dossier_id]).get(consultation.dossier_id, DEFAULT_ZONE)
    found = ConsultationDocuments([], [], [])
    for document, role in rows:
        shown = document_view(document, zone)
        if document.consultation_id is None:
            found.pieces.append(shown)
        elif Role(role) is Role.AGENT:
            found.opinion.append(shown)
        else:
            found.from_platform.append(shown)
    return found


def documents_for_dossiers(
    session: Session, dossier_ids: Sequence[uuid.UUID], viewer: User
) -> dict[uuid.UUID, list[DocumentOut]]:
    """The documents ``viewer`` may read of each dossier, oldest first (one query), for the
    dossier views; every id is a key, with an empty list when nothing is visible."""
    found: dict[uuid.UUID, list[DocumentOut]] = {dossier_id: [] for dossier_id in dossier_ids}
    if not dossier_ids:
        return found
    rows = session.execute(
        select(Document, Calendar.timezone)
        .join(Dossier, Dossier.id == Document.dossier_id)
        .join(Calendar, Calendar.code == Dossier.calendar_code)
        .where(Document.dossier_id.in_(set(dossier_ids)), document_visibility(viewer))
        .order_by(Document.uploaded_at, Document.id)
    )
    for document, zone in rows:
        found[document.dossier_id].append(document_view(document, zone))
    return found


def expected_pieces(dossier: Dossier, catalogue: dict[str, list[ProcedurePiece]]) -> list[PieceOut]:
    """The pieces the dossier's procedures expect given its attributes, in catalogue order."""
    expected: list[PieceOut] = []
    seen: set[str] = set()
    for procedure in dossier.procedures:
        for piece in catalogue.get(procedure, []):
            if piece.code in seen:
                continue
            if piece.condition is not None and not dossier.attributes.get(piece.condition):
                continue
            seen.add(piece.code)
            expected.append(
                PieceOut(
                    procedure=procedure,
                    code=piece.code,
                    label=piece.label,
                    mandatory=piece.mandatory,
                )
            )
    return expected


def pieces_catalogue(
    session: Session, procedures: Iterable[str]
) -> dict[str, list[ProcedurePiece]]:
    """The pieces of ``procedures`` by procedure, in catalogue order (one query)."""
    codes = set(procedures)
    pieces: dict[str, list[ProcedurePiece]] = defaultdict(list)
    if codes:
        for piece in session.scalars(
            select(ProcedurePiece)
            .where(ProcedurePiece.procedure_code.in_(codes))
            .order_by(ProcedurePiece.procedure_code, ProcedurePiece.rank)
        ):
            pieces[piece.procedure_code].append(piece)
    return pieces


def pieces_for_dossiers(
    session: Session, dossiers: Sequence[Dossier]
) -> dict[uuid.UUID, PiecesOut]:
    """Each dossier's completeness (two queries for any number of dossiers): the pieces
    expected, those supplied by a document of the dossier (the latest version shown), and the
    mandatory ones still missing. Documents of a consultation supply no piece."""
    catalogue = pieces_catalogue(session, (p for d in dossiers for p in d.procedures))
    supplied: dict[uuid.UUID, dict[str, tuple[uuid.UUID, int]]] = defaultdict(dict)
    if dossiers:
        latest = session.execute(
            select(Document.dossier_id, Document.piece, Document.id, Document.uploaded_at)
            .where(
                Document.dossier_id.in_({d.id for d in dossiers}),
                Document.piece.is_not(None),
                Document.consultation_id.is_(None),
            )
            .order_by(Document.uploaded_at, Document.id)
        )
        for dossier_id, piece, document_id, _at in latest:
            if piece is None:  # excluded by the query; for the type checker
                continue
            versions = supplied[dossier_id].get(piece, (document_id, 0))[1] + 1
            supplied[dossier_id][piece] = (document_id, versions)
    result = {}
    for dossier in dossiers:
        expected = expected_pieces(dossier, catalogue)
        labels = {
            piece.code: piece
            for procedure in dossier.procedures
            for piece in catalogue.get(procedure, [])
        }
        given = supplied.get(dossier.id, {})
        supplied_out = []
        for code, (document_id, versions) in given.items():
            known = labels.get(code)
            supplied_out.append(
                SuppliedPieceOut(
                    procedure=known.procedure_code if known else "",
                    code=code,
                    label=known.label if known else code,
                    mandatory=bool(known and known.mandatory),
                    document_id=str(document_id),
                    versions=versions,
                )
            )
        order = {piece.code: index for index, piece in enumerate(expected)}
        supplied_out.sort(key=lambda s: (order.get(s.code, len(order)), s.code))
        result[dossier.id] = PiecesOut(
            expected=expected,
            supplied=supplied_out,
            missing=[p for p in expected if p.mandatory and p.code not in given],
        )
    return result


def list_procedures(session: Session) -> list[ProcedureOut]:
    """The procedures of the catalogue, each with its expected pieces (two queries)."""
    procedures = list(session.scalars(select(Procedure).order_by(Procedure.code)))
    catalogue = pieces_catalogue(session, (p.code for p in procedures))
    return [
        ProcedureOut(
            code=p.code,
            label=p.label,
            duration=str(Duration(p.duration_amount, Unit(p.duration_unit)))
            if p.duration_amount is not None and p.duration_unit is not None
            else None,
            silence_outcome=p.silence_outcome,
            source=p.source,
            pieces=[
                ProcedurePieceOut(
                    code=piece.code,
                    label=piece.label,
                    mandatory=piece.mandatory,
                    condition=piece.condition,
                )
                for piece in catalogue.get(p.code, [])
            ],
        )
        for p in procedures
    ]


def dossier_bytes(session: Session, dossier_id: uuid.UUID) -> int:
    """What the documents of a dossier weigh together (its quota counts every version)."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(Document.size), 0)).where(
                Document.dossier_id == dossier_id
            )
        )
        or 0
    )
