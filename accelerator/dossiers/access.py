"""The only way to load a dossier on behalf of a user (consultations and clocks:
``consultations/access.py``).

Object-level rules of docs/domain.md. An object the user may not see answers ``NotFound``
(404), so its existence is not revealed; an object they see but may not act on answers
``Forbidden`` (403).
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, false, select
from sqlalchemy.orm import Session

from accelerator.dossiers.models import Dossier
from accelerator.dossiers.status import DossierStatus
from accelerator.identity.models import User
from accelerator.identity.roles import Role, require_role
from accelerator.shared.errors import Forbidden, NotFound, check_version
from accelerator.shared.logs import annotate_dossier
from accelerator.shared.text import t

DOSSIER_NOT_FOUND = t("dossier.not_found")


def dossier_visibility(user: User) -> ColumnElement[bool]:
    """SQL condition on ``Dossier`` selecting what ``user`` may see."""
    role = Role(user.role)
    if role is Role.HOLDER:
        return Dossier.organisation_id == user.organisation_id
    if role in (Role.REFERENT, Role.MANAGER, Role.ADMIN):
        # The platform works as a team: référents see every filed dossier (cover, absences).
        return Dossier.status != DossierStatus.DRAFT.value
    return false()


def access_dossier(
    session: Session,
    user: User,
    dossier_id: uuid.UUID,
    *,
    for_update: bool = False,
    expected_version: int | None = None,
) -> Dossier:
    """The dossier if ``user`` may see it (locked when ``for_update``), else ``NotFound``.

    With ``expected_version`` (optimistic locking), a dossier changed since the caller read it
    answers ``Conflict`` instead of being overwritten.
    """
    query = select(Dossier).where(Dossier.id == dossier_id, dossier_visibility(user))
    if for_update or expected_version is not None:
        query = query.with_for_update()
    dossier = session.scalar(query)
    if dossier is None:
        raise NotFound(DOSSIER_NOT_FOUND)
    annotate_dossier(dossier)
    check_version(t("dossier.what"), dossier.version, expected_version)
    return dossier


def require_referent_of(user: User, dossier: Dossier) -> None:
    """Refuse (403) unless ``user`` is the dossier's référent."""
    require_role(user, Role.REFERENT)
    if dossier.referent_id != user.id:
        raise Forbidden(t("dossier.other_referent"))
