"""Every page as every role: anonymous to the sign-in page, another role 403 (a French page),
its own role 200; every page route declares its policy; errors of pages are French pages and
the API's errors stay JSON."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from accelerator.shared.errors import Conflict
from api import pages, policies
from api.pages import management
from tests.pages.conftest import HTML, csrf_of
from tests.pages.test_consultation_page import OTHER_AGENT, consulted

#: Who may read each page (the route's declared policy must say the same).
PAGES: dict[str, set[str] | None] = {
    "/": None,  # public
    "/login": None,
    "/espace": {"holder", "referent", "agent", "manager", "admin"},
    "/mes-dossiers": {"holder"},
    "/nouveau-dossier": {"holder"},
    "/file-de-travail": {"referent"},
    "/file-de-travail.csv": {"referent"},
    "/mes-consultations": {"agent"},
    "/pilotage": {"manager"},
    "/pilotage/indicateurs": {"manager", "admin"},
    "/pilotage/prevision": {"manager", "admin"},
    "/pilotage/revues": {"manager", "admin"},
    "/pilotage/simulation": {"manager", "admin"},
    "/gestion": {"admin"},
    "/gestion/comptes": {"admin"},
    "/gestion/administrations": {"admin"},
    "/gestion/aiguillage": {"admin"},
    "/gestion/objectifs": {"admin"},
    "/gestion/fermetures": {"admin"},
    "/gestion/journal": {"admin"},
}
#: The weekly packs' files, probed with a week that has ended (200 for who may read them).
WEEK_PAGES: dict[str, set[str]] = {
    "/pilotage/revues/{week}.pdf": {"manager", "admin"},
    "/pilotage/revues/{week}.html": {"manager", "admin"},
}
STAFF = {"referent", "manager", "admin"}
#: Pages of one object (probed with an id that exists nowhere: 404 for who may read such a
#: page, 403 for another role, the sign-in page for anonymous visitors).
OBJECT_PAGES: dict[str, set[str]] = {
    "/dossiers/{dossier_id}": {"holder"} | STAFF,
    "/dossiers/{dossier_id}/brouillon": {"holder"},
    "/consultations/{consultation_id}": {"agent"} | STAFF,
    "/documents/{document_id}/contenu": {"holder", "agent"} | STAFF,
    "/gestion/comptes/{account_id}": {"admin"},
    "/pilotage/administrations/{code}": {"manager", "admin"},
    "/pilotage/indicateurs/{table}.csv": {"manager", "admin"},
    "/pilotage/simulation/{run_id}": {"manager", "admin"},
    "/gestion/administrations/{code}": {"admin"},
    "/gestion/aiguillage/{code}": {"admin"},
}
#: Of those, the pages probed on a consulted dossier too (another administration's agent: 404).
CONSULTED_PAGES = ("/consultations/{consultation_id}", "/documents/{document_id}/contenu")
#: The forms pages post to, and who may send each.
FORMS: dict[str, set[str] | None] = {
    "/login": None,
    "/logout": {"holder", "referent", "agent", "manager", "admin"},
    "/nouveau-dossier": {"holder"},
    "/dossiers/{dossier_id}/brouillon": {"holder"},
    "/dossiers/{dossier_id}/depot": {"holder"},
    "/dossiers/{dossier_id}/pieces": {"holder", "referent"},
    "/dossiers/{dossier_id}/prise-en-charge": {"referent"},
    "/dossiers/{dossier_id}/consultations": {"referent"},
    "/dossiers/{dossier_id}/demandes": {"referent"},
    "/dossiers/{dossier_id}/demandes/{request_id}/reponse": {"holder"},
    "/dossiers/{dossier_id}/messages": {"holder", "referent"},
    "/dossiers/{dossier_id}/retrait": {"holder"},
    "/dossiers/{dossier_id}/consultations/{consultation_id}/messages": {"referent"},
    "/dossiers/{dossier_id}/referent": {"referent", "manager"},
    "/dossiers/{dossier_id}/cloture": {"referent"},
    "/dossiers/{dossier_id}/cycles": {"referent"},
    "/consultations/{consultation_id}/accuse-reception": {"agent"},
    "/consultations/{consultation_id}/avis": {"agent"},
    "/consultations/{consultation_id}/messages": {"agent", "referent"},
    "/gestion/comptes": {"admin"},
    "/gestion/comptes/{account_id}/role": {"admin"},
    "/gestion/comptes/{account_id}/desactivation": {"admin"},
    "/gestion/comptes/{account_id}/reactivation": {"admin"},
    "/gestion/administrations/{code}": {"admin"},
    "/gestion/administrations/{code}/desactivation": {"admin"},
    "/gestion/administrations/{code}/reactivation": {"admin"},
    "/gestion/aiguillage": {"admin"},
    "/gestion/aiguillage/{code}": {"admin"},
    "/gestion/aiguillage/{code}/suppression": {"admin"},
    "/gestion/objectifs": {"admin"},
    "/gestion/fermetures": {"admin"},
    "/gestion/fermetures/suppression": {"admin"},
    "/pilotage/simulation": {"manager", "admin"},
}
ROLES = {
    "holder@pages.test": "holder",
    "referent@pages.test": "referent",
    "agent@pages.test": "agent",
    "manager@pages.test": "manager",
    "admin@pages.test": "admin",
}


def test_every_page_declares_the_policy_this_table_gives(app: FastAPI) -> None:
    served = {}
    for route in policies.served_routes(app):
        if pages.is_pages_route(route.route):
            assert isinstance(route.route, APIRoute)
            policy = policies.policy_of(route.route)
            assert policy is not None, route.path
            for method in route.methods:
                served[f"{method} {route.path}"] = policy
    gets = {key.split(" ", 1)[1]: p for key, p in served.items() if key.startswith("GET ")}
    posts = {key.split(" ", 1)[1]: p for key, p in served.items() if key.startswith("POST ")}
    assert set(gets) == set(PAGES) | set(OBJECT_PAGES) | set(WEEK_PAGES) | {"/static/{path:path}"}
    assert set(posts) == set(FORMS)
    assert len(served) == len(gets) + len(posts)
    for path, roles in [*PAGES.items(), *OBJECT_PAGES.items(), *WEEK_PAGES.items()]:
        policy = gets[path]
        declared = None if policy.public else {role.value for role, _ in policy.scopes}
        assert declared == roles, path
    for path, roles in FORMS.items():
        policy = posts[path]
        declared = None if policy.public else {role.value for role, _ in policy.scopes}
        assert declared == roles, path
    assert gets["/static/{path:path}"].public
    assert served["POST /logout"] == policies.SIGNED_IN


def test_every_page_as_every_role(
    browser_client: Callable[[], TestClient], signed_in: Callable[[str], TestClient]
) -> None:
    anonymous = browser_client()
    clients = {role: signed_in(email) for email, role in ROLES.items()}
    for path, roles in PAGES.items():
        answer = anonymous.get(path, headers=HTML, follow_redirects=False)
        if roles is None:
            assert answer.status_code == 200, path
        else:
            assert answer.status_code == 303 and answer.headers["location"] == "/login", path
        for role, client in clients.items():
            answer = client.get(path, headers=HTML, follow_redirects=False)
            if path == "/espace":
                assert answer.status_code == 303, path
            elif roles is None or role in roles:
                assert answer.status_code == 200, (path, role)
                if path.endswith(".csv"):
                    assert answer.headers["content-type"].startswith("text/csv")
                else:
                    assert answer.text.count("<h1") == 1, (path, role)
            else:
                assert answer.status_code == 403, (path, role)
                assert "Accès refusé" in answer.text and "<h1" in answer.text


def test_every_pack_file_as_every_role(
    browser_client: Callable[[], TestClient], signed_in: Callable[[str], TestClient]
) -> None:
    anonymous = browser_client()
    clients = {role: signed_in(email) for email, role in ROLES.items()}
    for pattern, readers in WEEK_PAGES.items():
        path = pattern.replace("{week}", "2026-W24")
        answer = anonymous.get(path, headers=HTML, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/login", path
        for role, client in clients.items():
            answer = client.get(path, headers=HTML, follow_redirects=False)
            if role in readers:
                assert answer.status_code == 200, (path, role)
                assert answer.content.startswith((b"%PDF-", b"<!DOCTYPE html>")), path
            else:
                assert answer.status_code == 403, (path, role)
                assert "Accès refusé" in answer.text and "<h1" in answer.text


def _concrete(path: str) -> str:
    """``path`` with each ``{name}`` replaced by an id that exists nowhere."""
    return re.sub(r"\{[a-z_]+\}", lambda _m: str(uuid.uuid4()), path)


def test_every_object_page_and_form_as_every_role(
    browser_client: Callable[[], TestClient], signed_in: Callable[[str], TestClient]
) -> None:
    anonymous = browser_client()
    clients = {role: signed_in(email) for email, role in ROLES.items()}
    tokens = {
        role: csrf_of(c.get("/", headers=HTML).text, "/logout") for role, c in clients.items()
    }
    for pattern, readers in OBJECT_PAGES.items():
        path = _concrete(pattern)
        answer = anonymous.get(path, headers=HTML, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/login", path
        for role, client in clients.items():
            answer = client.get(path, headers=HTML, follow_redirects=False)
            expected = 404 if role in readers else 403
            assert answer.status_code == expected, (pattern, role, answer.status_code)
            assert answer.text.count("<h1") == 1
    for pattern, senders in FORMS.items():
        if senders is None or pattern == "/logout":
            continue
        path = _concrete(pattern)
        answer = anonymous.post(
            path, data={"csrf_token": "x"}, headers=HTML, follow_redirects=False
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/login", path
        for role, client in clients.items():
            answer = client.post(
                path, data={"csrf_token": tokens[role]}, headers=HTML, follow_redirects=False
            )
            expected = (404, 422) if role in senders else (403,)
            assert answer.status_code in expected, (pattern, role, answer.status_code)


def test_the_consultation_pages_on_a_consulted_dossier_as_every_role(
    db: Any,
    browser_client: Callable[[], TestClient],
    signed_in: Callable[[str], TestClient],
    accounts: dict[str, str],
) -> None:
    world = consulted(db, ("DDT-65",))
    ids = {
        "/consultations/{consultation_id}": world["consultations"]["DDT-65"],
        "/documents/{document_id}/contenu": world["piece"],
    }
    clients = {role: signed_in(email) for email, role in ROLES.items()}
    # An agent of an administration not consulted on the dossier sees neither.
    stranger = signed_in(OTHER_AGENT)
    for template in CONSULTED_PAGES:
        roles = OBJECT_PAGES[template]
        path = template.split("{")[0] + str(ids[template]) + template.split("}")[1]
        answer = browser_client().get(path, headers=HTML, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/login", path
        for role, client in clients.items():
            answer = client.get(path, headers=HTML, follow_redirects=False)
            if role in roles:
                assert answer.status_code == 200, (path, role)
                if answer.headers["content-type"].startswith("text/html"):
                    assert answer.text.count("<h1") == 1, (path, role)
            else:
                assert answer.status_code == 403, (path, role)
                assert "Accès refusé" in answer.text
        assert stranger.get(path, headers=HTML).status_code == 404, path


def test_page_errors_are_french_pages_and_api_errors_stay_json(
    signed_in: Callable[[str], TestClient], browser_client: Callable[[], TestClient]
) -> None:
    client = signed_in("referent@pages.test")
    for path in ("/nulle-part", "/mes-dossiers/inconnu"):
        missing = client.get(path, headers=HTML)
        assert missing.status_code == 404 and "Page non trouvée" in missing.text
    json_404 = client.get("/api/v1/dossiers/inconnu", headers=HTML)
    assert json_404.status_code in (401, 404)
    assert json_404.headers["content-type"].startswith("application/json")
    assert client.get("/nulle-part").headers["content-type"].startswith("application/json")
    bad_query = client.get("/file-de-travail?page=0", headers=HTML)
    assert bad_query.status_code == 422 and "Informations invalides" in bad_query.text
    unknown = client.get("/file-de-travail?limt=5", headers=HTML)
    assert unknown.status_code == 422 and "limt" in unknown.text
    tab = client.get("/file-de-travail?onglet=inconnu", headers=HTML)
    assert tab.status_code == 422
    not_form = browser_client().post("/login", json={"email": "x"}, headers=HTML)
    assert not_form.status_code == 415 and "Format non pris en charge" in not_form.text
    big = browser_client().post(
        "/login",
        content=b"email=" + b"x" * (70 * 1024),
        headers={**HTML, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert big.status_code == 413 and "Envoi trop volumineux" in big.text
    assert client.delete("/gestion", headers=HTML).status_code == 405


@pytest.fixture
def failing_directory(monkeypatch: pytest.MonkeyPatch) -> Callable[[Exception], None]:
    """Make the administrators' page raise ``error`` while it reads the directory."""

    def fail_with(error: Exception) -> None:
        def boom(*_args: Any, **_kwargs: Any) -> Any:
            raise error

        monkeypatch.setattr(management.directory, "administrations", boom)

    return fail_with


def test_a_conflict_offers_to_reload_and_a_failure_gives_its_reference(
    signed_in: Callable[[str], TestClient], failing_directory: Callable[[Exception], None]
) -> None:
    admin = signed_in("admin@pages.test")
    failing_directory(Conflict("Le dossier a été modifié entre-temps."))
    conflict = admin.get("/gestion", headers=HTML)
    assert conflict.status_code == 409 and "Recharger la page" in conflict.text
    assert 'href="/gestion"' in conflict.text
    failing_directory(RuntimeError("boom"))
    failure = admin.get("/gestion", headers={**HTML, "X-Request-ID": "ref-1234"})
    assert failure.status_code == 500 and "Erreur inattendue" in failure.text
    assert "ref-1234" in failure.text and "boom" not in failure.text
    assert failure.headers["X-Request-ID"] == "ref-1234"
    assert "frame-ancestors 'none'" in failure.headers["Content-Security-Policy"]
    # The header still shows who is signed in, with a working sign-out form.
    assert "Se déconnecter" in failure.text and csrf_of(failure.text, "/logout")
