"""Document tables: one row per stored file (a new version of a piece is a new row)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from accelerator.shared.db import Base, UTCDateTime, new_id


class Document(Base):
    """A file attached to a dossier, stored under a key the server chose.

    ``consultation_id`` set: a document of one consultation (the référent's attachment for
    that administration), read by the platform and that administration only; otherwise a
    document of the dossier, read by the holder's organisation, the platform and every
    administration consulted on it. ``filename`` is the cleaned name the uploader gave, for
    display only: nothing is ever looked up by it.
    """

    __tablename__ = "documents"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id"), index=True)
    consultation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("consultations.id"), nullable=True, index=True
    )
    information_request_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("information_requests.id"), nullable=True, index=True
    )
    #: The expected piece it is (``PC1``), a code of the catalogue; no foreign key: a piece
    #: the catalogue drops later stays named on the documents that supplied it.
    piece: Mapped[str | None] = mapped_column(String(32), nullable=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128))
    #: The encoding of a text document (``utf-8``, ``windows-1252``), sent with it.
    charset: Mapped[str | None] = mapped_column(String(32), nullable=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    uploaded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
