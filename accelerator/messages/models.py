"""Message tables: messages of the threads, the documents they carry, each reader's marker."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accelerator.shared.db import Base, UTCDateTime, new_id


class MessageKind(StrEnum):
    """What a message is: written by its author, or the platform's relay of a request for
    information on a consultation's thread and of the holder's answer to it."""

    MESSAGE = "message"
    INFORMATION_REQUEST = "information_request"
    INFORMATION_ANSWER = "information_answer"


class Message(Base):
    """One message of a thread: the dossier's (holder and platform) or a consultation's
    (administration and platform). ``seq`` numbers the messages of a thread from 1."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("thread", "seq"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id"), index=True)
    consultation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("consultations.id"), nullable=True, index=True
    )
    #: ``dossier:<id>`` or ``consultation:<id>`` (``queries.thread_key``).
    thread: Mapped[str] = mapped_column(String(64), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(
        String(32), default=MessageKind.MESSAGE.value, server_default=MessageKind.MESSAGE.value
    )
    #: The request for information a relay message shows (``kind`` other than ``message``).
    information_request_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("information_requests.id"), nullable=True, index=True
    )


class MessageDocument(Base):
    """A document a message carries (a document of the same dossier)."""

    __tablename__ = "message_documents"

    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id"), primary_key=True)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, default=0)


class MessageRead(Base):
    """How far a user has read a thread: every message up to ``last_seq``."""

    __tablename__ = "message_reads"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    thread: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)
    read_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
