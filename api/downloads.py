"""A document's file as every route serves it (the API's and the pages'), and who may read
it: one answer, one policy, for ``GET /api/v1/documents/{id}/content`` and the pages'
``/documents/{id}/contenu``."""

from __future__ import annotations

import itertools
import urllib.parse

from fastapi import Request
from fastapi.responses import StreamingResponse

from accelerator.documents.models import Document
from accelerator.documents.storage import DocumentStore
from api.policies import Scope, allow

#: Who reads a document (``documents.queries.access_document`` narrows it to the object).
READERS = allow(
    holder=Scope.OWN_ORGANISATION,
    referent=Scope.FILED,
    agent=Scope.CONSULTED_DOSSIER,
    manager=Scope.FILED,
    admin=Scope.FILED,
)


def store_of(request: Request) -> DocumentStore:
    """The document store the app opened (``app.state.document_store``)."""
    store: DocumentStore = request.app.state.document_store
    return store


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the UTF-8 one (RFC 6266, 8187)."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in filename
    )
    encoded = urllib.parse.quote(filename, safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def document_answer(request: Request, document: Document) -> StreamingResponse:
    """A document's file as every route serves it (the API's, the pages'): an attachment with
    its stored type, never sniffed nor shown inline."""
    chunks = store_of(request).chunks(document.storage_key)
    # The first read happens here: a store that lacks the file or does not answer gives its
    # error status, not a broken answer.
    first = next(chunks, b"")
    media = document.content_type
    if document.charset:
        media += f"; charset={document.charset}"
    return StreamingResponse(
        itertools.chain([first], chunks),
        media_type=media,
        headers={
            "Content-Disposition": content_disposition(document.filename),
            "Content-Length": str(document.size),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "ETag": f'"{document.sha256}"',
        },
    )
