"""The deadline calculator: the same answer as ``accelerator deadline``, explained."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from accelerator.catalogue.queries import get_calendar
from accelerator.shared.errors import InvalidInput, NotFound
from accelerator.sla.calendars import WorkingCalendar
from accelerator.sla.queries import compute_between, compute_deadline
from accelerator.sla.schemas import BetweenOut, DeadlineOut
from api.deps import CurrentUser, SessionDep
from api.policies import SIGNED_IN
from api.unit_of_work import Router

router = Router(prefix="/api/v1", tags=["délais"])


def _calendar(session: SessionDep, code: str) -> WorkingCalendar:
    try:
        return get_calendar(session, code.upper())
    except NotFound as error:
        raise InvalidInput(error.message) from None


@router.get("/deadline", policy=SIGNED_IN)
def deadline(
    session: SessionDep,
    _user: CurrentUser,
    calendar: Annotated[
        str, Query(max_length=64, description="Code du calendrier, ex. FR ou FR-67.")
    ],
    start: Annotated[str, Query(max_length=64, description="Instant de départ ISO 8601.")],
    add: Annotated[
        str, Query(max_length=64, description="Délai « MONTANT UNITÉ », ex. « 2 months ».")
    ],
    prorogation: bool = False,
) -> DeadlineOut:
    """The deadline of ``add`` counted from ``start`` in ``calendar``, with its derivation."""
    return compute_deadline(
        _calendar(session, calendar), start=start, amount_and_unit=add, prorogation=prorogation
    )


@router.get("/between", policy=SIGNED_IN)
def between(
    session: SessionDep,
    _user: CurrentUser,
    calendar: Annotated[str, Query(max_length=64, description="Code du calendrier.")],
    start: Annotated[str, Query(max_length=64, description="Premier instant ISO 8601.")],
    end: Annotated[str, Query(max_length=64, description="Second instant ISO 8601.")],
    unit: Annotated[str, Query(max_length=64, description="Unité, ex. business_days.")],
) -> BetweenOut:
    """How much of ``unit`` lies between two instants in ``calendar``."""
    return compute_between(_calendar(session, calendar), start=start, end=end, unit=unit)
