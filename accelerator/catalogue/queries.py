"""Read the catalogue as pure values the rules work on."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.catalogue.models import (
    Administration,
    Arrondissement,
    Commune,
    ConsultationType,
)
from accelerator.shared.errors import InvalidInput, NotFound
from accelerator.shared.text import t
from accelerator.sla.calendars import WorkingCalendar
from accelerator.sla.durations import Duration, make_duration
from accelerator.sla.models import Calendar

#: Departments whose calendar differs from metropolitan France's.
_CALENDAR_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}", re.ASCII)

DEPARTMENT_CALENDARS = {
    "57": "FR-57",
    "67": "FR-67",
    "68": "FR-68",
    "971": "FR-971",
    "972": "FR-972",
    "973": "FR-973",
    "974": "FR-974",
    "976": "FR-976",
}


def calendar_code_for_commune(commune: Commune) -> str:
    """The calendar of a commune's department (the catalogue's, as the COG gives it)."""
    return DEPARTMENT_CALENDARS.get(commune.department, "FR")


def commune_unknown(insee: str) -> str:
    """The French message for a commune the catalogue does not list."""
    return t("catalogue.commune_unknown", insee=insee)


def require_commune(session: Session, insee: str) -> Commune:
    """The catalogue's commune ``insee``; ``InvalidInput`` (422) for any other code."""
    commune = session.get(Commune, insee)
    if commune is None:
        raise InvalidInput(commune_unknown(insee))
    return commune


def get_calendar(session: Session, code: str) -> WorkingCalendar:
    """The working calendar ``code``; ``NotFound`` if unknown."""
    # A code is short ASCII: anything else (a NUL byte PostgreSQL refuses, a megabyte) is
    # simply not a calendar, and never reaches the database.
    row = session.get(Calendar, code) if _CALENDAR_CODE.fullmatch(code) else None
    if row is None:
        known = ", ".join(session.scalars(select(Calendar.code).order_by(Calendar.code)))
        shown = code if _CALENDAR_CODE.fullmatch(code) else "(code illisible)"
        raise NotFound(t("calendar.unknown_among", shown=shown, known=known))
    return WorkingCalendar.from_spec(row.code, row.timezone, row.spec)


def seed_calendars() -> dict[str, WorkingCalendar]:
    """The built-in calendars shipped with the product (used before any database exists)."""
    import json
    from pathlib import Path

    path = Path(__file__).parent / "seed" / "calendars.json"
    return {
        row["code"]: WorkingCalendar.from_spec(row["code"], row["timezone"], row["spec"])
        for row in json.loads(path.read_text(encoding="utf-8"))
    }


def list_calendars(session: Session) -> list[Calendar]:
    """Every calendar, by code."""
    return list(session.scalars(select(Calendar).order_by(Calendar.code)))


def get_administration(session: Session, code: str) -> Administration:
    """The administration ``code``; ``NotFound`` if unknown."""
    administration = session.get(Administration, code)
    if administration is None:
        raise NotFound(t("catalogue.administration_unknown", code=code))
    return administration


def get_consultation_type(session: Session, code: str) -> ConsultationType:
    """The consultation type ``code``; ``NotFound`` if unknown."""
    found = session.get(ConsultationType, code)
    if found is None:
        raise NotFound(t("catalogue.consultation_type_unknown", code=code))
    return found


def consultation_duration(consultation_type: ConsultationType) -> Duration:
    """The deadline budget of a consultation type."""
    return make_duration(consultation_type.duration_amount, consultation_type.duration_unit)


def commune_arrondissement(session: Session, insee: str) -> Arrondissement | None:
    """The arrondissement of a commune, or None when the catalogue does not describe it (a
    dossier filed before communes were checked, or an arrondissement of another department)."""
    return session.scalar(
        select(Arrondissement)
        .join(Commune, Commune.arrondissement_code == Arrondissement.code)
        .where(Commune.insee == insee)
    )


def default_grant_authority() -> str:
    """The préfecture, when the commune's arrondissement is unknown."""
    return "PREF-65"
