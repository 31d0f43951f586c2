"""The administrators' changes, on SQLite and PostgreSQL: each succeeds with its journal row
in the same transaction, or is refused (French message) leaving nothing behind."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from accelerator.catalogue.actions import SEED_DIR, load_catalogue
from accelerator.catalogue.models import Administration, RoutingRule
from accelerator.configuration import actions
from accelerator.configuration.rules import ConditionRefused, check_condition, dossier_facts
from accelerator.configuration.schemas import (
    AccountIn,
    AdministrationIn,
    ClosureIn,
    InternalTargetIn,
    RoleIn,
    RoutingRuleIn,
)
from accelerator.consultations.models import Consultation
from accelerator.dossiers.actions import take_charge
from accelerator.history.actor import Actor
from accelerator.history.models import HistoryEntry
from accelerator.identity.actions import create_user
from accelerator.identity.models import User
from accelerator.identity.roles import Role
from accelerator.journal.actions import record_change
from accelerator.journal.kinds import ChangeKind
from accelerator.journal.models import ConfigChange
from accelerator.journal.queries import changes
from accelerator.routing.actions import list_proposal
from accelerator.shared.db import Database
from accelerator.shared.errors import Forbidden, InvalidInput, NotFound
from accelerator.sla.models import Clock, DeadlineDefinition
from tests.factories import filed, launched, paris, user

NOW = paris(2026, 3, 2, 10)
MINUTE = dt.timedelta(minutes=1)


def admin(db: Database, email: str = "admin@f.test") -> User:
    """An administrator (created once per test)."""
    with db.transaction() as session:
        if session.scalar(select(User).where(User.email == email)) is None:
            create_user(session, email=email, role=Role.ADMIN, password="password", now=NOW)
    return user(db, email)


def journal(db: Database, kind: ChangeKind | None = None) -> list[ConfigChange]:
    with db.transaction() as session:
        rows = list(changes(session, kind=kind, page=1, page_size=100)[2])
        for row in rows:
            session.expunge(row)
        return rows


def refused(db: Database, call: Any, match: str) -> None:
    """``call(session)`` is refused with ``match`` in its French message, and leaves no row."""
    before = len(journal(db))
    with (
        pytest.raises((InvalidInput, Forbidden, NotFound), match=match),
        db.transaction() as session,
    ):
        call(session)
    assert len(journal(db)) == before


# --- The journal itself --------------------------------------------------------------------


def test_the_journal_refuses_a_snapshot_holding_a_secret(db: Database) -> None:
    with pytest.raises(ValueError, match="password_hash"), db.transaction() as session:
        record_change(
            session, actor=Actor("x"), at=NOW, kind=ChangeKind.USER, key="x", event="created",
            message="", before=None, after={"email": "x", "password_hash": "argon2..."},
        )  # fmt: skip
    assert journal(db) == []


def test_the_journal_pages_newest_first_and_filters_by_kind(db: Database) -> None:
    with db.transaction() as session:
        for minute, kind in enumerate([ChangeKind.USER, ChangeKind.CLOSURE, ChangeKind.USER]):
            record_change(
                session, actor=Actor("a@f.test"), at=NOW + dt.timedelta(minutes=minute),
                kind=kind, key=f"k{minute}", event="created", message="", before=None, after={},
            )  # fmt: skip
    with db.transaction() as session:
        count, page, rows = changes(session, kind=None, page=1, page_size=2)
        assert (count, page, [r.key for r in rows]) == (3, 1, ["k2", "k1"])
        count, page, rows = changes(session, kind=None, page=9, page_size=2)
        assert (count, page, [r.key for r in rows]) == (3, 2, ["k0"])
        count, _, rows = changes(session, kind=ChangeKind.USER, page=1, page_size=10)
        assert (count, [r.key for r in rows]) == (2, ["k2", "k0"])


# --- Accounts and roles --------------------------------------------------------------------


def test_an_account_is_created_and_journaled_without_its_password(db: Database) -> None:
    by = admin(db)
    data = AccountIn(
        email="Agent.Nouveau@F.test", name="Agent Nouveau", role=Role.AGENT,
        password="un mot de passe long", administration="DDT-65",
    )  # fmt: skip
    with db.transaction() as session:
        actions.create_account(session, data=data, user=by, now=NOW)
    [row] = journal(db, ChangeKind.USER)
    assert (row.key, row.event, row.actor_label, row.before) == (
        "agent.nouveau@f.test", "created", "admin@f.test", None,
    )  # fmt: skip
    assert row.after == {
        "email": "agent.nouveau@f.test", "name": "Agent Nouveau", "role": "agent",
        "administration": "DDT-65", "organisation": None, "arrondissements": [], "active": True,
    }  # fmt: skip
    assert "argon2" not in json.dumps(row.after) and "passe" not in json.dumps(row.after)
    # The same e-mail twice, an agent without administration, a non-admin caller: refused.
    refused(db, lambda s: actions.create_account(s, data=data, user=by, now=NOW), "existe")
    no_admin = data.model_copy(update={"email": "b@f.test", "administration": None})
    refused(
        db, lambda s: actions.create_account(s, data=no_admin, user=by, now=NOW), "administration"
    )
    agent = user(db, "agent.nouveau@f.test")
    other = data.model_copy(update={"email": "c@f.test"})
    refused(
        db, lambda s: actions.create_account(s, data=other, user=agent, now=NOW), "réservé|rôle"
    )


def test_a_weak_password_or_an_unknown_role_is_refused_by_the_input() -> None:
    with pytest.raises(ValueError):
        AccountIn(email="a@f.test", name="Aa", role=Role.MANAGER, password="court")
    with pytest.raises(ValueError):
        AccountIn.model_validate(
            {"email": "a@f.test", "name": "Aa", "role": "root", "password": "x" * 20}
        )


def test_an_admin_neither_demotes_nor_deactivates_himself_nor_the_last_admin(
    db: Database,
) -> None:
    first = admin(db)
    manager = RoleIn(role=Role.MANAGER)
    # Alone: the last active administrator stays one.
    refused(
        db,
        lambda s: actions.change_role(s, account_id=first.id, data=manager, user=first, now=NOW),
        "dernier administrateur",
    )
    second = admin(db, "admin2@f.test")
    # Two of them: still not oneself.
    refused(
        db,
        lambda s: actions.change_role(s, account_id=first.id, data=manager, user=first, now=NOW),
        "propres droits",
    )
    refused(
        db,
        lambda s: actions.set_account_active(
            s, account_id=first.id, active=False, user=first, now=NOW
        ),
        "propres droits",
    )
    # Another one may be demoted; then the first is the last one again.
    with db.transaction() as session:
        actions.change_role(session, account_id=second.id, data=manager, user=first, now=NOW)
    [row] = journal(db, ChangeKind.ROLE)
    assert (row.key, row.before["role"], row.after["role"]) == ("admin2@f.test", "admin", "manager")
    assert row.message == "Rôle de admin2@f.test : administrateur → pilotage."
    with db.transaction() as session:
        assert session.get_one(User, second.id).role == "manager"


def test_deactivation_and_reactivation_are_journaled_and_checked(db: Database) -> None:
    by = admin(db)
    filed(db, now=NOW)  # creates holder@f.test, referent@f.test and agents
    holder = user(db, "holder@f.test")
    with db.transaction() as session:
        actions.set_account_active(session, account_id=holder.id, active=False, user=by, now=NOW)
    with db.transaction() as session:
        assert session.get_one(User, holder.id).active is False
    refused(
        db,
        lambda s: actions.set_account_active(
            s, account_id=holder.id, active=False, user=by, now=NOW
        ),
        "déjà désactivé",
    )
    with db.transaction() as session:
        actions.set_account_active(
            session, account_id=holder.id, active=True, user=by, now=NOW + dt.timedelta(minutes=1)
        )
    events = [
        (r.event, r.before["active"], r.after["active"]) for r in journal(db, ChangeKind.USER)
    ]
    assert events == [("reactivated", False, True), ("deactivated", True, False)]
    refused(
        db,
        lambda s: actions.set_account_active(
            s, account_id=uuid.uuid4(), active=False, user=by, now=NOW
        ),
        "n'existe pas",
    )


def test_a_referent_following_dossiers_keeps_his_role_until_they_are_handed_over(
    db: Database,
) -> None:
    by = admin(db)
    dossier_id = filed(db, now=NOW)
    referent = user(db, "referent@f.test")
    with db.transaction() as session:
        take_charge(session, dossier_id=dossier_id, user=referent, now=NOW)
    refused(
        db,
        lambda s: actions.change_role(
            s, account_id=referent.id, data=RoleIn(role=Role.MANAGER), user=by, now=NOW
        ),
        "suit encore 1 dossier",
    )
    refused(
        db,
        lambda s: actions.set_account_active(
            s, account_id=referent.id, active=False, user=by, now=NOW
        ),
        "suit encore 1 dossier",
    )
    # His arrondissements may change (same role): journaled as a role change.
    with db.transaction() as session:
        actions.change_role(
            session, account_id=referent.id,
            data=RoleIn(role=Role.REFERENT, arrondissements=["651"]), user=by, now=NOW,
        )  # fmt: skip
    [row] = journal(db, ChangeKind.ROLE)
    assert (row.before["arrondissements"], row.after["arrondissements"]) == (
        ["651", "652", "653"], ["651"],
    )  # fmt: skip
    same = RoleIn(role=Role.REFERENT, arrondissements=["651"])
    refused(
        db,
        lambda s: actions.change_role(s, account_id=referent.id, data=same, user=by, now=NOW),
        "Rien n'a changé",
    )
    bad = RoleIn(role=Role.HOLDER)
    refused(
        db,
        lambda s: actions.change_role(s, account_id=referent.id, data=bad, user=by, now=NOW),
        "suit encore|organisation",
    )


# --- Administrations ----------------------------------------------------------------------


def test_an_administration_is_renamed_and_given_a_contact_address(db: Database) -> None:
    by = admin(db)
    data = AdministrationIn(
        name="DDT des Hautes-Pyrénées", contact_email="DDT@Hautes-Pyrenees.gouv.fr"
    )
    with db.transaction() as session:
        actions.update_administration(session, code="DDT-65", data=data, user=by, now=NOW)
    [row] = journal(db, ChangeKind.ADMINISTRATION)
    assert row.key == "DDT-65" and row.before["contact_email"] is None
    assert row.after["contact_email"] == "ddt@hautes-pyrenees.gouv.fr"
    assert row.after["name"] == "DDT des Hautes-Pyrénées"
    refused(
        db,
        lambda s: actions.update_administration(s, code="DDT-65", data=data, user=by, now=NOW),
        "Rien n'a changé",
    )
    with pytest.raises(ValueError, match="adresse"):
        AdministrationIn(name="DDT", contact_email="pas-une-adresse")
    # A catalogue load leaves the administrator's change as it is.
    with db.transaction() as session:
        load_catalogue(session, SEED_DIR, now=NOW)
    with db.transaction() as session:
        assert session.get_one(Administration, "DDT-65").name == "DDT des Hautes-Pyrénées"


def test_an_administration_with_open_consultations_is_not_deactivated(db: Database) -> None:
    by = admin(db)
    dossier_id = filed(db, now=NOW)
    launched(db, dossier_id, ["SDIS-65"], now=paris(2026, 3, 3, 10))
    refused(
        db,
        lambda s: actions.set_administration_active(
            s, code="SDIS-65", active=False, user=by, now=NOW
        ),
        "1 consultation",
    )
    with db.transaction() as session:
        actions.set_administration_active(session, code="OFB", active=False, user=by, now=NOW)
        assert session.get_one(Administration, "OFB").active is False
    [row] = journal(db, ChangeKind.ADMINISTRATION)
    assert (row.event, row.before["active"], row.after["active"]) == ("deactivated", True, False)
    # An inactive administration is named by no new rule nor account.
    rule = RoutingRuleIn(
        code="ofb_again", rank=5, label="Encore l'OFB", condition={"attr": "water_impact"},
        targets=[{"administration": "OFB", "consultation_type": "generic_opinion"}],
    )  # fmt: skip
    refused(db, lambda s: actions.add_routing_rule(s, data=rule, user=by, now=NOW), "désactivée")
    # Nor consulted: named in a launch, refused.
    other = filed(db, now=NOW)
    with pytest.raises(InvalidInput, match="OFB est désactivée"):
        launched(db, other, ["DDT-65", "OFB"], now=paris(2026, 3, 3, 11))


# --- Routing rules -------------------------------------------------------------------------


def test_every_seed_rule_is_a_condition_the_check_accepts() -> None:
    facts = dossier_facts()
    for row in json.loads((SEED_DIR / "routing_rules.json").read_text(encoding="utf-8")):
        assert check_condition(row["condition"], facts) == row["condition"], row["code"]


@pytest.mark.parametrize(
    ("condition", "match"),
    [
        ({"attr": "near_monuments"}, "n'est pas une caractéristique"),
        ({"attr": "site_area_ha"}, "n'est pas un oui/non"),
        ({"attr": "site_area_ha", "gte": "3"}, "nombre"),
        ({"attr": "near_monument", "gte": 3}, "nombre"),
        ({"attr": "icpe", "eq": "nuclear"}, "agricultural, industrial"),
        ({"attr": "near_monument", "eq": 1}, "true ou false"),
        ({"any": []}, "liste de 1 à 20"),
        ({"any": [{"attr": "high_rise"}], "attr": "x"}, "seul"),
        ({"not": {"not": {"not": {"not": {"not": {"attr": "high_rise"}}}}}}, "imbriquée"),
        ([], "objet JSON"),
    ],
)
def test_a_condition_that_could_never_match_as_meant_is_refused(condition: Any, match: str) -> None:
    with pytest.raises(ConditionRefused, match=match):
        check_condition(condition, dossier_facts())


def test_routing_rules_are_added_edited_and_deleted_with_their_journal(db: Database) -> None:
    by = admin(db)
    rule = RoutingRuleIn(
        code="big_retail_sdis", rank=95, label="Grande surface : avis du SDIS",
        condition={"attr": "retail_area_m2", "gte": 1000},
        targets=[{"administration": "SDIS-65", "consultation_type": "generic_opinion"}],
    )  # fmt: skip
    with db.transaction() as session:
        actions.add_routing_rule(session, data=rule, user=by, now=NOW)
    refused(db, lambda s: actions.add_routing_rule(s, data=rule, user=by, now=NOW), "déjà")
    # It applies to the dossiers routed from now on.
    dossier_id = filed(db, now=NOW, attributes={"retail_area_m2": 2500.0})
    with db.transaction() as session:
        proposal = {p.administration_code: p.rule_codes for p in list_proposal(session, dossier_id)}
    assert "big_retail_sdis" in proposal["SDIS-65"]
    edited = rule.model_copy(update={"rank": 96, "label": "Grande surface : SDIS et DDT"})
    edited.targets.append(edited.targets[0].model_copy(update={"administration": "DDT-65"}))
    with db.transaction() as session:
        actions.update_routing_rule(
            session, code="big_retail_sdis", data=edited, user=by, now=NOW + MINUTE
        )
    twice = edited.model_copy(update={"targets": [edited.targets[0], edited.targets[0]]})
    refused(
        db,
        lambda s: actions.update_routing_rule(
            s, code="big_retail_sdis", data=twice, user=by, now=NOW
        ),
        "deux fois",
    )
    unknown = edited.model_copy(
        update={"targets": [edited.targets[0].model_copy(update={"consultation_type": "nope"})]}
    )
    refused(
        db,
        lambda s: actions.update_routing_rule(
            s, code="big_retail_sdis", data=unknown, user=by, now=NOW
        ),
        "nope",
    )
    with db.transaction() as session:
        actions.delete_routing_rule(session, code="big_retail_sdis", user=by, now=NOW + 2 * MINUTE)
        # The seed's ABF rule too: a catalogue load does not bring it back.
        actions.delete_routing_rule(session, code="abf", user=by, now=NOW + 3 * MINUTE)
    rows = journal(db, ChangeKind.ROUTING_RULE)
    assert [(r.key, r.event) for r in rows] == [
        ("abf", "deleted"), ("big_retail_sdis", "deleted"),
        ("big_retail_sdis", "updated"), ("big_retail_sdis", "created"),
    ]  # fmt: skip
    assert rows[2].before["rank"] == 95 and rows[2].after["rank"] == 96
    assert rows[1].after is None and rows[1].before["label"] == "Grande surface : SDIS et DDT"
    with db.transaction() as session:
        load_catalogue(session, SEED_DIR, now=NOW)
    with db.transaction() as session:
        assert session.get(RoutingRule, "abf") is None
        assert session.get(RoutingRule, "erp") is not None
    refused(
        db, lambda s: actions.delete_routing_rule(s, code="abf", user=by, now=NOW), "Aucune règle"
    )


# --- Internal targets ----------------------------------------------------------------------


def test_an_administrations_own_target_is_pinned_by_its_new_consultations(db: Database) -> None:
    by = admin(db)
    data = InternalTargetIn(
        consultation_type="generic_opinion", administration="SDIS-65", amount=5,
        unit="business_days",
    )  # fmt: skip
    with db.transaction() as session:
        actions.set_internal_target(session, data=data, user=by, now=NOW)
    refused(db, lambda s: actions.set_internal_target(s, data=data, user=by, now=NOW), "Rien")
    [row] = journal(db, ChangeKind.DEADLINE_TARGET)
    assert (row.key, row.before, row.after["budget"]) == (
        "target:generic_opinion:SDIS-65", None, "5 jours ouvrés",
    )  # fmt: skip
    dossier_id = filed(db, now=NOW)
    consultations = launched(db, dossier_id, ["SDIS-65", "DDT-65"], now=paris(2026, 3, 3, 10))
    with db.transaction() as session:
        targets = {
            c.consultation_id: c
            for c in session.scalars(select(Clock).where(Clock.kind == "consultation_target"))
        }
    sdis, ddt = targets[consultations["SDIS-65"]], targets[consultations["DDT-65"]]
    assert (sdis.definition_code, sdis.budget_unit) == (
        "target:generic_opinion:SDIS-65",
        "business_days",
    )
    # Sent Tuesday 3 March: 5 business days → end of Tuesday 10 March.
    assert sdis.due_at == paris(2026, 3, 11)
    assert ddt.definition_code == "target:generic_opinion"  # half of one month: 15 days
    bad = data.model_copy(update={"consultation_type": "unknown_type"})
    refused(
        db, lambda s: actions.set_internal_target(s, data=bad, user=by, now=NOW), "unknown_type"
    )
    with pytest.raises(ValueError):
        InternalTargetIn(consultation_type="generic_opinion", amount=5, unit="days")  # type: ignore[arg-type]


# --- Closures ------------------------------------------------------------------------------


def shown_due(session: Any, consultation_id: Any) -> dt.datetime | None:
    """The consultation's deadline as its view shows it (the API's and the pages')."""
    from accelerator.consultations.queries import build_views

    [view] = build_views(session, [session.get_one(Consultation, consultation_id)])
    return dt.datetime.fromisoformat(view.due_at) if view.due_at else None


@pytest.mark.usefixtures("cog_communes")
def test_a_closure_moves_the_due_date_of_a_running_consultation(db: Database) -> None:
    by = admin(db)
    # CDPENAF (FR calendar) is given a deadline in business days for this test: a closure
    # moves only budgets counted in working time (a month stays a month, whatever closes).
    with db.transaction() as session:
        latest = session.scalars(
            select(DeadlineDefinition)
            .where(DeadlineDefinition.code == "consultation:cdpenaf_opinion")
            .order_by(DeadlineDefinition.version.desc())
        ).first()
        assert latest is not None
        session.add(
            DeadlineDefinition(
                code=latest.code, version=latest.version + 1, label=latest.label,
                budget_amount=10, budget_unit="business_days", prorogation=False,
                pause_effect=latest.pause_effect, request_window=None, rungs=latest.rungs,
                legal=True, source="test", created_at=NOW,
            )
        )  # fmt: skip
    dossier_id = filed(db, now=NOW, attributes={"farmland_consumption": True})
    cdpenaf = launched(db, dossier_id, ["CDPENAF"], now=paris(2026, 3, 3, 10))["CDPENAF"]
    with db.transaction() as session:
        # Tuesday 3 March + 10 business days → end of Tuesday 17 March.
        assert shown_due(session, cdpenaf) == paris(2026, 3, 18)
    closure = ClosureIn(calendar="FR", date=dt.date(2026, 3, 13), name="Fermeture exceptionnelle")
    with db.transaction() as session:
        out = actions.add_closure(session, data=closure, user=by, now=paris(2026, 3, 4, 9))
    with db.transaction() as session:
        clock = session.scalars(
            select(Clock).where(
                Clock.consultation_id == cdpenaf, Clock.kind == "consultation_deadline"
            )
        ).one()
        assert shown_due(session, cdpenaf) == clock.due_at == paris(2026, 3, 19)
        reprojected = session.scalars(
            select(HistoryEntry).where(HistoryEntry.event == "clock_reprojected")
        ).all()
        assert {h.actor_label for h in reprojected} == {"admin@f.test"}
    assert out.clocks_moved == len(reprojected) >= 1
    [row] = journal(db, ChangeKind.CLOSURE)
    assert row.key == "FR:2026-03-13" and row.before is None
    assert row.after == {
        "date": "2026-03-13", "name": "Fermeture exceptionnelle", "intervals": [],
        "clocks_moved": out.clocks_moved,
    }  # fmt: skip
    # The same day again, a Sunday, a holiday, a past day: refused.
    at = paris(2026, 3, 4, 9)
    for day, match in [
        (dt.date(2026, 3, 13), "déjà un jour de fermeture"),
        (dt.date(2026, 3, 15), "dimanche"),
        (dt.date(2026, 5, 1), "férié"),
        (dt.date(2026, 3, 3), "passé"),
    ]:
        again = closure.model_copy(update={"date": day})
        refused(
            db, lambda s, again=again: actions.add_closure(s, data=again, user=by, now=at), match
        )
    # Removed: the deadline comes back.
    with db.transaction() as session:
        actions.remove_closure(
            session, calendar="FR", day=dt.date(2026, 3, 13), user=by, now=at + MINUTE
        )
    with db.transaction() as session:
        assert shown_due(session, cdpenaf) == paris(2026, 3, 18)
    assert [r.event for r in journal(db, ChangeKind.CLOSURE)] == ["deleted", "created"]
    refused(
        db,
        lambda s: actions.remove_closure(
            s, calendar="FR", day=dt.date(2026, 3, 13), user=by, now=at
        ),
        "n'est pas un jour de fermeture",
    )
