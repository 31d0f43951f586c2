"""Who performs an action: a signed-in user, or a flow acting for the platform."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from accelerator.identity.roles import Role


@dataclass(frozen=True)
class Actor:
    """The author written into history rows."""

    label: str
    user_id: uuid.UUID | None = None
    role: Role | None = None

    @classmethod
    def flow(cls, name: str) -> Actor:
        """A Prefect flow acting for the platform (e.g. ``Actor.flow("intake")``)."""
        return cls(label=f"flow:{name}")
