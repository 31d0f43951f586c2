"""The only way to load a consultation, or a clock, on behalf of a user.

Same rules as ``dossiers/access.py``: not visible → ``NotFound`` (404), visible but not
allowed → ``Forbidden`` (403). A clock is reached through its dossier or, for an agent, its
consultation; holders never see the accelerator's internal targets.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session

from accelerator.consultations.models import Consultation
from accelerator.dossiers.access import access_dossier
from accelerator.dossiers.models import Dossier
from accelerator.identity.models import User
from accelerator.identity.roles import Role
from accelerator.shared.errors import NotFound, check_version
from accelerator.shared.logs import annotate
from accelerator.shared.text import t
from accelerator.sla.definitions import ClockKind
from accelerator.sla.models import Clock

CONSULTATION_NOT_FOUND = t("consultation.not_found")


def consultation_visibility(user: User) -> ColumnElement[bool]:
    """SQL condition on ``Consultation`` (joined to ``Dossier``) for ``user``."""
    role = Role(user.role)
    if role is Role.AGENT:
        return Consultation.administration_code == user.administration_code
    if role in (Role.REFERENT, Role.MANAGER, Role.ADMIN):
        return true()
    return false()


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
    check_version(t("consultation.what"), consultation.version, expected_version)
    return consultation


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


CLOCK_NOT_FOUND = t("clock.not_found")
