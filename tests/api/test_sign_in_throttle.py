"""Sign-in is rate-limited per account and per client address (429 with Retry-After), and an
unknown or deactivated account answers exactly like a wrong password."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from accelerator.identity.models import User
from accelerator.shared.config import Settings
from api.app import create_app
from tests.api.conftest import PASSWORD

REDIS = "redis://127.0.0.1:6379/0"
REFUSED = "Adresse électronique ou mot de passe incorrect."


@contextmanager
def app_client(db: Any, address: str = "203.0.113.7", **settings: Any) -> Iterator[TestClient]:
    """A client of a fresh app (its own counts unless the storage is shared) from ``address``."""
    app = create_app(Settings(database_url=db.url, demo=True, **settings))
    with TestClient(app, client=(address, 50000)) as client:
        yield client


def sign_in(client: TestClient, email: str, password: str, **kwargs: Any) -> Any:
    """POST the credentials; the response."""
    return client.post("/api/v1/auth/token", json={"email": email, "password": password}, **kwargs)


def assert_throttled(response: Any) -> None:
    assert response.status_code == 429, response.text
    seconds = int(response.headers["Retry-After"])
    assert 1 <= seconds <= 3600
    assert response.json()["detail"].startswith("Trop de tentatives de connexion")
    assert f"{seconds} s" in response.json()["detail"]


def test_the_sixth_wrong_password_is_429_with_retry_after(
    db: Any, accounts: dict[str, str]
) -> None:
    with app_client(db) as client:
        for _ in range(5):
            assert sign_in(client, "holder@test.fr", "wrong").status_code == 401
        assert_throttled(sign_in(client, "holder@test.fr", "wrong"))
        # The right password is refused too while the account's budget is spent.
        assert_throttled(sign_in(client, " HOLDER@test.fr ", PASSWORD))
        # Another account from the same address still signs in.
        assert sign_in(client, "referent@test.fr", PASSWORD).status_code == 200


def test_a_success_clears_the_account_count(db: Any, accounts: dict[str, str]) -> None:
    with app_client(db, login_rate_per_account="3/minute") as client:
        for _ in range(2):
            assert sign_in(client, "holder@test.fr", "wrong").status_code == 401
        assert sign_in(client, "holder@test.fr", PASSWORD).status_code == 200
        for _ in range(3):
            assert sign_in(client, "holder@test.fr", "wrong").status_code == 401
        assert_throttled(sign_in(client, "holder@test.fr", "wrong"))


def test_the_account_limit_holds_across_addresses(db: Any, accounts: dict[str, str]) -> None:
    app = create_app(Settings(database_url=db.url, demo=True, login_rate_per_account="3/minute"))
    for index in range(3):
        with TestClient(app, client=(f"198.51.100.{index}", 5000)) as client:
            assert sign_in(client, "Holder@Test.fr", "wrong").status_code == 401
    with TestClient(app, client=("198.51.100.99", 5000)) as client:
        assert_throttled(sign_in(client, "holder@test.fr", "wrong"))


def test_the_address_limit_holds_across_accounts(db: Any, accounts: dict[str, str]) -> None:
    with app_client(db, login_rate_per_address="3/minute") as client:
        for email in ("holder@test.fr", "referent@test.fr", "nobody@test.fr"):
            assert sign_in(client, email, "wrong").status_code == 401
        assert_throttled(sign_in(client, "manager@test.fr", PASSWORD))
        # Guessing from another address is another budget.
    with app_client(db, address="203.0.113.8", login_rate_per_address="3/minute") as other:
        assert sign_in(other, "manager@test.fr", PASSWORD).status_code == 200


def test_successes_do_not_spend_the_address_budget(db: Any, accounts: dict[str, str]) -> None:
    # Agents behind one address sign in all morning.
    with app_client(db, login_rate_per_address="2/minute") as client:
        for _ in range(4):
            assert sign_in(client, "holder@test.fr", PASSWORD).status_code == 200


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(
    db: Any, accounts: dict[str, str]
) -> None:
    with app_client(db, login_rate_per_address="2/minute") as client:
        for index in range(2):
            headers = {"X-Forwarded-For": f"192.0.2.{index}"}
            assert sign_in(client, f"x{index}@test.fr", "wrong", headers=headers).status_code == 401
        assert_throttled(
            sign_in(client, "x9@test.fr", "wrong", headers={"X-Forwarded-For": "192.0.2.50"})
        )
    with app_client(
        db, login_rate_per_address="2/minute", trusted_proxies="203.0.113.0/24"
    ) as proxied:
        for index in range(2):
            headers = {"X-Forwarded-For": "192.0.2.1, 203.0.113.200"}
            assert (
                sign_in(proxied, f"y{index}@test.fr", "wrong", headers=headers).status_code == 401
            )
        assert_throttled(
            sign_in(proxied, "y9@test.fr", "wrong", headers={"X-Forwarded-For": "192.0.2.1"})
        )
        # Another client behind the same proxy has its own budget.
        headers = {"X-Forwarded-For": "192.0.2.2"}
        assert sign_in(proxied, "y10@test.fr", "wrong", headers=headers).status_code == 401


def test_a_deactivated_account_answers_like_a_wrong_password(
    db: Any, accounts: dict[str, str]
) -> None:
    with db.transaction() as session:
        session.execute(update(User).where(User.email == "holder2@test.fr").values(active=False))
    with app_client(db) as client:
        answers = [
            sign_in(client, "holder2@test.fr", PASSWORD),
            sign_in(client, "holder2@test.fr", "wrong"),
            sign_in(client, "nobody@test.fr", PASSWORD),
            sign_in(client, "holder@test.fr", "wrong"),
        ]
    for answer in answers:
        assert answer.status_code == 401
        assert answer.json() == {"detail": REFUSED}
        assert answer.headers.get("WWW-Authenticate") == "Bearer"


def test_unreadable_rate_settings_are_refused_at_start_up() -> None:
    with pytest.raises(ValueError, match="LOGIN_RATE_PER_ACCOUNT"):
        Settings(demo=True, login_rate_per_account="often")
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        Settings(demo=True, trusted_proxies="10.0.0.0/33")


def test_a_redis_storage_is_shared_by_two_app_instances(db: Any, accounts: dict[str, str]) -> None:
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS, socket_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.fail(f"redis is expected at {REDIS} (see docs/operations.md)")
    # A fresh account and address: the counts of other runs live in the same redis.
    email = f"holder-{uuid.uuid4().hex[:8]}@test.fr"
    address = f"2001:db8::{uuid.uuid4().hex[:4]}"
    shared = {"rate_limit_storage": REDIS, "login_rate_per_account": "2/minute"}
    with app_client(db, address, **shared) as first, app_client(db, address, **shared) as second:
        assert first.app is not second.app
        assert sign_in(first, email, "wrong").status_code == 401
        assert sign_in(second, email, "wrong").status_code == 401
        assert_throttled(sign_in(first, email, "wrong"))
        assert_throttled(sign_in(second, email, "wrong"))


def test_an_unreachable_storage_is_503_not_500(db: Any, accounts: dict[str, str]) -> None:
    with app_client(db, rate_limit_storage="redis://127.0.0.1:1/0") as client:
        answer = sign_in(client, "holder@test.fr", PASSWORD)
    assert answer.status_code == 503 and "réessayez" in answer.json()["detail"]
