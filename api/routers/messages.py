"""The single window's threads: the holder and the platform on the dossier, an administration
and the platform on its consultation; and each reader's unread counts.

Reading a thread marks it read: the list is built in the GET's read-only unit of work, then
the reader's marker moves in a short write transaction of its own, only when there is
something new (``GET /api/v1/messages/unread`` counts what is left).
"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from accelerator.consultations.access import access_consultation
from accelerator.dossiers.access import access_dossier
from accelerator.dossiers.models import Dossier
from accelerator.identity.models import User
from accelerator.identity.roles import Role
from accelerator.messages import actions
from accelerator.messages.models import Message
from accelerator.messages.queries import (
    consultation_thread,
    dossier_thread,
    last_seq,
    list_messages,
    read_up_to,
    unread_threads,
)
from accelerator.messages.schemas import MessageIn, MessageOut, UnreadOut
from accelerator.shared.db import utcnow
from api.deps import CurrentUser, Limit, Offset, SessionDep, parse_id
from api.idempotency import idempotent
from api.policies import Scope, allow
from api.unit_of_work import Router, mark_thread_read

router = Router(prefix="/api/v1", tags=["messages"])

DOSSIER_READERS = allow(
    holder=Scope.OWN_ORGANISATION, referent=Scope.FILED, manager=Scope.FILED, admin=Scope.FILED
)
CONSULTATION_READERS = allow(
    agent=Scope.CONSULTED_ADMINISTRATION, referent=Scope.ANY, manager=Scope.ANY, admin=Scope.ANY
)


def _view(session: Session, user: User, message: Message) -> MessageOut:
    dossier = session.get_one(Dossier, message.dossier_id)
    shown = list_messages(
        session, user, dossier=dossier, thread=message.thread, offset=message.seq - 1, limit=1
    )
    return shown[0]


def _read(
    request: Request,
    session: Session,
    user: User,
    *,
    dossier: Dossier,
    thread: str,
    limit: int,
    offset: int,
) -> list[MessageOut]:
    """The thread's page, then the reader's marker moved to its latest message if it was
    behind (a write transaction of its own: the GET's is read-only)."""
    shown = list_messages(session, user, dossier=dossier, thread=thread, limit=limit, offset=offset)
    latest = last_seq(session, thread)
    if latest > read_up_to(session, user, thread):
        mark_thread_read(request.app.state.database, user_id=user.id, thread=thread, seq=latest)
    return shown


@router.post(
    "/dossiers/{dossier_id}/messages",
    status_code=201,
    policy=allow(holder=Scope.OWN_ORGANISATION, referent=Scope.FILED),
)
@idempotent(201)
def write_to_dossier(
    dossier_id: str, data: MessageIn, session: SessionDep, user: CurrentUser
) -> MessageOut:
    """Write on the dossier's thread (the holder to the platform, a référent to the holder)."""
    message = actions.post_dossier_message(
        session, dossier_id=parse_id(dossier_id, "Dossier"), data=data, user=user, now=utcnow()
    )
    return _view(session, user, message)


@router.get("/dossiers/{dossier_id}/messages", policy=DOSSIER_READERS)
def dossier_messages(
    dossier_id: str,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[MessageOut]:
    """The dossier's thread, oldest first; reading it marks it read."""
    dossier = access_dossier(session, user, parse_id(dossier_id, "Dossier"))
    return _read(
        request, session, user, dossier=dossier, thread=dossier_thread(dossier.id),
        limit=limit, offset=offset,
    )  # fmt: skip


@router.post(
    "/consultations/{consultation_id}/messages",
    status_code=201,
    policy=allow(agent=Scope.CONSULTED_ADMINISTRATION, referent=Scope.ANY),
)
@idempotent(201)
def write_to_consultation(
    consultation_id: str, data: MessageIn, session: SessionDep, user: CurrentUser
) -> MessageOut:
    """Write on the consultation's thread (its administration's agents and the platform)."""
    message = actions.post_consultation_message(
        session,
        consultation_id=parse_id(consultation_id, "Consultation"),
        data=data,
        user=user,
        now=utcnow(),
    )
    return _view(session, user, message)


@router.get("/consultations/{consultation_id}/messages", policy=CONSULTATION_READERS)
def consultation_messages(
    consultation_id: str,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[MessageOut]:
    """The consultation's thread, oldest first; reading it marks it read."""
    consultation = access_consultation(session, user, parse_id(consultation_id, "Consultation"))
    dossier = session.get_one(Dossier, consultation.dossier_id)
    return _read(
        request, session, user, dossier=dossier, thread=consultation_thread(consultation.id),
        limit=limit, offset=offset,
    )  # fmt: skip


@router.get("/messages/unread", policy=allow(**dict.fromkeys(Role, Scope.VISIBLE)))
def unread(session: SessionDep, user: CurrentUser) -> list[UnreadOut]:
    """The caller's threads holding messages they have not read, with how many: holders,
    their dossiers'; agents, their administration's consultations'; référents, the dossiers
    they follow (both threads); managers and administrators, every filed dossier's."""
    return unread_threads(session, user)
