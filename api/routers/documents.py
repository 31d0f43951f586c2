"""Documents: holders attach pieces, the référent too; who reads a dossier reads its pieces.

The upload route is ``async`` and runs its own units of work (as the COG upload does):
who asks and whether they may attach to this dossier are checked before a byte of the body
is read; the file is then streamed to a temporary file (``api.uploads``), its type read from
its content (``accelerator.documents.filetypes``), stored under a new key, and recorded in a
last transaction. A refusal or a failure at any step leaves no row, no stored file and no
temporary file behind.
"""

from __future__ import annotations

import anyio
from fastapi import Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from accelerator.documents import filetypes
from accelerator.documents.actions import Limits, StoredFile, record_document, upload_allowance
from accelerator.documents.filetypes import clean_filename, detect
from accelerator.documents.queries import (
    access_document,
    list_consultation_documents,
    list_dossier_documents,
    list_procedures,
    views,
)
from accelerator.documents.schemas import DocumentOut, ProcedureOut
from accelerator.documents.storage import new_key
from accelerator.shared.db import Database, utcnow
from api import limits, uploads
from api.deps import (
    BearerDep,
    CurrentUser,
    Limit,
    Offset,
    SessionDep,
    SettingsDep,
    authenticate,
    parse_id,
)
from api.downloads import READERS, document_answer, store_of
from api.errors import Error
from api.policies import SIGNED_IN, Scope, allow
from api.unit_of_work import Router

router = Router(prefix="/api/v1", tags=["documents"])

#: The route's ceiling before anything is known; the real limit (the settings, what is left
#: of the dossier's quota) is set per request once the caller is known.
CEILING = 1 << 40

UPLOAD_FIELDS = frozenset({"piece", "information_request_id", "consultation_id"})

UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "additionalProperties": False,
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "Le fichier ; son type est lu dans son contenu : "
                        + filetypes.ACCEPTED_LABEL
                        + ".",
                    },
                    "piece": {
                        "type": "string",
                        "maxLength": 32,
                        "description": "La pièce attendue qu'il fournit (ex. PC1).",
                    },
                    "information_request_id": {
                        "type": "string",
                        "format": "uuid",
                        "description": "La demande de compléments à laquelle il répond.",
                    },
                    "consultation_id": {
                        "type": "string",
                        "format": "uuid",
                        "description": "Référent : le joindre à une consultation (seule "
                        "l'administration consultée et la plateforme le lisent).",
                    },
                },
            }
        }
    },
}

UPLOAD_ERRORS: dict[int | str, dict[str, object]] = {
    413: {"description": "Fichier trop volumineux, ou quota du dossier atteint.", "model": Error},
    415: {"description": "Type de fichier refusé (lu dans le contenu).", "model": Error},
    503: {"description": "Stockage des documents indisponible.", "model": Error},
}

CONTENT_ANSWER: dict[int | str, dict[str, object]] = {
    200: {
        "description": "Le fichier, en pièce jointe, avec le type enregistré.",
        "content": {
            media: {"schema": {"type": "string", "format": "binary"}}
            for media in filetypes.ACCEPTED
        },
    },
    503: {"description": "Stockage des documents indisponible.", "model": Error},
}


@router.post(
    "/dossiers/{dossier_id}/documents",
    status_code=201,
    policy=allow(holder=Scope.OWN_ORGANISATION, referent=Scope.DOSSIER_REFERENT),
    openapi_extra={"requestBody": UPLOAD_BODY},
    responses=UPLOAD_ERRORS,
)
@limits.body_limit(CEILING)
async def upload(
    dossier_id: str, request: Request, credentials: BearerDep, settings: SettingsDep
) -> DocumentOut:
    """Attach a file to the dossier (holder: to a draft or in answer to a request; the
    dossier's référent: any time); multipart ``file``, optional ``piece``,
    ``information_request_id`` (holder) or ``consultation_id`` (référent)."""
    database: Database = request.app.state.database
    store = store_of(request)
    parsed = parse_id(dossier_id, "Dossier")
    bounds = Limits.of(settings)

    def allowance() -> int:
        with database.transaction(read_only=True) as session:
            user = authenticate(session, settings, credentials)
            return upload_allowance(session, dossier_id=parsed, user=user, limits=bounds)

    # Who asks, and whether they may attach here, before a byte of the body is read.
    limit = await run_in_threadpool(allowance)
    request.scope[limits.SCOPE_KEY] = uploads.body_limit_for(limit)
    declared = limits.declared_length(request.scope)
    if declared is not None and declared > uploads.body_limit_for(limit):
        raise uploads.too_large(limit)
    with uploads.Upload(
        limit=limit, fields=UPLOAD_FIELDS, staging_dir=settings.upload_staging_dir
    ) as received:
        await received.receive(request)
        assert received.filename is not None
        filename = clean_filename(received.filename)
        piece = uploads.piece_code(received.fields.get("piece"))
        request_id = uploads.optional_id(
            received.fields.get("information_request_id"), "information_request_id"
        )
        consultation_id = uploads.optional_id(
            received.fields.get("consultation_id"), "consultation_id"
        )
        detected = await run_in_threadpool(
            lambda: detect(received.path, head=received.head, filename=filename)
        )
        stored = StoredFile(
            storage_key=new_key(parsed),
            filename=filename,
            detected=detected,
            size=received.size,
            sha256=received.sha256.hexdigest(),
        )

        def record() -> DocumentOut:
            with database.transaction() as session:
                user = authenticate(session, settings, credentials)
                document = record_document(
                    session,
                    dossier_id=parsed,
                    stored=stored,
                    piece=piece,
                    information_request_id=request_id,
                    consultation_id=consultation_id,
                    user=user,
                    limits=bounds,
                    now=utcnow(),
                )
                return views(session, [document])[0]

        # Shielded: a client gone mid-way must not leave a file stored without its row, nor
        # a row whose file was deleted.
        with anyio.CancelScope(shield=True):
            try:
                await run_in_threadpool(store.put, stored.storage_key, received.path)
                return await run_in_threadpool(record)
            except BaseException:
                await run_in_threadpool(store.delete, stored.storage_key)
                raise
    # A cancel scope may swallow its own cancellation (for the type checker: never here).
    raise AssertionError("unreachable")  # pragma: no cover


@router.get(
    "/dossiers/{dossier_id}/documents",
    policy=allow(
        holder=Scope.OWN_ORGANISATION, referent=Scope.FILED, manager=Scope.FILED, admin=Scope.FILED
    ),
)
def dossier_documents(
    dossier_id: str,
    session: SessionDep,
    user: CurrentUser,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[DocumentOut]:
    """The dossier's documents the caller may read, oldest first (every version)."""
    return list_dossier_documents(
        session, user, parse_id(dossier_id, "Dossier"), limit=limit, offset=offset
    )


@router.get(
    "/consultations/{consultation_id}/documents",
    policy=allow(
        agent=Scope.CONSULTED_ADMINISTRATION, referent=Scope.ANY, manager=Scope.ANY, admin=Scope.ANY
    ),
)
def consultation_documents(
    consultation_id: str,
    session: SessionDep,
    user: CurrentUser,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[DocumentOut]:
    """What the administration consulted reads: the dossier's pieces and its own documents."""
    return list_consultation_documents(
        session, user, parse_id(consultation_id, "Consultation"), limit=limit, offset=offset
    )


@router.get("/documents/{document_id}", policy=READERS)
def show(document_id: str, session: SessionDep, user: CurrentUser) -> DocumentOut:
    """One document's description."""
    document = access_document(session, user, parse_id(document_id, "Document"))
    return views(session, [document])[0]


@router.get("/documents/{document_id}/content", policy=READERS, responses=CONTENT_ANSWER)
def content(
    document_id: str, request: Request, session: SessionDep, user: CurrentUser
) -> StreamingResponse:
    """The file itself, as an attachment with its stored type (never shown inline)."""
    document = access_document(session, user, parse_id(document_id, "Document"))
    return document_answer(request, document)


@router.get("/procedures", policy=SIGNED_IN, tags=["catalogue"])
def procedures(session: SessionDep, user: CurrentUser) -> list[ProcedureOut]:
    """The procedures with their legal delay and the pieces each expects."""
    return list_procedures(session)
