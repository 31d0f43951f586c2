"""Read side of the threads: messages as each reader sees their authors, unread counts.

Who reads which thread (docs/security.md): a dossier's thread, the holder's organisation and
the platform (never an agent: ``dossiers/access.py`` hides every dossier from agents); a
consultation's thread, the platform and the administration consulted (never the holder:
``consultations/access.py``). A holder reads the people of the platform other than their
référent as their role, without address (``views/lens.py``'s labels).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from accelerator.consultations.models import Consultation
from accelerator.documents.models import Document
from accelerator.documents.queries import DEFAULT_ZONE, document_view
from accelerator.dossiers.models import Dossier
from accelerator.dossiers.status import DossierStatus
from accelerator.identity.models import User
from accelerator.identity.roles import Role
from accelerator.messages.models import Message, MessageDocument, MessageKind, MessageRead
from accelerator.messages.schemas import AuthorOut, MessageOut, UnreadOut
from accelerator.shared.validation import MAX_PAGE
from accelerator.sla.instants import local_iso
from accelerator.sla.models import Calendar
from accelerator.views.lens import HOLDER_ACTOR_LABELS


def dossier_thread(dossier_id: uuid.UUID) -> str:
    """The key of a dossier's thread (holder and platform)."""
    return f"dossier:{dossier_id}"


def consultation_thread(consultation_id: uuid.UUID) -> str:
    """The key of a consultation's thread (administration and platform)."""
    return f"consultation:{consultation_id}"


def author_view(author: User, *, viewer: User, dossier: Dossier) -> AuthorOut:
    """The author as ``viewer`` reads them: a holder sees people (their organisation's, their
    référent) and the platform's other members as their role only."""
    if Role(viewer.role) is not Role.HOLDER:
        return AuthorOut(email=author.email, name=author.name)
    role = Role(author.role)
    if role is Role.HOLDER or author.id == dossier.referent_id:
        return AuthorOut(email=author.email, name=author.name)
    return AuthorOut(email=None, name=HOLDER_ACTOR_LABELS[role])


def list_messages(
    session: Session,
    viewer: User,
    *,
    dossier: Dossier,
    thread: str,
    limit: int = 100,
    offset: int = 0,
) -> list[MessageOut]:
    """A thread's messages, oldest first, with their authors and documents (three queries)."""
    messages = list(
        session.scalars(
            select(Message)
            .where(Message.thread == thread)
            .order_by(Message.seq)
            .limit(min(limit, MAX_PAGE))
            .offset(offset)
        )
    )
    if not messages:
        return []
    authors = {
        u.id: u
        for u in session.scalars(select(User).where(User.id.in_({m.author_id for m in messages})))
    }
    zone = (
        session.scalar(select(Calendar.timezone).where(Calendar.code == dossier.calendar_code))
        or DEFAULT_ZONE
    )
    carried: dict[uuid.UUID, list[Document]] = defaultdict(list)
    for message_id, document in session.execute(
        select(MessageDocument.message_id, Document)
        .join(Document, Document.id == MessageDocument.document_id)
        .where(MessageDocument.message_id.in_([m.id for m in messages]))
        .order_by(MessageDocument.rank)
    ):
        carried[message_id].append(document)
    return [
        MessageOut(
            id=str(m.id),
            author=author_view(authors[m.author_id], viewer=viewer, dossier=dossier),
            body=m.body,
            documents=[document_view(d, zone) for d in carried[m.id]],
            sent_at=local_iso(m.sent_at, zone) or "",
            kind=MessageKind(m.kind),
            information_request_id=(
                str(m.information_request_id) if m.information_request_id else None
            ),
        )
        for m in messages
    ]


@dataclass(frozen=True)
class ThreadPage:
    """The end of a thread as a page shows it."""

    #: Its last messages, oldest first.
    messages: list[MessageOut]
    #: The number of its latest message (how many it holds).
    latest: int
    #: ``latest`` when the reader has not read it yet, else 0: how far their marker moves.
    unread: int


def latest_messages(
    session: Session, viewer: User, *, dossier: Dossier, thread: str, shown: int
) -> ThreadPage:
    """The thread's last ``shown`` messages as ``viewer`` reads them, and where they stand."""
    latest = last_seq(session, thread)
    if latest == 0:
        return ThreadPage([], 0, 0)
    messages = list_messages(
        session, viewer, dossier=dossier, thread=thread, limit=shown, offset=max(0, latest - shown)
    )
    unread = latest if latest > read_up_to(session, viewer, thread) else 0
    return ThreadPage(messages, latest, unread)


def last_seq(session: Session, thread: str) -> int:
    """The number of the thread's latest message (0: none yet)."""
    return int(
        session.scalar(
            select(func.coalesce(func.max(Message.seq), 0)).where(Message.thread == thread)
        )
        or 0
    )


def read_up_to(session: Session, user: User, thread: str) -> int:
    """How far ``user`` has read ``thread`` (0: never opened)."""
    return int(
        session.scalar(
            select(MessageRead.last_seq).where(
                MessageRead.user_id == user.id, MessageRead.thread == thread
            )
        )
        or 0
    )


def _threads_of(user: User) -> ColumnElement[bool]:
    """SQL condition on ``Message`` (joined to ``Dossier``): the threads ``user`` takes part
    in. Référents: the threads of the dossiers they follow; managers and administrators:
    every filed dossier's."""
    role = Role(user.role)
    if role is Role.HOLDER:
        return and_(
            Message.consultation_id.is_(None), Dossier.organisation_id == user.organisation_id
        )
    if role is Role.AGENT:
        return Message.consultation_id.in_(
            select(Consultation.id).where(
                Consultation.administration_code == user.administration_code
            )
        )
    if role is Role.REFERENT:
        return Dossier.referent_id == user.id
    return Dossier.status != DossierStatus.DRAFT.value


def unread_threads(session: Session, user: User, *, limit: int = 500) -> list[UnreadOut]:
    """The threads ``user`` takes part in that hold messages of others they have not read,
    with how many (one query)."""
    rows = session.execute(
        select(Message.thread, Message.dossier_id, Message.consultation_id, func.count(Message.id))
        .join(Dossier, Dossier.id == Message.dossier_id)
        .outerjoin(
            MessageRead, and_(MessageRead.user_id == user.id, MessageRead.thread == Message.thread)
        )
        .where(
            _threads_of(user),
            Message.author_id != user.id,
            Message.seq > func.coalesce(MessageRead.last_seq, 0),
        )
        .group_by(Message.thread, Message.dossier_id, Message.consultation_id)
        .order_by(Message.thread)
        .limit(min(limit, MAX_PAGE))
    )
    return [
        UnreadOut(
            thread="consultation" if consultation_id else "dossier",
            dossier_id=str(dossier_id),
            consultation_id=str(consultation_id) if consultation_id else None,
            unread=count,
        )
        for _thread, dossier_id, consultation_id, count in rows
    ]


def count_unread(session: Session, user: User) -> int:
    """How many messages of others ``user`` has not read in the threads they take part in
    (the pages' header; one query)."""
    counted = session.scalar(
        select(func.count(Message.id))
        .join(Dossier, Dossier.id == Message.dossier_id)
        .outerjoin(
            MessageRead, and_(MessageRead.user_id == user.id, MessageRead.thread == Message.thread)
        )
        .where(
            _threads_of(user),
            Message.author_id != user.id,
            Message.seq > func.coalesce(MessageRead.last_seq, 0),
        )
    )
    return int(counted or 0)


def unread_in(session: Session, user: User, threads: Sequence[str]) -> dict[str, int]:
    """Unread messages of others in each of ``threads`` for ``user`` (one query)."""
    if not threads:
        return {}
    counted = dict.fromkeys(threads, 0)
    for thread, count in session.execute(
        select(Message.thread, func.count(Message.id))
        .outerjoin(
            MessageRead, and_(MessageRead.user_id == user.id, MessageRead.thread == Message.thread)
        )
        .where(
            Message.thread.in_(threads),
            Message.author_id != user.id,
            Message.seq > func.coalesce(MessageRead.last_seq, 0),
        )
        .group_by(Message.thread)
    ):
        counted[thread] = count
    return counted
