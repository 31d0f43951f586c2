"""Every field the configuration journal can name has a French label, and every entry point
changes the configuration through the actions that write the journal.

The first test makes every kind of change there is (each action of ``configuration.actions``,
each event), then walks every field name its rows recorded, before and after: each must have
its label in ``journal.kinds.FIELD_LABELS``. A new kind of change, or a snapshot given a new
field, fails here until it has one (``record_change`` refuses it too)."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from accelerator.configuration import actions
from accelerator.configuration.schemas import (
    AccountIn,
    AdministrationIn,
    ClosureIn,
    InternalTargetIn,
    RoleIn,
    RoutingRuleIn,
)
from accelerator.history.actor import Actor
from accelerator.identity.models import User
from accelerator.identity.roles import Role
from accelerator.journal.actions import record_change
from accelerator.journal.kinds import FIELD_LABELS, KIND_LABELS, ChangeKind, field_label
from accelerator.shared.db import Database
from accelerator.sla.durations import Unit
from tests.accelerator.test_configuration import MINUTE, NOW, admin, journal

ROOT = Path(__file__).resolve().parents[2]
CLI = Actor.command("test")


def every_kind_of_change(db: Database) -> None:
    """Each configuration action once (twice where it has two events), as an administrator
    and, where the command line may, as the command line."""
    by = admin(db)
    at = iter(NOW + n * MINUTE for n in range(100))
    account = AccountIn(
        email="agent.journal@f.test", name="Agent Journal", role=Role.AGENT,
        password="un mot de passe long", administration="DDT-65",
    )  # fmt: skip
    rule = RoutingRuleIn(
        code="journal_rule", rank=90, label="Règle du journal",
        condition={"attr": "retail_area_m2", "gte": 1000},
        targets=[{"administration": "SDIS-65", "consultation_type": "generic_opinion"}],
    )  # fmt: skip
    target = InternalTargetIn(
        consultation_type="generic_opinion", administration="SDIS-65", amount=5,
        unit=Unit.BUSINESS_DAYS,
    )  # fmt: skip
    hours = [("09:00", "12:00"), ("14:00", "17:00")]
    with db.transaction() as session:
        created = actions.create_account(session, data=account, user=by, now=next(at))
        actions.open_account(
            session, email="cli.journal@f.test", role=Role.MANAGER, password="x" * 14,
            by=CLI, now=next(at),
        )  # fmt: skip
        actions.change_role(
            session, account_id=created.id, data=RoleIn(role=Role.MANAGER), user=by, now=next(at)
        )
        actions.set_account_active(
            session, account_id=created.id, active=False, user=by, now=next(at)
        )
        actions.set_account_active(
            session, account_id=created.id, active=True, user=by, now=next(at)
        )
        actions.update_administration(
            session, code="OFB", data=AdministrationIn(name="OFB 65", contact_email="o@f.test"),
            user=by, now=next(at),
        )  # fmt: skip
        actions.set_administration_active(session, code="OFB", active=False, user=by, now=next(at))
        actions.set_administration_active(session, code="OFB", active=True, user=by, now=next(at))
        actions.add_routing_rule(session, data=rule, user=by, now=next(at))
        actions.update_routing_rule(
            session, code=rule.code, data=rule.model_copy(update={"rank": 91}), user=by,
            now=next(at),
        )  # fmt: skip
        actions.delete_routing_rule(session, code=rule.code, user=by, now=next(at))
        actions.set_internal_target(session, data=target, user=by, now=next(at))
        actions.set_internal_target(
            session, data=target.model_copy(update={"amount": 6}), user=by, now=next(at)
        )
        closure = ClosureIn(calendar="FR", date=dt.date(2026, 3, 13), name="Pont")
        actions.add_closure(session, data=closure, user=by, now=next(at))
        actions.remove_closure(session, calendar="FR", day=closure.date, user=by, now=next(at))
        actions.set_day(
            session, calendar="FR", day=dt.date(2026, 3, 20), name="Fermeture", intervals=[],
            by=CLI, now=next(at),
        )  # fmt: skip
        actions.set_day(
            session, calendar="FR", day=dt.date(2026, 3, 20), name="Demi-journée",
            intervals=hours[:1], by=by, now=next(at),
        )  # fmt: skip
        actions.set_day(
            session, calendar="FR", day=dt.date(2026, 3, 27), name="Demi-journée",
            intervals=hours[1:], by=by, now=next(at),
        )  # fmt: skip
        actions.set_week(
            session, calendar="FR", weekly={d: hours for d in range(1, 6)},
            whit_monday_worked=True, by=CLI, now=next(at),
        )  # fmt: skip


def test_every_field_of_every_kind_of_change_has_a_french_label(db: Database) -> None:
    every_kind_of_change(db)
    rows = journal(db)
    assert {ChangeKind(r.kind) for r in rows} == set(ChangeKind)
    named = {(r.kind, name) for r in rows for side in (r.before, r.after) for name in side or {}}
    assert len(named) > 25
    for kind, name in sorted(named):
        label = field_label(ChangeKind(kind), name)
        assert label and label != name, (kind, name)
    # And no label is left over for a field no change names (a renamed field's old label).
    listed = {(kind.value, name) for kind, fields in FIELD_LABELS.items() for name in fields}
    assert listed == named
    assert set(KIND_LABELS) == set(ChangeKind)


def test_the_journal_refuses_a_field_it_has_no_label_for(db: Database) -> None:
    with pytest.raises(ValueError, match="business_days"), db.transaction() as session:
        record_change(
            session, actor=CLI, at=NOW, kind=ChangeKind.DEADLINE_TARGET, key="x",
            event="created", message="", before=None, after={"business_days": 3},
        )  # fmt: skip
    assert journal(db) == []


def test_a_change_by_the_command_line_names_it_and_a_users_change_is_checked(
    db: Database,
) -> None:
    with db.transaction() as session:
        actions.open_account(
            session, email="first.admin@f.test", role=Role.ADMIN, password="x" * 14, by=CLI,
            now=NOW,
        )  # fmt: skip
    [row] = journal(db)
    assert (row.actor_label, row.actor_id, row.kind, row.event) == (
        "cli:test", None, "user", "created",
    )  # fmt: skip
    with db.transaction() as session:
        someone = session.scalars(select(User).where(User.email == "first.admin@f.test")).one()
        pretended = Actor.of(someone)
    # An actor carrying an account is that account's change: it comes as the User, checked.
    with pytest.raises(ValueError, match="User"), db.transaction() as session:
        actions.set_week(
            session, calendar="FR", weekly={1: [("09:00", "12:00")]}, whit_monday_worked=False,
            by=pretended, now=NOW,
        )  # fmt: skip


#: The writers that change configuration without the journal: only ``configuration.actions``
#: calls them (and the demo and simulation worlds, which are not an administrator's changes).
UNJOURNALED = {
    "set_calendar_override",  # accelerator.catalogue.actions
    "remove_calendar_override",
    "set_calendar_week",
    "create_user",  # accelerator.identity.actions
}


def _names(node: ast.AST) -> list[str]:
    """The names a node says: imported, a module's attribute, or a bare name."""
    if isinstance(node, ast.ImportFrom):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, ast.Name):
        return [node.id]
    return []


def test_no_entry_point_changes_the_configuration_around_the_journal() -> None:
    """The pages, the JSON API, the command line and the flows reach these writers only
    through ``configuration.actions`` (which journals): none of them names one, imported or
    reached as a module's attribute."""
    found = [
        f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}: {name}"
        for folder in ("api", "cli", "workflows")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        for name in _names(node)
        if name in UNJOURNALED
    ]
    assert found == []
