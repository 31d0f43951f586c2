"""Messages: what an author sends, what a reader sees."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from accelerator.documents.schemas import DocumentOut
from accelerator.messages.models import MessageKind
from accelerator.shared.validation import STRICT_INPUT, Identifier, MultiLine


class MessageIn(BaseModel):
    """A message, and the documents of the dossier it carries."""

    model_config = STRICT_INPUT

    body: MultiLine = Field(min_length=1, max_length=20_000)
    document_ids: list[Identifier] = Field(default_factory=list, max_length=20)


class AuthorOut(BaseModel):
    """Who wrote: a holder reads the people of the platform other than their référent as
    their role (``email`` null)."""

    email: str | None
    name: str


class MessageOut(BaseModel):
    """A message of a thread."""

    id: str
    author: AuthorOut
    body: str
    documents: list[DocumentOut]
    sent_at: str
    # For the pages only: the API's message keeps exactly the keys of its contract (a relayed
    # message reads as what it is from its body).
    #: Written by its author, or the platform's relay of a request for information and of the
    #: holder's answer to it (``MessageKind``).
    kind: MessageKind = Field(MessageKind.MESSAGE, exclude=True)
    #: The request for information a relayed message shows.
    information_request_id: str | None = Field(None, exclude=True)


class UnreadOut(BaseModel):
    """A thread with messages its reader has not read yet."""

    thread: Literal["dossier", "consultation"]
    dossier_id: str
    consultation_id: str | None
    unread: int
