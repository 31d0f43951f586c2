"""A procedure's legal delay for one dossier, with the extensions its attributes trigger."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accelerator.sla.durations import Duration, Unit

#: Procedures whose base delay C. urb. R423-24 extends by one month in a protected area or
#: when the farmland commission (CDPENAF) is consulted.
URBAN_PLANNING = frozenset({"DP", "PCMI", "PD", "PC", "PA"})


def legal_delay(
    procedure: str, base: Duration, attributes: Mapping[str, Any]
) -> tuple[Duration, list[str]]:
    """The delay and the French reasons of each extension (months only extend months)."""
    if base.unit is not Unit.MONTHS or procedure not in URBAN_PLANNING:
        return base, []
    if procedure in ("PC", "PA") and (
        attributes.get("public_access_building") or attributes.get("high_rise")
    ):
        return Duration(5, Unit.MONTHS), [
            "5 mois : établissement recevant du public ou immeuble de grande hauteur (R423-28)"
        ]
    months, reasons = base.amount, []
    if attributes.get("protected_area") or attributes.get("near_monument"):
        months += 1
        reasons.append("+1 mois : abords de monument historique ou espace protégé (R423-24)")
    elif attributes.get("farmland_consumption"):
        months += 1
        reasons.append("+1 mois : consultation de la CDPENAF (R423-24)")
    if procedure in ("PC", "PA") and (attributes.get("retail_area_m2") or 0) > 1000:
        months += 2
        reasons.append("+2 mois : commission d'aménagement commercial (R423-25)")
    return Duration(months, Unit.MONTHS), reasons
