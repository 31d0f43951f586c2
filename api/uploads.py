"""A multipart upload received as it streams: the file goes to a temporary file, hashed and
counted chunk by chunk, and the request is refused (413) at the chunk that passes the limit.

Starlette's ``request.form()`` spools the whole body before the route sees a byte of it;
here ``python-multipart``'s streaming parser is fed from ``request.stream()``, so no more
than one chunk of the body and one buffer of the file (:data:`WRITE_BUFFER`) are in memory,
and nothing past the limit is read. The form holds one ``file`` part and a few short text
fields (a page's form may declare longer ones, and its file may be optional); anything else is
refused. Whatever happens, the temporary file is removed by the
caller's ``with``: :class:`Upload` is a context manager.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import anyio.to_thread
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from accelerator.documents.filetypes import HEAD_BYTES, TooLarge, UnsupportedType
from accelerator.shared.errors import AcceleratorError, InvalidInput
from accelerator.shared.text import t
from api import limits

#: Bytes of the file kept in memory before they are written out (in a worker thread).
WRITE_BUFFER = 1024 * 1024
#: Bytes of a text field (an identifier, a piece code).
MAX_FIELD = 200
#: Bytes of one part's headers.
MAX_HEADERS = 8 * 1024
#: Parts of the form: the file and at most a few fields.
MAX_PARTS = 8
#: What the body may hold besides the file: boundaries, headers and the text fields.
OVERHEAD = MAX_PARTS * (MAX_HEADERS + MAX_FIELD + 200)


#: The escapes of WHATWG's multipart/form-data encoding: C0 controls, DEL and the quote.
_ESCAPED = re.compile(r"%([01][0-9A-Fa-f]|7[Ff]|22)")


class BadUpload(AcceleratorError):
    """The body is not a readable multipart form (400)."""

    status_code = 400


def too_large(limit: int) -> TooLarge:
    """The 413 of a file past ``limit`` bytes."""
    return TooLarge(t("upload.file_too_large", limit_label=limits.describe(limit), limit=limit))


class Upload:
    """One multipart upload: the file in a temporary file, its hash, size, name and fields."""

    def __init__(
        self,
        *,
        limit: int,
        fields: frozenset[str] | Mapping[str, int],
        staging_dir: Path | None,
        file_required: bool = True,
    ) -> None:
        self.limit = limit
        #: Each text field allowed and its most bytes (``MAX_FIELD`` unless a page's form
        #: declares more, e.g. an opinion's text).
        self.field_limits: dict[str, int] = (
            dict(fields) if isinstance(fields, Mapping) else dict.fromkeys(fields, MAX_FIELD)
        )
        self.allowed_fields = frozenset(self.field_limits)
        self.file_required = file_required
        descriptor, name = tempfile.mkstemp(prefix="upload-", dir=staging_dir)
        self.path = Path(name)
        self._file = os.fdopen(descriptor, "wb")
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.head = b""
        self.filename: str | None = None
        self.fields: dict[str, str] = {}
        self._buffer = bytearray()
        self._part: str | None = None
        self._parts = 0
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, str] = {}
        self._header_bytes = 0
        self._value = bytearray()
        self._ended = False
        self._error: AcceleratorError | None = None

    def __enter__(self) -> Upload:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.discard()

    def discard(self) -> None:
        """Close and remove the temporary file."""
        if not self._file.closed:
            self._file.close()
        self.path.unlink(missing_ok=True)

    # python-multipart's callbacks: they record and bound, never raise inside the parser.

    def _fail(self, error: AcceleratorError) -> None:
        if self._error is None:
            self._error = error

    def _on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            self._fail(InvalidInput(t("upload.too_many_fields")))
        self._headers, self._header_bytes, self._part = {}, 0, None
        self._value = bytearray()

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_value += data[start:end]

    def _count_header(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > MAX_HEADERS:
            self._fail(BadUpload(t("upload.part_headers_too_long")))

    def _on_header_end(self) -> None:
        name = self._header_field.decode("latin-1").strip().lower()
        self._headers[name] = self._header_value.decode("latin-1")
        self._header_field, self._header_value = bytearray(), bytearray()

    def _on_headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get("content-disposition"))
        if disposition != b"form-data" or b"name" not in options:
            self._fail(BadUpload(t("upload.part_without_name")))
            return
        name = options[b"name"].decode("latin-1")
        if name == "file":
            if self.filename is not None:
                self._fail(InvalidInput(t("upload.one_file")))
                return
            raw = options.get(b"filename")
            if raw is None and not self.file_required:
                # A page's optional file input left empty (some clients drop the empty name).
                raw = b""
            if raw is None:
                self._fail(InvalidInput(t("upload.file_needs_filename")))
                return
            try:
                given = raw.decode("utf-8")
            except UnicodeDecodeError:
                given = raw.decode("latin-1")
            # Browsers and HTTP clients send a name's quote and control characters as %XX
            # (WHATWG's multipart encoding): read them back, so that the name is judged as
            # the user gave it (a control character is then refused).
            self.filename = _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), given)
        elif name not in self.allowed_fields:
            self._fail(InvalidInput(t("upload.field_unknown", name=name[:40])))
            return
        elif name in self.fields:
            self._fail(InvalidInput(t("upload.field_twice", name=name)))
            return
        self._part = name

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._error is not None or self._part is None:
            return
        chunk = data[start:end]
        if self._part != "file":
            self._value += chunk
            if len(self._value) > self.field_limits[self._part]:
                self._fail(InvalidInput(t("upload.field_too_long", field=self._part)))
            return
        self.size += len(chunk)
        if self.size > self.limit:
            self._fail(too_large(self.limit))
            return
        self.sha256.update(chunk)
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        self._buffer += chunk

    def _on_part_end(self) -> None:
        if self._error is None and self._part is not None and self._part != "file":
            try:
                self.fields[self._part] = self._value.decode("utf-8").strip()
            except UnicodeDecodeError:
                self._fail(InvalidInput(t("upload.field_not_utf8", field=self._part)))
        self._part = None

    def _on_end(self) -> None:
        self._ended = True

    async def receive(self, request: Request) -> None:
        """Read the body into this upload; raises (400, 413, 415, 422) as soon as it can."""
        content_type, options = parse_options_header(request.headers.get("content-type"))
        boundary = options.get(b"boundary")
        if content_type != b"multipart/form-data" or not boundary or len(boundary) > 200:
            raise UnsupportedType(t("upload.content_type_refused"))
        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._on_part_begin,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_end": self._on_end,
            },
        )
        try:
            async for chunk in request.stream():
                parser.write(chunk)
                if self._error is not None:
                    raise self._error
                if len(self._buffer) >= WRITE_BUFFER:
                    await self._flush()
                if self._ended:
                    break
            parser.finalize()
        except MultipartParseError:
            raise BadUpload(t("upload.multipart_unreadable")) from None
        except ClientDisconnect:
            raise BadUpload(t("upload.interrupted")) from None
        if self._error is not None:
            raise self._error
        if not self._ended:
            raise BadUpload(t("upload.multipart_incomplete"))
        if self.filename is None and self.file_required:
            raise InvalidInput(t("upload.file_missing"))
        await self._flush()
        self._file.close()

    async def _flush(self) -> None:
        if self._buffer:
            data, self._buffer = bytes(self._buffer), bytearray()
            await anyio.to_thread.run_sync(self._file.write, data)


def body_limit_for(file_limit: int, fields: Mapping[str, int] | None = None) -> int:
    """The request body a file of ``file_limit`` bytes comes in (its form around it, with
    the text fields a page's form declares longer than ``MAX_FIELD``)."""
    longer = sum(max(0, size - MAX_FIELD) for size in (fields or {}).values())
    return file_limit + OVERHEAD + longer


#: A piece code as the catalogue writes them (``PC1``, ``PC39``).
_PIECE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,31}")


def optional_id(value: str | None, field: str) -> uuid.UUID | None:
    """A form field holding an identifier: ``None`` when empty, 422 when not a UUID."""
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidInput(t("document.field_uuid_expected", field=field)) from None


def piece_code(value: str | None) -> str | None:
    """A form field naming an expected piece: ``None`` when empty, 422 when not a code."""
    if not value:
        return None
    if not value.isascii() or not _PIECE.fullmatch(value):
        raise InvalidInput(t("document.field_piece_expected"))
    return value.upper()
