"""The administrators' pages, on SQLite and PostgreSQL: each form does its change and writes
its journal row; bad input comes back as the form with French messages under the fields
(422, never a 500); a post without the CSRF token and a non-administrator are refused with
nothing written."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from accelerator.catalogue.models import Administration, RoutingRule
from accelerator.identity.models import User
from accelerator.journal.kinds import FIELD_LABELS
from accelerator.journal.models import ConfigChange
from accelerator.shared.db import utcnow
from accelerator.sla.explain import day_label
from tests.pages.conftest import HTML, csrf_of

ADMIN = "admin@pages.test"


def journal_keys(db: Any) -> list[tuple[str, str, str]]:
    with db.transaction() as session:
        return [
            (c.kind, c.key, c.event)
            for c in session.scalars(select(ConfigChange).order_by(ConfigChange.at))
        ]


def post(
    client: TestClient, page: str, action: str, data: dict[str, Any], *, token: bool = True
) -> Any:
    """Send the form ``action`` of ``page`` as a browser would (with the page's token)."""
    fields = dict(data)
    if token:
        fields["csrf_token"] = csrf_of(client.get(page, headers=HTML).text, action)
    return client.post(action, data=fields, headers=HTML, follow_redirects=False)


def error_under(html: str, field_id: str) -> str:
    """The error message shown under the field ``field_id`` (its group in error state)."""
    found = re.search(
        rf'fr-(?:input|select)-group--error">\s*<label class="fr-label" for="{field_id}">'
        rf'.*?id="{field_id}-erreur"[^>]*><p class="fr-message fr-message--error">([^<]+)</p>',
        html,
        re.S,
    )
    assert found is not None, f"no error under {field_id}"
    return found.group(1)


def account_id(db: Any, email: str) -> str:
    with db.transaction() as session:
        return str(session.scalars(select(User.id).where(User.email == email)).one())


def test_an_account_is_created_then_its_role_changed_then_deactivated(
    db: Any, signed_in: Callable[[str], TestClient]
) -> None:
    admin = signed_in(ADMIN)
    created = post(
        admin, "/gestion/comptes", "/gestion/comptes",
        {"email": "nouvel.agent@pages.test", "name": "Nouvel Agent", "password": "x" * 14,
         "role": "agent", "administration": "SDIS-65"},
    )  # fmt: skip
    assert created.status_code == 303
    assert created.headers["location"] == "/gestion/comptes?fait=compte-cree"
    assert "Le compte est créé." in admin.get(created.headers["location"], headers=HTML).text
    new_id = account_id(db, "nouvel.agent@pages.test")
    page = f"/gestion/comptes/{new_id}"
    changed = post(admin, page, f"{page}/role", {"role": "manager"})
    assert changed.status_code == 303, changed.text
    shown = admin.get(changed.headers["location"], headers=HTML).text
    assert "Le rôle est modifié." in shown
    assert "agent d&#39;une administration → pilotage" in shown
    deactivated = post(admin, page, f"{page}/desactivation", {})
    assert deactivated.status_code == 303
    assert journal_keys(db) == [
        ("user", "nouvel.agent@pages.test", "created"),
        ("role", "nouvel.agent@pages.test", "role_changed"),
        ("user", "nouvel.agent@pages.test", "deactivated"),
    ]
    journal = admin.get("/gestion/journal", headers=HTML).text
    assert journal.count("nouvel.agent@pages.test") >= 3 and "3 modification(s)." in journal
    only_roles = admin.get("/gestion/journal?type=role", headers=HTML).text
    assert "1 modification(s)." in only_roles
    assert admin.get("/gestion/journal?type=inconnu", headers=HTML).status_code == 422
    assert "password" not in journal and "argon2" not in journal


def test_bad_account_input_comes_back_under_its_fields(
    db: Any, signed_in: Callable[[str], TestClient]
) -> None:
    admin = signed_in(ADMIN)
    answer = post(
        admin, "/gestion/comptes", "/gestion/comptes",
        {"email": "x", "name": "", "password": "court", "role": "root"},
    )  # fmt: skip
    assert answer.status_code == 422
    assert "caractère" in error_under(answer.text, "compte-mot-de-passe")
    assert error_under(answer.text, "account-role")
    assert error_under(answer.text, "compte-nom")
    # What was typed is shown again, never the password.
    assert 'value="x"' in answer.text and 'value="court"' not in answer.text
    # A refusal of the action (an agent without administration): at the top of the form.
    answer = post(
        admin, "/gestion/comptes", "/gestion/comptes",
        {"email": "a@pages.test", "name": "Agent", "password": "y" * 14, "role": "agent"},
    )  # fmt: skip
    assert answer.status_code == 422
    assert 'id="account-refus"' in answer.text and "administration" in answer.text
    assert journal_keys(db) == []


def test_an_admin_cannot_demote_himself_the_page_says_why(
    db: Any, signed_in: Callable[[str], TestClient]
) -> None:
    admin = signed_in(ADMIN)
    page = f"/gestion/comptes/{account_id(db, ADMIN)}"
    answer = post(admin, page, f"{page}/role", {"role": "manager"})
    assert answer.status_code == 422
    assert "dernier administrateur actif" in answer.text
    answer = post(admin, page, f"{page}/desactivation", {})
    assert answer.status_code == 422 and "dernier administrateur actif" in answer.text
    with db.transaction() as session:
        assert session.scalars(select(User.role).where(User.email == ADMIN)).one() == "admin"
    assert journal_keys(db) == []


def test_an_administration_is_edited_and_deactivated_from_its_page(
    db: Any, signed_in: Callable[[str], TestClient]
) -> None:
    admin = signed_in(ADMIN)
    page = "/gestion/administrations/OFB"
    bad = post(admin, page, page, {"name": "", "contact_email": "pas-une-adresse"})
    assert bad.status_code == 422
    assert error_under(bad.text, "administration-nom")
    saved = post(
        admin,
        page,
        page,
        {"name": "Office de la biodiversité", "contact_email": "sd65@ofb.gouv.fr"},
    )
    assert saved.status_code == 303
    unchanged = post(
        admin,
        page,
        page,
        {"name": "Office de la biodiversité", "contact_email": "sd65@ofb.gouv.fr"},
    )
    assert unchanged.status_code == 422 and "Rien n&#39;a changé" in unchanged.text
    assert post(admin, page, f"{page}/desactivation", {}).status_code == 303
    with db.transaction() as session:
        ofb = session.get_one(Administration, "OFB")
        assert (ofb.name, ofb.contact_email, ofb.active) == (
            "Office de la biodiversité", "sd65@ofb.gouv.fr", False,
        )  # fmt: skip
    assert [k[2] for k in journal_keys(db)] == ["updated", "deactivated"]
    assert admin.get("/gestion/administrations/NULLE-PART", headers=HTML).status_code == 404


def test_a_routing_rule_is_added_edited_and_deleted(
    db: Any, signed_in: Callable[[str], TestClient]
) -> None:
    admin = signed_in(ADMIN)
    fields = {
        "code": "retail_sdis", "rank": "90", "label": "Commerce : avis du SDIS",
        "condition": '{"attr": "retail_area_m2", "gte": 1000}',
        "targets": "SDIS-65 generic_opinion\nDDT-65 generic_opinion",
    }  # fmt: skip
    assert post(admin, "/gestion/aiguillage", "/gestion/aiguillage", fields).status_code == 303
    bad = post(
        admin, "/gestion/aiguillage", "/gestion/aiguillage",
        {**fields, "code": "other", "condition": "{pas du json", "targets": "SDIS-65"},
    )  # fmt: skip
    assert bad.status_code == 422
    assert "JSON" in error_under(bad.text, "regle-condition")
    assert "Ligne 1" in error_under(bad.text, "regle-destinataires")
    unknown_fact = post(
        admin, "/gestion/aiguillage", "/gestion/aiguillage",
        {**fields, "code": "other", "condition": '{"attr": "surface"}'},
    )  # fmt: skip
    assert unknown_fact.status_code == 422 and "caractéristique" in unknown_fact.text
    page = "/gestion/aiguillage/retail_sdis"
    assert post(admin, page, page, {**fields, "rank": "91"}).status_code == 303
    with db.transaction() as session:
        assert session.get_one(RoutingRule, "retail_sdis").rank == 91
    assert post(admin, page, f"{page}/suppression", {}).status_code == 303
    with db.transaction() as session:
        assert session.get(RoutingRule, "retail_sdis") is None
    assert [k[2] for k in journal_keys(db)] == ["created", "updated", "deleted"]
    assert admin.get(page, headers=HTML).status_code == 404


def test_an_internal_target_is_set_the_legal_deadline_is_shown_not_edited(
    db: Any, signed_in: Callable[[str], TestClient]
) -> None:
    admin = signed_in(ADMIN)
    page = admin.get("/gestion/objectifs", headers=HTML).text
    assert "C. urb. R423-59" in page and "1 mois" in page
    bad = post(
        admin, "/gestion/objectifs", "/gestion/objectifs",
        {"consultation_type": "generic_opinion", "amount": "zéro", "unit": "jours"},
    )  # fmt: skip
    assert bad.status_code == 422
    assert error_under(bad.text, "objectif-duree") and error_under(bad.text, "objectif-unite")
    saved = post(
        admin, "/gestion/objectifs", "/gestion/objectifs",
        {"consultation_type": "generic_opinion", "administration": "SDIS-65", "amount": "7",
         "unit": "business_days"},
    )  # fmt: skip
    assert saved.status_code == 303
    assert "SDIS-65 : 7 jours ouvrés" in admin.get("/gestion/objectifs", headers=HTML).text
    assert journal_keys(db) == [("deadline_target", "target:generic_opinion:SDIS-65", "created")]


def _next_weekday(days_ahead: int) -> dt.date:
    day = utcnow().date() + dt.timedelta(days=days_ahead)
    while day.isoweekday() > 5 or (day.month, day.day) in {
        (5, 1),
        (5, 8),
        (7, 14),
        (8, 15),
        (11, 1),
        (11, 11),
        (12, 25),
        (1, 1),
    }:
        day += dt.timedelta(days=1)
    return day


def test_a_closure_is_added_and_removed(db: Any, signed_in: Callable[[str], TestClient]) -> None:
    admin = signed_in(ADMIN)
    day = _next_weekday(30)
    past = post(
        admin, "/gestion/fermetures", "/gestion/fermetures",
        {"calendar": "FR", "date": "2020-01-06", "name": "Trop tard"},
    )  # fmt: skip
    assert past.status_code == 422 and "passé" in past.text
    bad = post(
        admin, "/gestion/fermetures", "/gestion/fermetures",
        {"calendar": "FR", "date": "le 6", "name": ""},
    )  # fmt: skip
    assert bad.status_code == 422
    assert error_under(bad.text, "fermeture-date") and error_under(bad.text, "fermeture-nom")
    added = post(
        admin, "/gestion/fermetures", "/gestion/fermetures",
        {"calendar": "FR", "date": day.isoformat(), "name": "Pont"},
    )  # fmt: skip
    assert added.status_code == 303
    listed = admin.get("/gestion/fermetures", headers=HTML).text
    assert "Pont" in listed
    removed = post(
        admin, "/gestion/fermetures", "/gestion/fermetures/suppression",
        {"calendar": "FR", "date": day.isoformat()},
    )  # fmt: skip
    assert removed.status_code == 303
    assert [(k[0], k[2]) for k in journal_keys(db)] == [
        ("closure", "created"),
        ("closure", "deleted"),
    ]


#: One changed field in the journal's table: its label, the value before and after.
JOURNAL_FIELD = re.compile(
    r'<li><span class="fr-text--bold">([^<]+)</span> : ([^<]*) → ([^<]*)</li>'
)


def test_the_journal_names_fields_in_french_and_shows_values_for_people(
    db: Any, signed_in: Callable[[str], TestClient]
) -> None:
    admin = signed_in(ADMIN)
    day = _next_weekday(30)
    assert post(
        admin, "/gestion/comptes", "/gestion/comptes",
        {"email": "journal.agent@pages.test", "name": "Agent Journal", "password": "x" * 14,
         "role": "agent", "administration": "SDIS-65"},
    ).status_code == 303  # fmt: skip
    page = f"/gestion/comptes/{account_id(db, 'journal.agent@pages.test')}"
    assert post(admin, page, f"{page}/desactivation", {}).status_code == 303
    assert post(
        admin, "/gestion/objectifs", "/gestion/objectifs",
        {"consultation_type": "generic_opinion", "amount": "3", "unit": "working_days"},
    ).status_code == 303  # fmt: skip
    assert post(
        admin, "/gestion/fermetures", "/gestion/fermetures",
        {"calendar": "FR", "date": day.isoformat(), "name": "Pont"},
    ).status_code == 303  # fmt: skip
    html = admin.get("/gestion/journal", headers=HTML).text
    shown = set(JOURNAL_FIELD.findall(html))
    raw = {name for fields in FIELD_LABELS.values() for name in fields}
    assert shown and not raw & {name for name, _, _ in shown}
    assert {
        ("Compte actif", "Oui", "Non"),
        ("Compte actif", "—", "Oui"),
        ("Rôle", "—", "agent d&#39;une administration"),
        ("Unité", "jours calendaires", "jours ouvrables"),
        ("Durée", "15", "3"),
        ("Jour", "—", day_label(day)),
        ("Horaires du jour", "—", "fermé"),
    } <= shown, sorted(shown)
    # A field without a value on either side (no arrondissement) is not listed.
    assert not any(name == "Arrondissements" for name, _, _ in shown)
    assert "business_days" not in html and "working_days" not in html
    assert f"Fermeture du {day_label(day)} (Pont)" in html
    # When: in the préfecture's time, in French.
    assert re.search(
        r"\d{1,2} (janvier|février|mars|avril|mai|juin|juillet|août|septembre|"
        r"octobre|novembre|décembre) \d{4} à \d{2}:\d{2}",
        html,
    )


@pytest.mark.parametrize(
    ("page", "action", "data"),
    [
        ("/gestion/comptes", "/gestion/comptes",
         {"email": "z@pages.test", "name": "Zed", "password": "z" * 14, "role": "manager"}),
        ("/gestion/administrations/OFB", "/gestion/administrations/OFB",
         {"name": "Autre nom", "contact_email": ""}),
        ("/gestion/administrations/OFB", "/gestion/administrations/OFB/desactivation", {"x": ""}),
        ("/gestion/aiguillage", "/gestion/aiguillage/abf/suppression", {"x": ""}),
        ("/gestion/objectifs", "/gestion/objectifs",
         {"consultation_type": "generic_opinion", "amount": "3", "unit": "business_days"}),
        ("/gestion/fermetures", "/gestion/fermetures",
         {"calendar": "FR", "date": "2099-06-01", "name": "Pont"}),
    ],
)  # fmt: skip
def test_a_post_without_csrf_or_from_another_role_is_refused_and_changes_nothing(
    db: Any, signed_in: Callable[[str], TestClient], page: str, action: str, data: dict[str, Any]
) -> None:
    admin = signed_in(ADMIN)
    without = admin.post(action, data=data, headers=HTML, follow_redirects=False)
    assert without.status_code == 403 and "<h1" in without.text
    wrong = admin.post(
        action, data={**data, "csrf_token": "faux"}, headers=HTML, follow_redirects=False
    )
    assert wrong.status_code == 403
    manager = signed_in("manager@pages.test")
    token = csrf_of(manager.get("/pilotage", headers=HTML).text, "/logout")
    refused = manager.post(
        action, data={**data, "csrf_token": token}, headers=HTML, follow_redirects=False
    )
    assert refused.status_code == 403 and "Accès refusé" in refused.text
    assert manager.get(page, headers=HTML).status_code == 403
    assert journal_keys(db) == []
    with db.transaction() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(RoutingRule).where(RoutingRule.code == "abf")
            )
            == 1
        )
        assert session.get_one(Administration, "OFB").active is True
