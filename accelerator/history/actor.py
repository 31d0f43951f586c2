"""Who performs an action: a signed-in user, or a flow acting for the platform."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol


class _Person(Protocol):
    @property
    def email(self) -> str: ...
    @property
    def id(self) -> uuid.UUID: ...


@dataclass(frozen=True)
class Actor:
    """The author written into history rows."""

    label: str
    user_id: uuid.UUID | None = None

    @classmethod
    def of(cls, user: _Person) -> Actor:
        """A signed-in user acting for themselves."""
        return cls(label=user.email, user_id=user.id)

    @classmethod
    def command(cls, name: str) -> Actor:
        """The command line (``Actor.command("users create")``: ``cli:users create``): whoever
        runs it holds the database's credentials, and no account."""
        return cls(label=f"cli:{name}")

    @classmethod
    def flow(cls, name: str) -> Actor:
        """A Prefect flow acting for the platform (e.g. ``Actor.flow("intake")``)."""
        return cls(label=f"flow:{name}")
