"""Relays wake when a transaction that queued outbox messages commits (PostgreSQL NOTIFY);
on SQLite, and for a transaction rolled back, they wait for their next poll."""

from __future__ import annotations

import threading
import time
from typing import Any

from accelerator.outbox.actions import Queued, enqueue
from accelerator.outbox.topics import Topic
from accelerator.shared.db import utcnow
from workflows.relay import Wakeup


def queue_later(db: Any, delay: float, *, commit: bool = True) -> threading.Thread:
    def queue() -> None:
        time.sleep(delay)
        try:
            with db.transaction() as session:
                enqueue(session, Queued(Topic.NOTIFY, {"template": "essai"}), now=utcnow())
                if not commit:
                    raise RuntimeError("rolled back")
        except RuntimeError:
            pass

    thread = threading.Thread(target=queue)
    thread.start()
    return thread


def timed_wait(waiter: Wakeup, seconds: float) -> float:
    began = time.monotonic()
    waiter.wait(seconds)
    return time.monotonic() - began


def test_a_committed_message_wakes_the_relay_on_postgresql(db: Any) -> None:
    waiter = Wakeup(db, threading.Event())
    waiter.wait(0.01)  # starts listening (PostgreSQL)
    thread = queue_later(db, 0.3)
    elapsed = timed_wait(waiter, 3.0)
    thread.join()
    waiter.close()
    if db.dialect == "postgresql":
        assert 0.25 <= elapsed < 2.0
    else:
        assert elapsed >= 2.9  # SQLite: polling only


def test_a_message_added_without_flush_wakes_the_relay_too(db: Any) -> None:
    from accelerator.outbox.actions import Queued, enqueue

    waiter = Wakeup(db, threading.Event())
    waiter.wait(0.01)

    def queue() -> None:
        time.sleep(0.3)
        with db.transaction() as session:  # flushed by the commit itself
            enqueue(session, Queued(Topic.NOTIFY, {"template": "essai"}), now=utcnow(), new=True)

    thread = threading.Thread(target=queue)
    thread.start()
    elapsed = timed_wait(waiter, 3.0)
    thread.join()
    waiter.close()
    if db.dialect == "postgresql":
        assert 0.25 <= elapsed < 2.0
    else:
        assert elapsed >= 2.9


def test_a_rolled_back_transaction_does_not_wake_the_relay(db: Any) -> None:
    waiter = Wakeup(db, threading.Event())
    waiter.wait(0.01)
    # Only PostgreSQL has notifications; SQLite relays just poll.
    assert (waiter.connection is not None) == (db.dialect == "postgresql")
    thread = queue_later(db, 0.1, commit=False)
    elapsed = timed_wait(waiter, 1.5)
    thread.join()
    waiter.close()
    assert elapsed >= 1.4


def test_asking_the_relay_to_stop_ends_the_wait() -> None:
    class NoDatabase:
        dialect = "sqlite"

    stop = threading.Event()
    waiter = Wakeup(NoDatabase(), stop)  # type: ignore[arg-type]
    threading.Timer(0.2, stop.set).start()
    assert timed_wait(waiter, 5.0) < 2.0
