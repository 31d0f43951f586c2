"""The only way to load a dossier or a consultation on behalf of a user.

Object-level rules of docs/domain.md in one place. An object the user may not see answers
``NotFound`` (404), so its existence is not revealed; an object they see but may not act on
answers ``Forbidden`` (403).
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session

from accelerator.consultations.models import Consultation
from accelerator.dossiers.models import Dossier
from accelerator.dossiers.status import DossierStatus
from accelerator.identity.models import User
from accelerator.identity.roles import Role
from accelerator.shared.errors import Conflict, Forbidden, NotFound
from accelerator.shared.logs import annotate, annotate_dossier
from accelerator.sla.definitions import ClockKind
from accelerator.sla.models import Clock

DOSSIER_NOT_FOUND = "Dossier introuvable."
CONSULTATION_NOT_FOUND = "Consultation introuvable."


def dossier_visibility(user: User) -> ColumnElement[bool]:
    """SQL condition on ``Dossier`` selecting what ``user`` may see."""
    role = Role(user.role)
    if role is Role.HOLDER:
        return Dossier.organisation_id == user.organisation_id
    if role in (Role.REFERENT, Role.MANAGER, Role.ADMIN):
        # The platform works as a team: référents see every filed dossier (cover, absences).
        return Dossier.status != DossierStatus.DRAFT.value
    return false()


def consultation_visibility(user: User) -> ColumnElement[bool]:
    """SQL condition on ``Consultation`` (joined to ``Dossier``) for ``user``."""
    role = Role(user.role)
    if role is Role.AGENT:
        return Consultation.administration_code == user.administration_code
    if role in (Role.REFERENT, Role.MANAGER, Role.ADMIN):
        return true()
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
    check_version("Le dossier", dossier.version, expected_version)
    return dossier


def check_version(what: str, current: int, expected: int | None) -> None:
    """Refuse a stale edit: the object changed since the caller read version ``expected``."""
    if expected is not None and expected != current:
        raise Conflict(
            f"{what} a été modifié entre-temps (version {current}, vous aviez la version "
            f"{expected}) : rechargez-le avant de recommencer."
        )


def access_consultation(
    session: Session,
    user: User,
    consultation_id: uuid.UUID,
    *,
    for_update: bool = False,
    expected_version: int | None = None,
) -> Consultation:
    """The consultation if ``user`` may see it (locked when ``for_update``), else ``NotFound``.

    With ``expected_version``, a consultation changed since the caller read it is a ``Conflict``.
    """
    query = (
        select(Consultation)
        .join(Dossier, Dossier.id == Consultation.dossier_id)
        .where(Consultation.id == consultation_id, consultation_visibility(user))
    )
    if for_update or expected_version is not None:
        query = query.with_for_update(of=Consultation)
    consultation = session.scalar(query)
    if consultation is None:
        raise NotFound(CONSULTATION_NOT_FOUND)
    annotate(consultation_id=str(consultation.id), dossier_id=str(consultation.dossier_id))
    check_version("La consultation", consultation.version, expected_version)
    return consultation


def require_role(user: User, *roles: Role) -> None:
    """Refuse (403) unless ``user`` has one of ``roles``."""
    if Role(user.role) not in roles:
        allowed = ", ".join(ROLE_LABELS[r] for r in roles)
        raise Forbidden(f"Action réservée : {allowed}.")


def require_referent_of(user: User, dossier: Dossier) -> None:
    """Refuse (403) unless ``user`` is the dossier's référent."""
    require_role(user, Role.REFERENT)
    if dossier.referent_id != user.id:
        raise Forbidden("Ce dossier est suivi par un autre référent.")


ROLE_LABELS: dict[Role, str] = {
    Role.HOLDER: "porteur de projet",
    Role.REFERENT: "référent de la plateforme",
    Role.AGENT: "agent d'une administration",
    Role.MANAGER: "pilotage",
    Role.ADMIN: "administrateur",
}


#: Clocks a holder never sees: the accelerator's internal targets (docs/domain.md: holders see the
#: legal deadlines). The dossier views apply the same set.
HIDDEN_FROM_HOLDERS: frozenset[str] = frozenset({ClockKind.CONSULTATION_TARGET.value})


def clock_visible_to(user: User, kind: str) -> bool:
    """Whether ``user``'s role may see a clock of ``kind`` (object access aside)."""
    return Role(user.role) is not Role.HOLDER or kind not in HIDDEN_FROM_HOLDERS


def access_clock(session: Session, user: User, clock_id: uuid.UUID) -> Clock:
    """A clock if ``user`` may see its dossier (agents: their consultation's clocks only;
    holders: not the internal targets)."""
    clock = session.get(Clock, clock_id)
    if clock is None or not clock_visible_to(user, clock.kind):
        raise NotFound(CLOCK_NOT_FOUND)
    try:
        if Role(user.role) is Role.AGENT:
            if clock.consultation_id is None:
                raise NotFound(CLOCK_NOT_FOUND)
            access_consultation(session, user, clock.consultation_id)
        else:
            access_dossier(session, user, clock.dossier_id)
    except NotFound:
        raise NotFound(CLOCK_NOT_FOUND) from None
    return clock


CLOCK_NOT_FOUND = "Délai introuvable."
