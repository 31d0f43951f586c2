"""Run one domain action in its own transaction: the unit every task is made of."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from prefect.logging.configuration import ensure_logging_setup
from sqlalchemy.orm import Session

import accelerator.migrations.tables  # noqa: F401 - every table mapped before the first query
from accelerator.shared import logs
from accelerator.shared.config import get_settings
from accelerator.shared.db import get_database
from accelerator.shared.text import t

T = TypeVar("T")
K = TypeVar("K")

log = logging.getLogger("accelerator.flows")
# Prefect sets up its logging lazily (at the first flow, or `from prefect import flow`); set it
# up now, so that ours completes it (and filters what its handler ships to its UI).
ensure_logging_setup()
logs.configure(get_settings().log_format, ui_level=get_settings().flow_ui_log_level)


def summary(message: str, *args: object) -> None:
    """Say what a flow run did with its batch: in this process's log, and in Prefect's UI
    with the run whatever ``ACCELERATOR_FLOW_UI_LOG_LEVEL`` (see ``accelerator.shared.logs``)."""
    log.info(message, *args, extra={"ui": True})


class IncompleteBatch(RuntimeError):
    """Some items of a batch failed; the others are done (and stay done on a retry)."""

    def __init__(self, what: str, failures: dict[str, str]) -> None:
        self.failures = failures
        listed = "; ".join(f"{key}: {error}" for key, error in list(failures.items())[:5])
        super().__init__(
            t("workflows.batch_failures", what=what, count=len(failures), listed=listed)
        )


def in_transaction(action: Callable[[Session], T]) -> T:
    """Call ``action`` with a session of the configured database; commit on success."""
    with get_database().transaction() as session:
        return action(session)


def each_in_transaction(
    what: str, keys: Sequence[K], action: Callable[[Session, K], T]
) -> dict[str, T]:
    """``action`` for every key, each in its own transaction: one failure rolls back only
    its own item. Raises :class:`IncompleteBatch` after trying them all if any failed."""
    done: dict[str, T] = {}
    failures: dict[str, str] = {}
    for key in keys:
        try:
            with logs.scope(item=str(key)), get_database().transaction() as session:
                done[str(key)] = action(session, key)
        except Exception as error:
            log.exception("%s %s failed", what, key)
            failures[str(key)] = f"{type(error).__name__}: {error}"
    if failures:
        raise IncompleteBatch(what, failures)
    return done


def chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """``items`` cut in lists of at most ``size``."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
