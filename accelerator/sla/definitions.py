"""Clock kinds and the accelerator's internal targets (not law; configurable later)."""

from __future__ import annotations

from enum import StrEnum

from accelerator.sla.durations import Duration, Unit


class ClockKind(StrEnum):
    """What a clock measures."""

    TAKE_CHARGE = "take_charge"
    CONSULTATION_DEADLINE = "consultation_deadline"


class ClockState(StrEnum):
    """Whether a clock counts."""

    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


#: DOMAIN.md: an agent of the platform takes a filed dossier in charge within 24 hours.
TAKE_CHARGE_BUDGET = Duration(24, Unit.HOURS)

KIND_LABELS: dict[ClockKind, str] = {
    ClockKind.TAKE_CHARGE: "prise en charge sous 24 h",
    ClockKind.CONSULTATION_DEADLINE: "délai de réponse de l'administration",
}
