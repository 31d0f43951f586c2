"""The five roles of docs/domain.md."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a user is; one per account."""

    HOLDER = "holder"
    REFERENT = "referent"
    AGENT = "agent"
    MANAGER = "manager"
    ADMIN = "admin"
