"""What the configuration journal records: the kinds of change an administrator makes."""

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


KIND_LABELS: dict[ChangeKind, str] = {
    ChangeKind.USER: t("journal.kind.user"),
    ChangeKind.ROLE: t("journal.kind.role"),
    ChangeKind.ADMINISTRATION: t("journal.kind.administration"),
    ChangeKind.ROUTING_RULE: t("journal.kind.routing_rule"),
    ChangeKind.DEADLINE_TARGET: t("journal.kind.deadline_target"),
    ChangeKind.CLOSURE: t("journal.kind.closure"),
}
