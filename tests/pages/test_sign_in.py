"""Sign-in, sessions and CSRF through HTTP, on SQLite and PostgreSQL (docs/security.md)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from accelerator.identity.actions import SIGN_IN_REFUSED, create_user
from accelerator.identity.roles import Role
from accelerator.identity.sessions import WebSession, token_hash
from accelerator.identity.throttle import MESSAGE as THROTTLED
from accelerator.shared.config import Settings
from accelerator.shared.db import utcnow
from api.app import create_app
from tests.pages.conftest import HTML, PASSWORD, csrf_of, sign_in

COOKIE = "accelerator-session"


def _sessions(db: Any) -> int:
    with db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(WebSession)) or 0)


def test_the_login_form_has_email_password_and_a_hidden_csrf_field(
    browser_client: Callable[[], TestClient],
) -> None:
    page = browser_client().get("/login", headers=HTML)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<html lang="fr"' in page.text
    assert re.search(r'<input[^>]*type="email"[^>]*name="email"', page.text)
    assert re.search(r'<input[^>]*type="password"[^>]*name="password"', page.text)
    hidden = re.search(r'<input type="hidden" name="(csrf[^"]*)" value="([^"]+)"', page.text)
    assert hidden and hidden.group(1).startswith("csrf") and len(hidden.group(2)) >= 32
    assert page.text.count("<h1") == 1


def test_each_role_lands_on_its_own_space(
    browser_client: Callable[[], TestClient], accounts: dict[str, str]
) -> None:
    landed = {}
    for email, landing in accounts.items():
        client = browser_client()
        answer = sign_in(client, email)
        assert answer.status_code == 303, answer.text
        landed[email] = answer.headers["location"]
        assert landed[email] == landing
        space = client.get(landed[email], headers=HTML)
        assert space.status_code == 200, space.text
        assert space.text.count("<h1") == 1
    assert len(set(landed.values())) == len(accounts) == 5


def test_a_wrong_password_shows_the_apis_french_message(
    browser_client: Callable[[], TestClient], db: Any
) -> None:
    client = browser_client()
    answer = sign_in(client, "holder@pages.test", "wrong")
    assert answer.status_code == 401
    assert SIGN_IN_REFUSED.replace("'", "&#39;") in answer.text
    unknown = sign_in(client, "nobody@pages.test", "wrong")
    assert unknown.status_code == 401 and SIGN_IN_REFUSED.replace("'", "&#39;") in unknown.text
    assert COOKIE not in client.cookies and _sessions(db) == 0


def test_the_form_shares_the_apis_sign_in_budget(
    browser_client: Callable[[], TestClient],
) -> None:
    client = browser_client()
    for _ in range(5):
        assert sign_in(client, "holder@pages.test", "wrong").status_code == 401
    form = sign_in(client, "holder@pages.test")
    assert form.status_code == 429 and form.headers["Retry-After"].isdigit()
    assert THROTTLED.split("{")[0].replace("'", "&#39;") in form.text
    api = client.post(
        "/api/v1/auth/token", json={"email": "holder@pages.test", "password": PASSWORD}
    )
    assert api.status_code == 429


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    browser_client: Callable[[], TestClient], signed_in: Callable[[str], TestClient], db: Any
) -> None:
    client = browser_client()
    client.get("/login", headers=HTML)
    for token in (None, "", "forged", "x" * 500):
        data = {"email": "holder@pages.test", "password": PASSWORD}
        if token is not None:
            data["csrf_token"] = token
        refused = client.post("/login", data=data, headers=HTML, follow_redirects=False)
        assert refused.status_code == 403, token
        assert "Accès refusé" in refused.text
    assert _sessions(db) == 0
    # The token of another browser's form does not fit this browser's cookie.
    other = browser_client().get("/login", headers=HTML)
    crossed = client.post(
        "/login",
        data={
            "email": "holder@pages.test",
            "password": PASSWORD,
            "csrf_token": csrf_of(other.text),
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert crossed.status_code == 403 and _sessions(db) == 0
    holder = signed_in("holder@pages.test")
    assert holder.post("/logout", data={"x": "1"}, headers=HTML).status_code == 403
    assert holder.post("/logout", data={"csrf_token": "forged"}, headers=HTML).status_code == 403
    assert holder.get("/mes-dossiers", headers=HTML).status_code == 200
    assert _sessions(db) == 1


def test_sign_in_opens_a_new_session_and_logout_really_ends_it(
    browser_client: Callable[[], TestClient], db: Any
) -> None:
    client = browser_client()
    assert sign_in(client, "holder@pages.test").status_code == 303
    first = client.cookies[COOKIE]
    # Signing in again (another account here) replaces the session: a new id, the old one gone.
    assert sign_in(client, "referent@pages.test").status_code == 303
    second = client.cookies[COOKIE]
    assert second != first and _sessions(db) == 1
    with db.transaction() as session:
        assert session.get(WebSession, token_hash(first)) is None
    page = client.get("/file-de-travail", headers=HTML)
    out = client.post(
        "/logout", data={"csrf_token": csrf_of(page.text)}, headers=HTML, follow_redirects=False
    )
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert _sessions(db) == 0
    replay = browser_client()
    replay.cookies.set(COOKIE, second)
    again = replay.get("/file-de-travail", headers=HTML, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/login"


def test_idle_and_absolute_timeouts_end_a_session(
    signed_in: Callable[[str], TestClient], db: Any
) -> None:
    idle, absolute = signed_in("holder@pages.test"), signed_in("agent@pages.test")
    now = utcnow()
    with db.transaction() as session:
        session.execute(
            update(WebSession)
            .where(WebSession.id == token_hash(idle.cookies[COOKIE]))
            .values(last_seen_at=now - dt.timedelta(minutes=31))
        )
        session.execute(
            update(WebSession)
            .where(WebSession.id == token_hash(absolute.cookies[COOKIE]))
            .values(expires_at=now - dt.timedelta(seconds=1))
        )
    for client, path in ((idle, "/mes-dossiers"), (absolute, "/mes-consultations")):
        answer = client.get(path, headers=HTML, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/login"


def test_activity_moves_the_idle_deadline(signed_in: Callable[[str], TestClient], db: Any) -> None:
    client = signed_in("holder@pages.test")
    earlier = utcnow() - dt.timedelta(minutes=20)
    key = token_hash(client.cookies[COOKIE])
    with db.transaction() as session:
        session.execute(update(WebSession).where(WebSession.id == key).values(last_seen_at=earlier))
    assert client.get("/mes-dossiers", headers=HTML).status_code == 200
    with db.transaction() as session:
        assert session.get_one(WebSession, key).last_seen_at > earlier + dt.timedelta(minutes=19)


def test_outside_demo_the_cookie_is_host_prefixed_secure_httponly_and_lax(db: Any) -> None:
    settings = Settings(database_url=db.url, demo=False, secret_key="k" * 40)
    with db.transaction() as session:
        create_user(
            session, email="admin@pages.test", role=Role.ADMIN, password=PASSWORD, now=utcnow()
        )
    with TestClient(create_app(settings), base_url="https://accelerateur.test") as client:
        form = client.get("/login", headers=HTML)
        assert "__Host-accelerator-csrf=" in form.headers["set-cookie"]
        answer = sign_in(client, "admin@pages.test")
        assert answer.status_code == 303
        cookies = answer.headers.get_list("set-cookie")
        session_cookie = next(c for c in cookies if c.startswith("__Host-accelerator-session="))
        attributes = {part.strip().split("=")[0].lower() for part in session_cookie.split(";")}
        assert {"secure", "httponly", "path"} <= attributes and "domain" not in attributes
        assert "samesite=lax" in session_cookie.lower() and "path=/" in session_cookie.lower()
        page = client.get("/gestion", headers=HTML)
        assert page.status_code == 200
        assert "max-age=" in page.headers["Strict-Transport-Security"]
