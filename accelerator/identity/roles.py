"""The five roles of docs/domain.md, and the check that a user has one of them."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from accelerator.shared.errors import Forbidden
from accelerator.shared.text import t

if TYPE_CHECKING:
    from accelerator.identity.models import User


class Role(StrEnum):
    """What a user is; one per account."""

    HOLDER = "holder"
    REFERENT = "referent"
    AGENT = "agent"
    MANAGER = "manager"
    ADMIN = "admin"


def require_role(user: User, *roles: Role) -> None:
    """Refuse (403) unless ``user`` has one of ``roles``."""
    if Role(user.role) not in roles:
        allowed = ", ".join(ROLE_LABELS[r] for r in roles)
        raise Forbidden(t("identity.role_required", allowed=allowed))


ROLE_LABELS: dict[Role, str] = {
    Role.HOLDER: t("identity.role.holder"),
    Role.REFERENT: t("identity.role.referent"),
    Role.AGENT: t("identity.role.agent"),
    Role.MANAGER: t("identity.role.manager"),
    Role.ADMIN: t("identity.role.admin"),
}
