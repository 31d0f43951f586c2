"""Where document files live: a local directory, or an S3-compatible bucket (``obstore``).

The same interface for both: a file is written whole (atomically: nobody sees half of it),
read as a stream of chunks, deleted. Keys are chosen by the server (:func:`new_key`), never
derived from a name a user gave. With several API processes on several machines the bucket
is the only choice: each process reads what any other stored.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import obstore
from obstore.exceptions import BaseError, NotFoundError
from obstore.store import LocalStore, S3Store

from accelerator.shared.config import Settings
from accelerator.shared.errors import NotFound, Unavailable
from accelerator.shared.text import t

#: Chunks a download is streamed in.
READ_CHUNK = 256 * 1024


def new_key(dossier_id: uuid.UUID) -> str:
    """A fresh storage key for a file of ``dossier_id`` (random, never from user input)."""
    return f"dossiers/{dossier_id}/{uuid.uuid4().hex}"


class DocumentStore:
    """A document store on an ``obstore`` object store."""

    def __init__(self, store: LocalStore | S3Store, *, description: str) -> None:
        self.store = store
        self.description = description

    def put(self, key: str, path: Path) -> None:
        """Store the file at ``path`` under ``key`` (whole, or not at all)."""
        try:
            obstore.put(self.store, key, path)
        except (BaseError, OSError, RuntimeError) as error:
            raise Unavailable(t("document.storage_unavailable")) from error

    def chunks(self, key: str) -> Iterator[bytes]:
        """The file under ``key``, chunk by chunk; ``NotFound`` if the store lacks it."""
        try:
            result = obstore.get(self.store, key)
        except NotFoundError:
            raise NotFound(t("document.stored_file_missing")) from None
        except (BaseError, OSError, RuntimeError) as error:
            raise Unavailable(t("document.storage_unavailable")) from error
        try:
            for chunk in result.stream(min_chunk_size=READ_CHUNK):
                yield bytes(chunk)
        except (BaseError, OSError, RuntimeError) as error:
            raise Unavailable(t("document.storage_interrupted")) from error

    def read(self, key: str) -> bytes:
        """The whole file under ``key`` (tests and small files only)."""
        return b"".join(self.chunks(key))

    def delete(self, key: str) -> None:
        """Remove ``key`` if present (a missing key is not an error)."""
        with contextlib.suppress(NotFoundError):
            obstore.delete(self.store, key)

    def list_keys(self, prefix: str = "") -> list[str]:
        """Every key under ``prefix`` (the tests)."""
        return [key for key, _ in self.listing(prefix)]

    def listing(self, prefix: str = "") -> Iterator[tuple[str, dt.datetime]]:
        """Every key under ``prefix`` with when it was written."""
        for batch in obstore.list(self.store, prefix=prefix or None):
            for meta in batch:
                yield str(meta["path"]), meta["last_modified"]


def open_store(settings: Settings) -> DocumentStore:
    """The document store ``settings`` describe."""
    if settings.storage_backend == "s3":
        assert settings.s3_bucket and settings.s3_access_key_id and settings.s3_secret_access_key
        s3 = S3Store(
            settings.s3_bucket,
            endpoint=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            virtual_hosted_style_request=False,
            client_options={"allow_http": settings.s3_allow_http, "timeout": "120s"},
        )
        where = settings.s3_endpoint_url or "AWS"
        return DocumentStore(s3, description=f"s3://{settings.s3_bucket} ({where})")
    directory = settings.documents_dir
    directory.mkdir(parents=True, exist_ok=True)
    return DocumentStore(LocalStore(directory, mkdir=True), description=str(directory))
