"""What the configuration journal records: the kinds of change an administrator makes, and the
fields each kind's snapshots (``before`` / ``after``) may name, with their French labels.

A snapshot naming a field its kind does not list is refused by ``journal.actions.record_change``
(as a secret is): every field the journal shows has a label (tests/accelerator/
test_journal_fields.py walks every kind of change)."""

from __future__ import annotations

from enum import StrEnum

from accelerator.shared.text import t


class ChangeKind(StrEnum):
    """The kind of object a configuration change is about."""

    USER = "user"
    ROLE = "role"
    ADMINISTRATION = "administration"
    ROUTING_RULE = "routing_rule"
    DEADLINE_TARGET = "deadline_target"
    CLOSURE = "closure"
    #: A calendar's weekly hours, or a day given other hours (an exceptional opening, a short
    #: day); a day with no hours at all is a ``CLOSURE``.
    CALENDAR = "calendar"


KIND_LABELS: dict[ChangeKind, str] = {
    ChangeKind.USER: t("journal.kind.user"),
    ChangeKind.ROLE: t("journal.kind.role"),
    ChangeKind.ADMINISTRATION: t("journal.kind.administration"),
    ChangeKind.ROUTING_RULE: t("journal.kind.routing_rule"),
    ChangeKind.DEADLINE_TARGET: t("journal.kind.deadline_target"),
    ChangeKind.CLOSURE: t("journal.kind.closure"),
    ChangeKind.CALENDAR: t("journal.kind.calendar"),
}

_ACCOUNT = {
    "email": t("journal.field.email"),
    "name": t("journal.field.person_name"),
    "role": t("journal.field.role"),
    "administration": t("journal.field.administration"),
    "organisation": t("journal.field.organisation"),
    "arrondissements": t("journal.field.arrondissements"),
    "active": t("journal.field.account_active"),
}
#: A day's exceptional hours (none: closed).
_DAY = {
    "date": t("journal.field.date"),
    "name": t("journal.field.day_name"),
    "intervals": t("journal.field.intervals"),
}

#: Each kind's snapshot fields (the top-level keys of ``before`` / ``after``) → French label.
FIELD_LABELS: dict[ChangeKind, dict[str, str]] = {
    ChangeKind.USER: _ACCOUNT,
    ChangeKind.ROLE: _ACCOUNT,
    ChangeKind.ADMINISTRATION: {
        "code": t("journal.field.code"),
        "name": t("journal.field.administration_name"),
        "contact_email": t("journal.field.contact_email"),
        "calendar": t("journal.field.calendar"),
        "active": t("journal.field.administration_active"),
    },
    ChangeKind.ROUTING_RULE: {
        "code": t("journal.field.code"),
        "rank": t("journal.field.rank"),
        "label": t("journal.field.rule_label"),
        "condition": t("journal.field.condition"),
        "targets": t("journal.field.targets"),
    },
    ChangeKind.DEADLINE_TARGET: {
        "code": t("journal.field.definition"),
        "version": t("journal.field.version"),
        "budget": t("journal.field.budget"),
        "budget_amount": t("journal.field.budget_amount"),
        "budget_unit": t("journal.field.budget_unit"),
    },
    ChangeKind.CLOSURE: {**_DAY, "clocks_moved": t("journal.field.clocks_moved")},
    ChangeKind.CALENDAR: {
        **_DAY,
        "weekly": t("journal.field.weekly"),
        "whit_monday_worked": t("journal.field.whit_monday_worked"),
    },
}


def field_label(kind: ChangeKind, name: str) -> str:
    """The French label of one field of a ``kind`` snapshot (``KeyError``: it has none)."""
    return FIELD_LABELS[kind][name]
