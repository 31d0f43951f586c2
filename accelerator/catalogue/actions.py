"""Load the catalogue from JSON files: an idempotent upsert, safe to run at every start."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from accelerator.catalogue.models import (
    Administration,
    Arrondissement,
    Calendar,
    Commune,
    ConsultationType,
    Procedure,
    RoutingRule,
)
from accelerator.db import Base
from accelerator.errors import InvalidInput
from accelerator.sla.durations import parse_duration

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
        raise InvalidInput(f"Fichier de catalogue manquant : {path}.") from None
    except json.JSONDecodeError as error:
        raise InvalidInput(f"{path} n'est pas du JSON valide : {error}.") from None
    if not isinstance(data, list):
        raise InvalidInput(f"{path} doit contenir une liste.")
    return data


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


def load_catalogue(session: Session, directory: Path = SEED_DIR) -> LoadReport:
    """Upsert calendars, administrations, types, procedures, rules and communes from JSON."""
    counts: dict[str, int] = {}
    counts["calendriers"] = _upsert(session, Calendar, _read(directory, "calendars.json"))
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
        ],
    )
    counts["types de consultation"] = _upsert(
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
            for row in _read(directory, "procedures.json")
        ],
    )
    counts["règles d'orientation"] = _upsert(
        session, RoutingRule, _read(directory, "routing_rules.json")
    )
    counts["arrondissements"] = _upsert(
        session, Arrondissement, _read(directory, "arrondissements.json")
    )
    communes: list[dict[str, Any]] = []
    for path in sorted(directory.glob("communes_*.json")):
        communes.extend(
            {
                "insee": row["insee"],
                "name": row["name"],
                "arrondissement_code": row["arrondissement"],
            }
            for row in _read(directory, path.name)
        )
    counts["communes"] = _upsert(session, Commune, communes)
    return LoadReport(counts)
