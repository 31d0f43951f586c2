"""Write to a thread, and mark a thread read.

The holder writes to the platform on the dossier's thread, never to an administration; an
administration's agents and the platform write on the consultation's thread. Each message
is numbered in its thread under the dossier's lock and queues an e-mail to the other side
(the outbox; an agent who chose the daily digest gets it there).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from accelerator.consultations.access import access_consultation
from accelerator.consultations.models import Consultation
from accelerator.documents.models import Document
from accelerator.documents.queries import document_visibility
from accelerator.dossiers.access import access_dossier
from accelerator.dossiers.models import Dossier
from accelerator.dossiers.status import DossierStatus
from accelerator.identity.models import User
from accelerator.identity.roles import Role, require_role
from accelerator.messages.models import Message, MessageDocument, MessageKind, MessageRead
from accelerator.messages.queries import consultation_thread, dossier_thread, last_seq
from accelerator.messages.schemas import MessageIn
from accelerator.notifications.actions import Template, notification
from accelerator.outbox.actions import enqueue
from accelerator.shared.errors import InvalidInput, InvalidTransition
from accelerator.shared.text import t
from accelerator.views.lens import HOLDER_ACTOR_LABELS

#: Characters of a message an e-mail quotes (the rest is read on the platform).
QUOTED = 2_000


def _attachable(
    session: Session,
    user: User,
    dossier: Dossier,
    document_ids: list[uuid.UUID],
    *,
    consultation_id: uuid.UUID | None,
) -> list[uuid.UUID]:
    """``document_ids`` if each is a document of the dossier that the author reads and every
    reader of the thread may read too; else ``InvalidInput`` (the same for all: it tells
    nothing of a document the author may not see)."""
    unique = list(dict.fromkeys(document_ids))
    if len(unique) != len(document_ids):
        raise InvalidInput(t("message.document_twice"))
    if not unique:
        return []
    shared: ColumnElement[bool] = Document.consultation_id.is_(None)
    if consultation_id is not None:
        shared = or_(shared, Document.consultation_id == consultation_id)
    found = set(
        session.scalars(
            select(Document.id)
            .join(Dossier, Dossier.id == Document.dossier_id)
            .where(
                Document.id.in_(unique),
                Document.dossier_id == dossier.id,
                shared,
                document_visibility(user),
            )
        )
    )
    if found != set(unique):
        raise InvalidInput(t("message.document_unknown"))
    return unique


def write(
    session: Session,
    *,
    dossier: Dossier,
    consultation_id: uuid.UUID | None,
    data: MessageIn,
    user: User,
    now: dt.datetime,
    kind: MessageKind = MessageKind.MESSAGE,
    information_request_id: uuid.UUID | None = None,
) -> Message:
    """Number and store a message of ``user`` on the dossier's thread or the consultation's,
    with the documents it carries; the author has read their thread up to it."""
    thread = (
        dossier_thread(dossier.id)
        if consultation_id is None
        else consultation_thread(consultation_id)
    )
    documents = _attachable(
        session, user, dossier, data.document_ids, consultation_id=consultation_id
    )
    seq = last_seq(session, thread) + 1
    message = Message(
        dossier_id=dossier.id,
        consultation_id=consultation_id,
        thread=thread,
        seq=seq,
        author_id=user.id,
        body=data.body,
        sent_at=now,
        kind=kind.value,
        information_request_id=information_request_id,
    )
    session.add(message)
    session.flush()
    for rank, document_id in enumerate(documents):
        session.add(MessageDocument(message_id=message.id, document_id=document_id, rank=rank))
    # The author has read what they wrote (and everything before it).
    mark_read(session, user=user, thread=thread, seq=seq, now=now)
    return message


def quoted(body: str) -> str:
    """What an e-mail quotes of a message."""
    return body if len(body) <= QUOTED else body[:QUOTED].rstrip() + " […]"


def post_dossier_message(
    session: Session, *, dossier_id: uuid.UUID, data: MessageIn, user: User, now: dt.datetime
) -> Message:
    """Write on the dossier's thread (the holder, or a référent of the platform)."""
    dossier = access_dossier(session, user, dossier_id, for_update=True)
    require_role(user, Role.HOLDER, Role.REFERENT)
    if dossier.status == DossierStatus.DRAFT:
        raise InvalidTransition(t("message.draft_dossier"))
    message = write(session, dossier=dossier, consultation_id=None, data=data, user=user, now=now)
    if Role(user.role) is Role.HOLDER:
        if dossier.referent_id is not None:
            enqueue(
                session,
                notification(
                    Template.MESSAGE_RECEIVED,
                    dossier_id=dossier.id,
                    user_ids=[dossier.referent_id],
                    context={
                        "author": t("message.holder_context", name=user.name),
                        "message": quoted(data.body),
                    },
                ),
                now=now,
            )
    else:
        # The holder reads their référent by name, anyone else of the platform by role.
        shown = (
            f"{user.name} ({user.email})"
            if user.id == dossier.referent_id
            else HOLDER_ACTOR_LABELS[Role(user.role)]
        )
        enqueue(
            session,
            notification(
                Template.MESSAGE_RECEIVED,
                dossier_id=dossier.id,
                organisation_id=dossier.organisation_id,
                context={"author": shown, "message": quoted(data.body)},
            ),
            now=now,
        )
    return message


def post_consultation_message(
    session: Session, *, consultation_id: uuid.UUID, data: MessageIn, user: User, now: dt.datetime
) -> Message:
    """Write on a consultation's thread (its administration's agents, or a référent)."""
    consultation = access_consultation(session, user, consultation_id)
    require_role(user, Role.AGENT, Role.REFERENT)
    # Same lock order as every action: the dossier first.
    dossier = session.scalar(
        select(Dossier).where(Dossier.id == consultation.dossier_id).with_for_update()
    )
    assert dossier is not None
    message = write(
        session, dossier=dossier, consultation_id=consultation.id, data=data, user=user, now=now
    )
    context = {"author": f"{user.name} ({user.email})", "message": quoted(data.body)}
    if Role(user.role) is Role.AGENT:
        if dossier.referent_id is not None:
            enqueue(
                session,
                notification(
                    Template.MESSAGE_RECEIVED,
                    dossier_id=dossier.id,
                    user_ids=[dossier.referent_id],
                    context={**context, "consultation_id": str(consultation.id)},
                ),
                now=now,
            )
    else:
        tell_administration(
            session,
            dossier=dossier,
            consultation=consultation,
            author=user,
            body=data.body,
            now=now,
        )
    return message


def tell_administration(
    session: Session,
    *,
    dossier: Dossier,
    consultation: Consultation,
    author: User,
    body: str,
    now: dt.datetime,
) -> None:
    """Queue the e-mail telling the consulted administration's agents of a message the
    platform wrote on its consultation's thread (their daily digest if they chose it)."""
    enqueue(
        session,
        notification(
            Template.MESSAGE_RECEIVED,
            dossier_id=dossier.id,
            administration=consultation.administration_code,
            context={
                "author": f"{author.name} ({author.email})",
                "message": quoted(body),
                "consultation_id": str(consultation.id),
            },
        ),
        now=now,
    )


def mark_read(session: Session, *, user: User, thread: str, seq: int, now: dt.datetime) -> None:
    """``user`` has read ``thread`` up to message ``seq`` (a marker never moves back)."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(MessageRead).values(
        user_id=user.id, thread=thread, last_seq=seq, read_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[MessageRead.user_id, MessageRead.thread],
            set_={"last_seq": statement.excluded.last_seq, "read_at": statement.excluded.read_at},
            where=MessageRead.last_seq < statement.excluded.last_seq,
        )
    )
