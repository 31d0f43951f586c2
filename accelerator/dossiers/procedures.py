"""A procedure's legal delay for one dossier, with the extensions its attributes trigger."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accelerator.shared.text import t
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
        return Duration(5, Unit.MONTHS), [t("procedure.delay_erp_igh")]
    months, reasons = base.amount, []
    if attributes.get("protected_area") or attributes.get("near_monument"):
        months += 1
        reasons.append(t("procedure.delay_heritage"))
    elif attributes.get("farmland_consumption"):
        months += 1
        reasons.append(t("procedure.delay_cdpenaf"))
    if procedure in ("PC", "PA") and (attributes.get("retail_area_m2") or 0) > 1000:
        months += 2
        reasons.append(t("procedure.delay_commercial"))
    return Duration(months, Unit.MONTHS), reasons
