"""Pages fixtures: the app on the test database (both backends), one account per role, and
browser-like clients that sign in through the form."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from accelerator.identity.actions import create_user
from accelerator.identity.roles import Role
from accelerator.shared.db import utcnow
from tests.apps import shared_app

PASSWORD = "correct horse battery staple"
#: One account per role, and the page each lands on.
ACCOUNTS: dict[str, tuple[Role, dict[str, Any], str]] = {
    "holder@pages.test": (Role.HOLDER, {"organisation": "Hôtel des Gaves"}, "/mes-dossiers"),
    "referent@pages.test": (Role.REFERENT, {"arrondissements": ["651"]}, "/file-de-travail"),
    "agent@pages.test": (Role.AGENT, {"administration": "DDT-65"}, "/mes-consultations"),
    "manager@pages.test": (Role.MANAGER, {}, "/pilotage"),
    "admin@pages.test": (Role.ADMIN, {}, "/gestion"),
}
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
CSRF = re.compile(r'name="(csrf[a-z_]*)" value="([^"]+)"')


@pytest.fixture
def app(db: Any) -> Iterator[Any]:
    """The session's app on the test database, demo mode (plain http; ``tests.apps``)."""
    with shared_app(db.url) as shared:
        yield shared


@pytest.fixture
def accounts(db: Any) -> dict[str, str]:
    """One account per role (email → landing page)."""
    with db.transaction() as session:
        for email, (role, extra, _) in ACCOUNTS.items():
            create_user(session, email=email, role=role, password=PASSWORD, now=utcnow(), **extra)
    return {email: landing for email, (_, _, landing) in ACCOUNTS.items()}


def csrf_of(html: str, action: str | None = None) -> str:
    """The CSRF token of the first form of ``html`` (posting to ``action``, if given)."""
    start = html.index(f'action="{action}"') if action else 0
    found = CSRF.search(html, start)
    assert found is not None, "no CSRF field"
    return found.group(2)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    """Send the sign-in form as a browser would (GET the form, POST it with its token)."""
    form = client.get("/login", headers=HTML)
    assert form.status_code == 200, form.text
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(form.text, "/login")},
        headers=HTML,
        follow_redirects=False,
    )


@pytest.fixture
def browser_client(app: Any, accounts: dict[str, str]) -> Iterator[Callable[[], TestClient]]:
    """``browser_client()`` → a fresh client with its own cookie jar (plain http demo)."""
    clients: list[TestClient] = []

    def make() -> TestClient:
        client = TestClient(app, base_url="http://127.0.0.1")
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def signed_in(browser_client: Callable[[], TestClient]) -> Callable[[str], TestClient]:
    """``signed_in(email)`` → a client whose session is that user's."""

    def make(email: str) -> TestClient:
        client = browser_client()
        answer = sign_in(client, email)
        assert answer.status_code == 303, answer.text
        return client

    return make


@pytest.fixture
def statements(db: Any) -> Iterator[list[str]]:
    """The SQL statements the database receives from here on."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)
