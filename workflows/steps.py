"""Run one domain action in its own transaction: the unit every task is made of."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

import accelerator.models  # noqa: F401 - every table mapped before the first query
from accelerator.db import get_database

T = TypeVar("T")


def in_transaction(action: Callable[[Session], T]) -> T:
    """Call ``action`` with a session of the configured database; commit on success."""
    with get_database().transaction() as session:
        return action(session)
