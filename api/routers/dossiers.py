"""Dossiers: holders create and file; référents take in charge, consult and close."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from accelerator.assignment import actions as assignment
from accelerator.consultations import actions as consultations
from accelerator.dossiers import actions
from accelerator.dossiers.access import access_dossier
from accelerator.dossiers.models import Dossier
from accelerator.dossiers.schemas import (
    CloseIn,
    CycleIn,
    DossierCreate,
    DossierDraftIn,
    LaunchIn,
    ReferentIn,
    WithdrawIn,
)
from accelerator.dossiers.status import DossierStatus
from accelerator.identity.roles import Role
from accelerator.shared.db import utcnow
from accelerator.shared.errors import check_version
from accelerator.shared.text import t
from accelerator.views.queries import build_views, list_dossiers
from accelerator.views.schemas import DossierOut
from api.deps import CurrentUser, IfMatch, Limit, Offset, SessionDep, parse_id
from api.idempotency import idempotent
from api.policies import Scope, allow
from api.unit_of_work import Router

router = Router(prefix="/api/v1/dossiers", tags=["dossiers"])


def _view(session: SessionDep, dossier_id: object, user: CurrentUser) -> DossierOut:
    from accelerator.dossiers.models import Dossier

    dossier = session.get_one(Dossier, dossier_id)
    return build_views(session, [dossier], viewer=user)[0]


def _locked(session: SessionDep, dossier_id: str, if_match: int | None) -> tuple[Any, int | None]:
    """The dossier id and, with ``If-Match``, its version read under lock.

    The version is compared only once the action has run (``check_version``): whoever may not
    act is refused (404, 403) exactly as without the header, and learns nothing of the version;
    a stale edit is then refused and rolled back with everything the action did.
    """
    parsed = parse_id(dossier_id, "Dossier")
    if if_match is None:
        return parsed, None
    return parsed, session.scalar(
        select(Dossier.version).where(Dossier.id == parsed).with_for_update()
    )


def _check(version: int | None, if_match: int | None) -> None:
    """Refuse the edit (and so roll it back) if the client read another version."""
    if version is not None:
        check_version(t("dossier.what"), version, if_match)


@router.post("", status_code=201, policy=allow(holder=Scope.ANY))
@idempotent(201)
def create(data: DossierCreate, session: SessionDep, user: CurrentUser) -> DossierOut:
    """Create a draft dossier (holder)."""
    dossier = actions.create_dossier(session, data=data, user=user, now=utcnow())
    return _view(session, dossier.id, user)


@router.get("", policy=allow(**dict.fromkeys(Role, Scope.VISIBLE)))
def index(
    session: SessionDep,
    user: CurrentUser,
    status: DossierStatus | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[DossierOut]:
    """The dossiers the caller may see, newest first."""
    return list_dossiers(
        session, user, status=status.value if status else None, limit=limit, offset=offset
    )


@router.get(
    "/{dossier_id}",
    policy=allow(
        holder=Scope.OWN_ORGANISATION, referent=Scope.FILED, manager=Scope.FILED, admin=Scope.FILED
    ),
)
def show(dossier_id: str, session: SessionDep, user: CurrentUser) -> DossierOut:
    """One dossier with its référent, consultations, clocks and history."""
    dossier = access_dossier(session, user, parse_id(dossier_id, "Dossier"))
    return build_views(session, [dossier], viewer=user)[0]


@router.patch("/{dossier_id}", policy=allow(holder=Scope.OWN_ORGANISATION))
@idempotent()
def update(
    dossier_id: str,
    data: DossierDraftIn,
    session: SessionDep,
    user: CurrentUser,
    if_match: IfMatch,
) -> DossierOut:
    """Change a draft (holder): only the fields given change; a filed dossier is not edited."""
    parsed, version = _locked(session, dossier_id, if_match)
    dossier = actions.update_draft(session, dossier_id=parsed, data=data, user=user, now=utcnow())
    _check(version, if_match)
    return _view(session, dossier.id, user)


@router.post("/{dossier_id}/file", policy=allow(holder=Scope.OWN_ORGANISATION))
@idempotent()
def file(dossier_id: str, session: SessionDep, user: CurrentUser, if_match: IfMatch) -> DossierOut:
    """File the draft on the single window (holder)."""
    parsed, version = _locked(session, dossier_id, if_match)
    dossier = actions.file_dossier(session, dossier_id=parsed, user=user, now=utcnow())
    _check(version, if_match)
    return _view(session, dossier.id, user)


@router.post("/{dossier_id}/take-charge", policy=allow(referent=Scope.FILED))
@idempotent()
def take_charge(
    dossier_id: str, session: SessionDep, user: CurrentUser, if_match: IfMatch
) -> DossierOut:
    """Take the dossier in charge and become its référent (référent)."""
    parsed, version = _locked(session, dossier_id, if_match)
    dossier = actions.take_charge(session, dossier_id=parsed, user=user, now=utcnow())
    _check(version, if_match)
    return _view(session, dossier.id, user)


@router.post(
    "/{dossier_id}/consultations", status_code=202, policy=allow(referent=Scope.DOSSIER_REFERENT)
)
@idempotent(202)
def launch(
    dossier_id: str,
    session: SessionDep,
    user: CurrentUser,
    if_match: IfMatch,
    data: LaunchIn | None = None,
) -> DossierOut:
    """Consult every chosen administration in parallel (référent); runs in the background."""
    parsed, version = _locked(session, dossier_id, if_match)
    launch = consultations.launch_consultations(
        session,
        dossier_id=parsed,
        administrations=data.administrations if data else None,
        user=user,
        now=utcnow(),
    )
    _check(version, if_match)
    return _view(session, launch.dossier_id, user)


@router.post("/{dossier_id}/close", policy=allow(referent=Scope.DOSSIER_REFERENT))
@idempotent()
def close(
    dossier_id: str, data: CloseIn, session: SessionDep, user: CurrentUser, if_match: IfMatch
) -> DossierOut:
    """Send the consolidated answer to the holder and close (référent)."""
    parsed, version = _locked(session, dossier_id, if_match)
    dossier = actions.close_dossier(
        session,
        dossier_id=parsed,
        message=data.message,
        user=user,
        now=utcnow(),
    )
    _check(version, if_match)
    return _view(session, dossier.id, user)


@router.post("/{dossier_id}/withdraw", policy=allow(holder=Scope.OWN_ORGANISATION))
@idempotent()
def withdraw(
    dossier_id: str, data: WithdrawIn, session: SessionDep, user: CurrentUser, if_match: IfMatch
) -> DossierOut:
    """Withdraw the dossier (holder): open consultations are cancelled, clocks stop."""
    parsed, version = _locked(session, dossier_id, if_match)
    dossier = consultations.withdraw_dossier(
        session, dossier_id=parsed, reason=data.reason, user=user, now=utcnow()
    )
    _check(version, if_match)
    return _view(session, dossier.id, user)


@router.post(
    "/{dossier_id}/referent",
    policy=allow(referent=Scope.DOSSIER_REFERENT, manager=Scope.FILED),
)
@idempotent()
def hand_over(
    dossier_id: str, data: ReferentIn, session: SessionDep, user: CurrentUser, if_match: IfMatch
) -> DossierOut:
    """Hand the dossier over to another référent (its référent, or a manager)."""
    parsed, version = _locked(session, dossier_id, if_match)
    dossier = assignment.hand_over(
        session, dossier_id=parsed, email=data.email, reason=data.reason, user=user, now=utcnow()
    )
    _check(version, if_match)
    return _view(session, dossier.id, user)


@router.post("/{dossier_id}/cycles", status_code=202, policy=allow(referent=Scope.DOSSIER_REFERENT))
@idempotent(202)
def open_cycle(
    dossier_id: str, data: CycleIn, session: SessionDep, user: CurrentUser, if_match: IfMatch
) -> DossierOut:
    """Open a new review cycle on a consolidated dossier (référent): the chosen
    administrations are consulted again, in parallel, with new deadlines."""
    parsed, version = _locked(session, dossier_id, if_match)
    launch = consultations.open_cycle(
        session,
        dossier_id=parsed,
        administrations=data.administrations,
        message=data.message,
        user=user,
        now=utcnow(),
    )
    _check(version, if_match)
    return _view(session, launch.dossier_id, user)
