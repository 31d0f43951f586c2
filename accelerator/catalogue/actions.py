"""Load the catalogue from JSON files: an idempotent upsert, safe to run at every start."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.catalogue.models import (
    Administration,
    Arrondissement,
    Commune,
    ConsultationType,
    Procedure,
    ProcedurePiece,
    RoutingRule,
)
from accelerator.journal.kinds import ChangeKind
from accelerator.journal.queries import edited_keys
from accelerator.shared.db import Base, utcnow
from accelerator.shared.errors import InvalidInput
from accelerator.shared.text import t
from accelerator.shared.validation import (
    STRICT_INPUT,
    MultiLine,
    SingleLine,
    clean_text,
    insee_code,
)
from accelerator.sla.calendars import WorkingCalendar
from accelerator.sla.clocks import PauseEffect
from accelerator.sla.definitions import (
    DEFAULT_RUNGS,
    TAKE_CHARGE_DEFINITION,
    TARGET_RUNGS,
    OnBreach,
    consultation_definition,
    procedure_definition,
    target_definition,
)
from accelerator.sla.durations import half_of, make_duration, parse_duration
from accelerator.sla.models import Calendar, CalendarVersion, DeadlineDefinition

SEED_DIR = Path(__file__).parent / "seed"


@dataclass(frozen=True)
class LoadReport:
    """How many rows of each kind the load wrote."""

    counts: dict[str, int]

    def __str__(self) -> str:
        return ", ".join(f"{name} : {count}" for name, count in self.counts.items())


def _read(directory: Path, name: str) -> list[dict[str, Any]]:
    path = directory / name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(t("catalogue.file_missing", path=path)) from None
    except json.JSONDecodeError as error:
        raise InvalidInput(t("catalogue.file_not_json", path=path, error=error)) from None
    if not isinstance(data, list):
        raise InvalidInput(t("catalogue.file_not_list", path=path))
    row_model = ROW_MODELS.get(name.split("_")[0] if name.startswith("communes_") else name)
    if row_model is None:
        return data
    if len(data) > MAX_COG_ROWS:
        raise InvalidInput(t("catalogue.file_too_many_entries", path=path, max_rows=MAX_COG_ROWS))
    rows = []
    for number, row in enumerate(data, start=1):
        try:
            rows.append(row_model.model_validate(row).model_dump())
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "entrée"
            raise InvalidInput(
                t(
                    "catalogue.entry_refused",
                    path=path,
                    number=number,
                    field=field,
                    error_type=first["type"],
                )
            ) from None
    return rows


#: A catalogue code as the seed files write them (``PREF-65``, ``abf_opinion``, ``FR-971``).
_CatalogueCode = Annotated[
    SingleLine, Field(min_length=1, max_length=64, pattern=r"^@?[A-Za-z0-9_.:-]+$")
]


class _CalendarRow(BaseModel):
    model_config = STRICT_INPUT
    code: _CatalogueCode
    name: SingleLine = Field(min_length=1, max_length=200)
    timezone: SingleLine = Field(min_length=1, max_length=64)
    spec: dict[str, Any] = Field(max_length=20)  # checked by WorkingCalendar.from_spec


class _AdministrationRow(BaseModel):
    model_config = STRICT_INPUT
    code: _CatalogueCode
    name: SingleLine = Field(min_length=1, max_length=300)
    rules_on: MultiLine = Field("", max_length=5000)
    calendar: _CatalogueCode = "FR"


class _ConsultationTypeRow(BaseModel):
    model_config = STRICT_INPUT
    code: _CatalogueCode
    label: SingleLine = Field(min_length=1, max_length=300)
    duration: SingleLine = Field(max_length=64)
    silence_nature: _CatalogueCode
    silence_label: SingleLine = Field(min_length=1, max_length=200)
    binding: bool = False
    legal: bool = True
    source: SingleLine = Field("", max_length=200)


class _PieceRow(BaseModel):
    model_config = STRICT_INPUT
    code: Annotated[_CatalogueCode, Field(max_length=32)]
    label: SingleLine = Field(min_length=1, max_length=300)
    mandatory: bool = True
    condition: Annotated[_CatalogueCode, Field(max_length=64)] | None = None


class _ProcedureRow(BaseModel):
    model_config = STRICT_INPUT
    code: _CatalogueCode
    label: SingleLine = Field(min_length=1, max_length=300)
    duration: Annotated[SingleLine, Field(max_length=64)] | None = None
    silence_outcome: SingleLine = Field(min_length=1, max_length=200)
    source: SingleLine = Field("", max_length=200)
    notes: MultiLine = Field("", max_length=5000)
    pieces: list[_PieceRow] = Field(default_factory=list, max_length=100)


class _Target(BaseModel):
    model_config = STRICT_INPUT
    administration: _CatalogueCode
    consultation_type: _CatalogueCode


class _RoutingRuleRow(BaseModel):
    model_config = STRICT_INPUT
    code: _CatalogueCode
    rank: int = Field(ge=0, le=10_000)
    label: SingleLine = Field(min_length=1, max_length=300)
    condition: dict[str, Any] = Field(max_length=50)
    targets: list[_Target] = Field(max_length=50)


class _ArrondissementRow(BaseModel):
    model_config = STRICT_INPUT
    code: _CatalogueCode
    name: SingleLine = Field(min_length=1, max_length=200)
    grant_authority: _CatalogueCode


class _CommuneRow(BaseModel):
    model_config = STRICT_INPUT
    insee: SingleLine = Field(max_length=5)
    name: SingleLine = Field(min_length=1, max_length=200)
    arrondissement: Annotated[SingleLine, Field(max_length=8)] | None = None


#: Each catalogue file is checked like any input before a row is written.
ROW_MODELS: dict[str, type[BaseModel]] = {
    "calendars.json": _CalendarRow,
    "administrations.json": _AdministrationRow,
    "consultation_types.json": _ConsultationTypeRow,
    "procedures.json": _ProcedureRow,
    "routing_rules.json": _RoutingRuleRow,
    "arrondissements.json": _ArrondissementRow,
    "communes": _CommuneRow,
}


def _upsert(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> int:
    for row in rows:
        session.merge(model(**row))
    session.flush()
    return len(rows)


def _duration_fields(text: str | None) -> dict[str, Any]:
    if text is None:
        return {"duration_amount": None, "duration_unit": None}
    duration = parse_duration(text)
    return {"duration_amount": duration.amount, "duration_unit": duration.unit.value}


def load_catalogue(
    session: Session,
    directory: Path = SEED_DIR,
    *,
    now: dt.datetime | None = None,
    take_charge_reoffer: bool = True,
) -> LoadReport:
    """Upsert calendars, administrations, types, procedures, rules and communes from JSON.

    Calendars and deadline definitions are versioned: a changed one gets a new version that
    new clocks pin; running clocks keep theirs until an explicit re-projection.
    ``take_charge_reoffer`` is the take-in-charge definition's breach setting
    (``ACCELERATOR_TAKE_CHARGE_REOFFER``): past 24 h, offer the dossier to another référent.
    """
    now = now or utcnow()
    counts: dict[str, int] = {}
    counts["calendriers"] = _load_calendars(session, _read(directory, "calendars.json"), now)
    # What an administrator changed (the configuration journal names it) stays as they left
    # it: a routing rule they removed is not brought back, a renamed administration keeps
    # its name, an internal target they set keeps its budget.
    edited = {kind: edited_keys(session, kind) for kind in ChangeKind}
    counts["administrations"] = _upsert(
        session,
        Administration,
        [
            {
                "code": row["code"],
                "name": row["name"],
                "rules_on": row.get("rules_on", ""),
                "calendar_code": row.get("calendar", "FR"),
            }
            for row in _read(directory, "administrations.json")
            if row["code"] not in edited[ChangeKind.ADMINISTRATION]
        ],
    )
    counts[t("catalogue.report.consultation_types")] = _upsert(
        session,
        ConsultationType,
        [
            {
                "code": row["code"],
                "label": row["label"],
                **_duration_fields(row["duration"]),
                "silence_nature": row["silence_nature"],
                "silence_label": row["silence_label"],
                "binding": row.get("binding", False),
                "legal": row.get("legal", True),
                "source": row.get("source", ""),
            }
            for row in _read(directory, "consultation_types.json")
        ],
    )
    procedures = _read(directory, "procedures.json")
    counts["procédures"] = _upsert(
        session,
        Procedure,
        [
            {
                "code": row["code"],
                "label": row["label"],
                **_duration_fields(row.get("duration")),
                "silence_outcome": row["silence_outcome"],
                "source": row.get("source", ""),
                "notes": row.get("notes", ""),
            }
            for row in procedures
        ],
    )
    counts[t("catalogue.report.pieces")] = _load_pieces(session, procedures)
    counts[t("catalogue.report.routing_rules")] = _upsert(
        session,
        RoutingRule,
        [
            row
            for row in _read(directory, "routing_rules.json")
            if row["code"] not in edited[ChangeKind.ROUTING_RULE]
        ],
    )
    counts["arrondissements"] = _upsert(
        session, Arrondissement, _read(directory, "arrondissements.json")
    )
    communes: list[CommuneRow] = []
    for path in sorted(directory.glob("communes_*.json")):
        for number, row in enumerate(_read(directory, path.name), start=1):
            try:
                communes.append(
                    commune_row(row["insee"], row["name"], None, row.get("arrondissement"))
                )
            except (KeyError, TypeError, ValueError) as error:
                raise InvalidInput(f"{path.name}, commune n° {number} : {error}.") from None
    _upsert_communes(session, communes)
    counts["communes"] = len(communes)
    counts[t("catalogue.report.definitions")] = _load_definitions(
        session,
        now,
        take_charge_reoffer=take_charge_reoffer,
        kept=edited[ChangeKind.DEADLINE_TARGET],
    )
    return LoadReport(counts)


def _load_pieces(session: Session, procedures: list[dict[str, Any]]) -> int:
    """Each procedure's expected pieces as the file lists them (a piece it no longer lists is
    removed: documents name pieces by code, without a foreign key, and keep theirs)."""
    rows = [
        ProcedurePiece(procedure_code=procedure["code"], rank=rank, **piece)
        for procedure in procedures
        for rank, piece in enumerate(procedure.get("pieces") or [])
    ]
    listed = {(row.procedure_code, row.code) for row in rows}
    if len(listed) != len(rows):
        raise InvalidInput(t("catalogue.piece_twice"))
    for existing in session.scalars(select(ProcedurePiece)):
        if (existing.procedure_code, existing.code) not in listed:
            session.delete(existing)
    for row in rows:
        session.merge(row)
    session.flush()
    return len(rows)


@dataclass(frozen=True)
class CommuneRow:
    """One commune of the official list, checked."""

    insee: str
    name: str
    department: str
    arrondissement: str | None


_DEPARTMENT = re.compile(r"[0-9]{2}|2[AB]|97[1-8]")
_ARRONDISSEMENT = re.compile(r"[0-9AB]{1,4}")


def department_of(insee: str) -> str:
    """The department in an INSEE code: 3 characters overseas (``971``), else 2 (``2A``)."""
    return insee[:3] if insee.startswith("97") else insee[:2]


def commune_row(
    insee: object, name: object, department: object, arrondissement: object
) -> CommuneRow:
    """A commune row checked like any input (``ValueError`` with a French message)."""
    if not all(isinstance(v, str) for v in (insee, name)):
        raise ValueError(t("catalogue.commune_code_name_texts"))
    assert isinstance(insee, str) and isinstance(name, str)
    code = insee_code(insee)
    department = department or department_of(code)
    if not isinstance(department, str) or not _DEPARTMENT.fullmatch(department):
        raise ValueError(t("catalogue.commune_bad_department", department=department))
    if not code.startswith(department):
        raise ValueError(
            t("catalogue.commune_code_outside_department", code=code, department=department)
        )
    if arrondissement in ("", None):
        arrondissement = None
    elif not isinstance(arrondissement, str) or not _ARRONDISSEMENT.fullmatch(arrondissement):
        raise ValueError(t("catalogue.commune_bad_arrondissement", arrondissement=arrondissement))
    cleaned = clean_text(name, multiline=False)
    if not cleaned or len(cleaned) > 200:
        raise ValueError(t("catalogue.commune_bad_name"))
    return CommuneRow(code, cleaned, department, arrondissement)


def _upsert_communes(session: Session, rows: list[CommuneRow]) -> tuple[int, int]:
    """(added, changed): one read of the table, then only the differences are written."""
    existing = {c.insee: c for c in session.scalars(select(Commune))}
    added = changed = 0
    for row in rows:
        commune = existing.get(row.insee)
        if commune is None:
            commune = Commune(insee=row.insee)
            session.add(commune)
            existing[row.insee] = commune
            added += 1
        elif (commune.name, commune.department, commune.arrondissement_code) == (
            row.name,
            row.department,
            row.arrondissement,
        ):
            continue
        else:
            changed += 1
        commune.name, commune.department = row.name, row.department
        commune.arrondissement_code = row.arrondissement
    session.flush()
    return added, changed


#: The columns of INSEE's ``v_commune_YYYY.csv`` the catalogue reads (others are ignored).
COG_COLUMNS = ("TYPECOM", "COM", "DEP", "ARR", "LIBELLE")
#: A COG file has about 37,500 rows (all types); beyond this it is not one.
MAX_COG_ROWS = 100_000


def parse_cog(content: str) -> list[CommuneRow]:
    """The communes (``TYPECOM=COM``) of a COG ``v_commune`` CSV; ``InvalidInput`` otherwise.

    Delegated communes, associated communes and municipal arrondissements (``COMD``,
    ``COMA``, ``ARM``) are not communes a dossier is filed in: they are skipped.
    """
    content = content.removeprefix("\ufeff")
    reader = csv.DictReader(io.StringIO(content, newline=""))
    missing = [c for c in COG_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput(t("catalogue.cog_missing_columns", missing=", ".join(missing)))
    rows: list[CommuneRow] = []
    try:
        for number, record in enumerate(reader, start=2):
            if number > MAX_COG_ROWS:
                raise InvalidInput(t("catalogue.cog_too_long", max_rows=MAX_COG_ROWS))
            if record.get("TYPECOM") != "COM":
                continue
            try:
                rows.append(
                    commune_row(record["COM"], record["LIBELLE"], record["DEP"], record["ARR"])
                )
            except ValueError as error:
                raise InvalidInput(
                    t("catalogue.cog_bad_line", number=number, error=error)
                ) from None
    except csv.Error as error:
        raise InvalidInput(t("catalogue.cog_unreadable", error=error)) from None
    if not rows:
        raise InvalidInput(t("catalogue.cog_no_commune"))
    if len({r.insee for r in rows}) != len(rows):
        raise InvalidInput(t("catalogue.cog_commune_twice"))
    return rows


def load_communes(session: Session, content: str) -> LoadReport:
    """Upsert the communes of an official COG file: from then on, those are accepted too.

    An upsert, like the rest of the catalogue: a commune missing from the file is kept (a
    dossier may name it) and the seed's communes are loaded again at each start.
    """
    added, changed = _upsert_communes(session, parse_cog(content))
    return LoadReport(
        {
            t("catalogue.report.communes_added"): added,
            t("catalogue.report.communes_changed"): changed,
        }
    )


def _load_calendars(session: Session, rows: list[dict[str, Any]], now: dt.datetime) -> int:
    for row in rows:
        calendar = session.get(Calendar, row["code"])
        if calendar is None:
            calendar = Calendar(
                code=row["code"],
                name=row["name"],
                timezone=row["timezone"],
                spec=row["spec"],
                version=0,
            )
            session.add(calendar)
        calendar.name = row["name"]
        save_calendar_version(
            session, calendar, timezone=row["timezone"], spec=row["spec"], now=now, note="catalogue"
        )
    session.flush()
    return len(rows)


def save_calendar_version(
    session: Session,
    calendar: Calendar,
    *,
    timezone: str,
    spec: dict[str, Any],
    now: dt.datetime,
    note: str,
) -> bool:
    """Record a new version of ``calendar`` if its zone or spec changed; True if it did."""
    WorkingCalendar.from_spec(calendar.code, timezone, spec)  # refuse an invalid spec early
    unchanged = calendar.version and calendar.timezone == timezone and calendar.spec == spec
    if unchanged:
        if session.get(CalendarVersion, (calendar.code, calendar.version)) is not None:
            return False
        # A calendar from before versioning: its current content becomes that version.
    else:
        calendar.version = (calendar.version or 0) + 1
    calendar.timezone, calendar.spec = timezone, spec
    session.flush()
    session.add(
        CalendarVersion(
            code=calendar.code,
            version=calendar.version,
            timezone=timezone,
            spec=spec,
            created_at=now,
            note=note,
        )
    )
    return True


def _definition_rows(session: Session, *, take_charge_reoffer: bool) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {
            "code": TAKE_CHARGE_DEFINITION,
            "label": t("catalogue.definition.take_charge"),
            "budget_amount": 24,
            "budget_unit": "hours",
            "prorogation": False,
            "pause_effect": None,
            "request_window": None,
            "rungs": DEFAULT_RUNGS,
            "legal": False,
            "source": t("catalogue.definition.target_source"),
            # Past 24 h, the dossier is offered to the next référent and managers are alerted.
            "on_breach": OnBreach.REOFFER.value if take_charge_reoffer else None,
        }
    ]
    for kind in session.scalars(select(ConsultationType).order_by(ConsultationType.code)):
        target = half_of(make_duration(kind.duration_amount, kind.duration_unit))
        rows.append(
            {
                "code": target_definition(kind.code),
                "label": t("catalogue.definition.target_label", label=kind.label),
                "budget_amount": target.amount,
                "budget_unit": target.unit.value,
                "prorogation": False,
                "pause_effect": PauseEffect.SUSPENSION.value,
                "request_window": None,
                "rungs": TARGET_RUNGS,
                "legal": False,
                "source": t("catalogue.definition.target_source_half"),
                "on_breach": None,
            }
        )
        rows.append(
            {
                "code": consultation_definition(kind.code),
                "label": kind.label,
                "budget_amount": kind.duration_amount,
                "budget_unit": kind.duration_unit,
                "prorogation": False,
                "pause_effect": PauseEffect.SUSPENSION.value,
                "request_window": None,
                "rungs": DEFAULT_RUNGS,
                "legal": kind.legal,
                "source": kind.source,
                "on_breach": None,
            }
        )
    for procedure in session.scalars(select(Procedure).order_by(Procedure.code)):
        if procedure.duration_amount is None or procedure.duration_unit is None:
            continue
        effect = (
            PauseEffect.INTERRUPTION
            if procedure.code in PERMIT_PROCEDURES
            else PauseEffect.SUSPENSION
        )
        rows.append(
            {
                "code": procedure_definition(procedure.code),
                "label": procedure.label,
                "budget_amount": procedure.duration_amount,
                "budget_unit": procedure.duration_unit,
                "prorogation": False,
                "pause_effect": effect.value,
                "request_window": "1 months",
                "rungs": DEFAULT_RUNGS,
                "legal": True,
                "source": procedure.source,
                "on_breach": None,
            }
        )
    return rows


#: Permits: a request for missing pieces INTERRUPTS the delay (C. urb. R423-39); other
#: procedures' texts suspend it.
PERMIT_PROCEDURES = frozenset({"DP", "PCMI", "PD", "PC", "PA"})

_DEFINITION_FIELDS = (
    "label",
    "budget_amount",
    "budget_unit",
    "prorogation",
    "pause_effect",
    "request_window",
    "rungs",
    "legal",
    "source",
    "on_breach",
)


def _load_definitions(
    session: Session, now: dt.datetime, *, take_charge_reoffer: bool, kept: set[str]
) -> int:
    created = 0
    for row in _definition_rows(session, take_charge_reoffer=take_charge_reoffer):
        if row["code"] in kept:
            continue
        latest = session.scalar(
            select(DeadlineDefinition)
            .where(DeadlineDefinition.code == row["code"])
            .order_by(DeadlineDefinition.version.desc())
            .limit(1)
        )
        if latest is not None and all(getattr(latest, f) == row[f] for f in _DEFINITION_FIELDS):
            continue
        session.add(
            DeadlineDefinition(version=(latest.version + 1) if latest else 1, created_at=now, **row)
        )
        created += 1
    session.flush()
    return created


def set_calendar_override(
    session: Session,
    *,
    code: str,
    day: dt.date,
    name: str,
    intervals: list[tuple[str, str]],
    now: dt.datetime,
) -> Calendar:
    """Close, open or shorten one date of a calendar: a new version that new clocks pin."""
    calendar = session.scalar(select(Calendar).where(Calendar.code == code).with_for_update())
    if calendar is None:
        raise InvalidInput(t("calendar.unknown", code=code))
    if not name.strip():
        raise InvalidInput(t("calendar.override_name_required"))
    spec = dict(calendar.spec)
    overrides = [o for o in spec.get("overrides", []) if o["date"] != day.isoformat()]
    closures = [c for c in spec.get("closures", []) if c["date"] != day.isoformat()]
    overrides.append({"date": day.isoformat(), "name": name.strip(), "intervals": intervals})
    spec["overrides"] = sorted(overrides, key=lambda o: str(o["date"]))
    spec["closures"] = closures
    try:
        changed = save_calendar_version(
            session,
            calendar,
            timezone=calendar.timezone,
            spec=spec,
            now=now,
            note=f"{day.isoformat()} : {name.strip()}",
        )
    except ValueError as error:
        raise InvalidInput(f"Horaires invalides : {error}.") from None
    if not changed:
        raise InvalidInput(t("calendar.override_unchanged"))
    return calendar


def remove_calendar_override(
    session: Session, *, code: str, day: dt.date, now: dt.datetime
) -> Calendar:
    """Work one date as the week and the holidays say again: a new version that new clocks
    pin (``InvalidInput`` if the date had no exceptional hours)."""
    calendar = session.scalar(select(Calendar).where(Calendar.code == code).with_for_update())
    if calendar is None:
        raise InvalidInput(t("calendar.unknown", code=code))
    spec = dict(calendar.spec)
    kept = [o for o in spec.get("overrides", []) if o["date"] != day.isoformat()]
    closures = [c for c in spec.get("closures", []) if c["date"] != day.isoformat()]
    if len(kept) == len(spec.get("overrides", [])) and len(closures) == len(
        spec.get("closures", [])
    ):
        raise InvalidInput(t("configuration.closure_unknown", date=day.isoformat()))
    spec["overrides"], spec["closures"] = kept, closures
    save_calendar_version(
        session,
        calendar,
        timezone=calendar.timezone,
        spec=spec,
        now=now,
        note=t("configuration.closure_removed_note", date=day.isoformat()),
    )
    return calendar


def set_calendar_week(
    session: Session,
    *,
    code: str,
    weekly: dict[int, list[tuple[str, str]]],
    whit_monday_worked: bool,
    now: dt.datetime,
) -> Calendar:
    """Change a calendar's weekly working hours (and the solidarity day): a new version."""
    calendar = session.scalar(select(Calendar).where(Calendar.code == code).with_for_update())
    if calendar is None:
        raise InvalidInput(t("calendar.unknown", code=code))
    if any(day not in range(1, 8) for day in weekly):
        raise InvalidInput(t("calendar.weekday_range"))
    if not any(weekly.values()):
        raise InvalidInput(t("calendar.week_without_hours"))
    spec = dict(calendar.spec)
    spec["weekly"] = {
        str(day): [list(i) for i in intervals] for day, intervals in sorted(weekly.items())
    }
    spec["whit_monday_worked"] = whit_monday_worked
    try:
        changed = save_calendar_version(
            session, calendar, timezone=calendar.timezone, spec=spec, now=now, note="semaine type"
        )
    except ValueError as error:
        raise InvalidInput(f"Horaires invalides : {error}.") from None
    if not changed:
        raise InvalidInput(t("calendar.week_unchanged"))
    return calendar
