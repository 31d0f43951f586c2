"""Clock kinds, states, rungs, and the deadline definitions the catalogue derives."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from accelerator.shared.text import t


class ClockKind(StrEnum):
    """What a clock measures."""

    TAKE_CHARGE = "take_charge"
    CONSULTATION_DEADLINE = "consultation_deadline"
    CONSULTATION_TARGET = "consultation_target"
    PROCEDURE_DEADLINE = "procedure_deadline"


class ClockState(StrEnum):
    """Whether a clock counts."""

    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


class RungName(StrEnum):
    """Steps of escalation along a budget."""

    REMINDER_50 = "reminder_50"
    REMINDER_75 = "reminder_75"
    BREACH = "breach"
    ESCALATION = "escalation"


KIND_LABELS: dict[ClockKind, str] = {
    ClockKind.TAKE_CHARGE: t("sla.kind.take_charge"),
    ClockKind.CONSULTATION_DEADLINE: t("sla.kind.consultation_deadline"),
    ClockKind.CONSULTATION_TARGET: t("sla.kind.consultation_target"),
    ClockKind.PROCEDURE_DEADLINE: t("sla.kind.procedure_deadline"),
}

RUNG_LABELS: dict[str, str] = {
    RungName.REMINDER_50: t("sla.rung.reminder_50"),
    RungName.REMINDER_75: t("sla.rung.reminder_75"),
    RungName.BREACH: t("sla.rung.breach"),
    RungName.ESCALATION: t("sla.rung.escalation"),
}

#: docs/domain.md's internal targets: reminders at 50 % and 75 %, breach (and escalation to the
#: service head) at 100 %, escalation to the sous-préfet after (here at 125 %).
DEFAULT_RUNGS: list[dict[str, Any]] = [
    {"name": RungName.REMINDER_50.value, "fraction": 0.5},
    {"name": RungName.REMINDER_75.value, "fraction": 0.75},
    {"name": RungName.BREACH.value, "fraction": 1.0},
    {"name": RungName.ESCALATION.value, "fraction": 1.25},
]

#: The internal target of a consultation only reports when it is missed.
TARGET_RUNGS: list[dict[str, Any]] = [{"name": RungName.BREACH.value, "fraction": 1.0}]

TAKE_CHARGE_DEFINITION = "take_charge"


def consultation_definition(consultation_type: str) -> str:
    """Code of the deadline definition of a consultation type."""
    return f"consultation:{consultation_type}"


def target_definition(consultation_type: str, administration: str | None = None) -> str:
    """Code of the accelerator's internal target for a consultation type (half the delay by
    default), or for one administration's consultations of that type (set by an admin)."""
    if administration is not None:
        return f"target:{consultation_type}:{administration}"
    return f"target:{consultation_type}"


def procedure_definition(procedure: str) -> str:
    """Code of the deadline definition of a procedure's legal delay."""
    return f"procedure:{procedure}"


def definition_procedure(code: str | None) -> str | None:
    """The procedure whose legal delay ``code`` defines (``procedure_definition``'s inverse);
    None for another kind of definition."""
    prefix = procedure_definition("")
    return code[len(prefix) :] if code is not None and code.startswith(prefix) else None


class OnBreach(StrEnum):
    """What a breach does beyond its notification (a setting of the deadline definition)."""

    #: The take-in-charge clock: the dossier is offered to the next least loaded référent of
    #: its arrondissement and the head of the platform is alerted (on by default).
    REOFFER = "reoffer"
