"""Page forms that carry a file (``multipart/form-data``), read as the API reads uploads.

A page route that takes a file is ``async`` and runs its units of work in worker threads, as
the API's upload does (``api/routers/documents.py``):

1. ``page_unit(request, body_unread=True)``: who posts, whether their role may, and how many
   bytes the file may hold, before a byte of the body is read;
2. :func:`receive`: the body streamed by ``api.uploads.Upload`` (bounded, 413 at the chunk
   that passes the limit), its text fields turned into a :class:`~api.pages.web.Form` whose
   ``csrf_token`` is checked at once with the one rule of ``page_unit`` (403, nothing kept),
   then the file's type read from its content (``accelerator.documents.filetypes``);
3. :func:`store_then`: the file put in the document store, then the action in its
   ``page_unit(request, form=upload.form)`` (CSRF checked again in its transaction); the stored
   file removed again if the action fails.

A file too large (413), of a refused type (415) or with an unusable name (422) is not a bare
error page: :class:`PageUpload` carries the error, which the route shows on its own page,
next to the file field (DSFR ``fr-upload-group--error``). The form's other fields are given
back only when the post carried the right CSRF token.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import anyio
from fastapi import Request
from starlette.concurrency import run_in_threadpool

from accelerator.documents.actions import StoredFile
from accelerator.documents.filetypes import Detected, clean_filename, detect
from accelerator.documents.storage import new_key
from accelerator.shared.config import Settings
from accelerator.shared.errors import AcceleratorError
from api import limits, uploads
from api.downloads import store_of
from api.pages.web import CSRF_FIELD, Form, Visitor, check_csrf

#: The name of a page form's file input.
FILE_FIELD = "file"
#: The statuses a page shows next to its file field rather than as an error page.
FIELD_ERRORS = frozenset({413, 415, 422})
#: Those of them that the body's reading may raise about the file (the rest: the form's).
STREAM_ERRORS = frozenset({413, 415})
T = TypeVar("T")

#: The route's ceiling before the user is known; each request then gets its own limit.
CEILING = 1 << 40


@dataclass
class ReceivedFile:
    """The file of a page's form, checked, in its temporary file."""

    upload: uploads.Upload
    filename: str
    detected: Detected

    def stored_as(self, dossier_id: uuid.UUID) -> StoredFile:
        """The file as the documents' actions record it, under a new key of ``dossier_id``."""
        return StoredFile(
            storage_key=new_key(dossier_id),
            filename=self.filename,
            detected=self.detected,
            size=self.upload.size,
            sha256=self.upload.sha256.hexdigest(),
        )


@dataclass
class PageUpload:
    """A posted form with a file: its text fields, the file (``None``: the input was left
    empty), or the error to show next to the file field."""

    form: Form
    file: ReceivedFile | None = None
    error: AcceleratorError | None = None
    #: The fields the user typed, to fill the form again beside an error (only when the post
    #: carried the session's CSRF token: never another site's text).
    typed: dict[str, str] = field(default_factory=dict)


def _form(fields: Mapping[str, str]) -> Form:
    return Form({name: [value] for name, value in fields.items()})


@asynccontextmanager
async def receive(
    request: Request,
    *,
    limit: int,
    fields: Mapping[str, int],
    file_required: bool = False,
) -> AsyncIterator[PageUpload]:
    """Read the posted form (``fields``: each text field and its most bytes, ``csrf_token``
    added) and its file of at most ``limit`` bytes; the temporary file is removed on exit.

    Raises ``CsrfRefused`` (403) for a body read in full without the session's token; a file
    refused for its size, type or name comes back as ``PageUpload.error``. Needs the visitor
    that ``page_unit(request, body_unread=True)`` found."""
    visitor: Visitor = request.state.visitor
    settings: Settings = request.app.state.settings
    allowed = {**fields, CSRF_FIELD: uploads.MAX_FIELD}
    body_limit = uploads.body_limit_for(limit, allowed)
    request.scope[limits.SCOPE_KEY] = body_limit
    with uploads.Upload(
        limit=limit,
        fields=allowed,
        staging_dir=settings.upload_staging_dir,
        file_required=file_required,
    ) as received:
        yield await _read(request, received, visitor, body_limit)


async def _read(
    request: Request, received: uploads.Upload, visitor: Visitor, body_limit: int
) -> PageUpload:
    declared = limits.declared_length(request.scope)
    try:
        if declared is not None and declared > body_limit:
            raise uploads.too_large(received.limit)
        await received.receive(request)
    except AcceleratorError as error:
        # While the body streams, only the file's size and type are the file field's; a
        # form a page never sends (an unknown field, a text past its bound) is an error page.
        if error.status_code not in STREAM_ERRORS:
            raise
        return _refused(received.fields, error, visitor)
    form = _form(received.fields)
    check_csrf(visitor.csrf_token, form)
    typed = {k: v for k, v in received.fields.items() if k != CSRF_FIELD}
    if not received.filename and received.size == 0 and not received.file_required:
        return PageUpload(form, typed=typed)
    try:
        filename = clean_filename(received.filename or "")
        detected = await run_in_threadpool(
            lambda: detect(received.path, head=received.head, filename=filename)
        )
    except AcceleratorError as error:
        if error.status_code not in FIELD_ERRORS:
            raise
        return PageUpload(form, error=error, typed=typed)
    return PageUpload(form, ReceivedFile(received, filename, detected), typed=typed)


def _refused(fields: Mapping[str, str], error: AcceleratorError, visitor: Visitor) -> PageUpload:
    """The upload stopped before its end: the error, and the fields read before it if the
    token among them is the session's."""
    form = _form(fields)
    try:
        check_csrf(visitor.csrf_token, form)
    except AcceleratorError:
        return PageUpload(Form(), error=error)
    return PageUpload(form, error=error, typed={k: v for k, v in fields.items() if k != CSRF_FIELD})


async def store_then(
    request: Request,
    file: ReceivedFile | None,
    dossier_id: uuid.UUID,
    act: Callable[[StoredFile | None], T],
) -> T:
    """Put ``file`` (if any) in the document store under a new key of ``dossier_id``, then run
    ``act`` with it in a worker thread (its unit of work records it); the stored file is
    removed again if ``act`` fails. Shielded: a client gone mid-way leaves neither a file
    without its row nor a row without its file."""
    if file is None:
        return await run_in_threadpool(act, None)
    store = store_of(request)
    kept = file.stored_as(dossier_id)
    with anyio.CancelScope(shield=True):
        try:
            await run_in_threadpool(store.put, kept.storage_key, file.upload.path)
            return await run_in_threadpool(act, kept)
        except BaseException:
            await run_in_threadpool(store.delete, kept.storage_key)
            raise
    # A cancel scope may swallow its own cancellation (for the type checker: never here).
    raise AssertionError("unreachable")  # pragma: no cover
