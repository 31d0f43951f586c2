"""Wake the relays when messages are queued, instead of letting them wait for their next poll.

On PostgreSQL a transaction that added outbox messages sends ``NOTIFY accelerator_outbox`` as it
commits (the notification is delivered only if it commits, once however many messages it
added); relays ``LISTEN`` on that channel. On SQLite, and whenever a notification is missed,
the relays' polling still finds every message: this only shortens the wait.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from accelerator.outbox.models import OutboxMessage

CHANNEL = "accelerator_outbox"
_FLAG = "outbox_wakeup"


def _note_new_messages(session: Session, _context: Any) -> None:
    # After a flush ``session.new`` still lists what the flush inserted.
    if any(isinstance(instance, OutboxMessage) for instance in session.new):
        session.info[_FLAG] = True


def _notify_before_commit(session: Session) -> None:
    # Messages flushed earlier, or still pending (the commit's own flush comes after this hook).
    queued = session.info.pop(_FLAG, False) or any(
        isinstance(instance, OutboxMessage) for instance in session.new
    )
    if queued and session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {CHANNEL}"))


def _forget(session: Session, *_: Any) -> None:
    session.info.pop(_FLAG, None)


def install() -> None:
    """Register the session hooks (once per process; idempotent)."""
    if not event.contains(Session, "after_flush", _note_new_messages):
        event.listen(Session, "after_flush", _note_new_messages)
        event.listen(Session, "before_commit", _notify_before_commit)
        event.listen(Session, "after_rollback", _forget)
