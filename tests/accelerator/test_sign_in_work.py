"""A refused sign-in does the same work whatever the account: one argon2id check against a
hash of the product's parameters, for an unknown e-mail, a wrong password and a deactivated
account alike, so its time does not tell which accounts exist or are active. (The time itself
is measured against a running demo by bench/attack_demo.py; no timing here.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import argon2
import pytest
from sqlalchemy import update

from accelerator.identity.actions import SIGN_IN_REFUSED, authenticate, create_user
from accelerator.identity.models import User
from accelerator.identity.passwords import _hasher, hash_password
from accelerator.identity.roles import Role
from accelerator.shared.db import utcnow
from accelerator.shared.errors import NotAuthenticated

PASSWORD = "le bon mot de passe"


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, bool]]]:
    """Every argon2id check argon2-cffi makes: (the stored hash, whether it matched)."""
    seen: list[tuple[str, bool]] = []
    verify = argon2.PasswordHasher.verify

    def spy(self: argon2.PasswordHasher, stored: str | bytes, password: str | bytes) -> bool:
        try:
            matched = verify(self, stored, password)
        except argon2.exceptions.VerificationError:
            seen.append((str(stored), False))
            raise
        seen.append((str(stored), matched))
        return matched

    monkeypatch.setattr(argon2.PasswordHasher, "verify", spy)
    yield seen


@pytest.fixture
def accounts(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The product's hashing, not the cheap one the other tests' accounts get (conftest.py).
    monkeypatch.setattr("accelerator.identity.actions.hash_password", hash_password)
    with db.transaction() as session:
        for email in ("actif@test.fr", "parti@test.fr"):
            create_user(session, email=email, role=Role.MANAGER, password=PASSWORD, now=utcnow())
        session.execute(update(User).where(User.email == "parti@test.fr").values(active=False))


def _parameters(stored: str) -> argon2.Parameters:
    return argon2.extract_parameters(stored)


@pytest.mark.parametrize(
    ("email", "password", "matches"),
    [
        ("inconnu@test.fr", PASSWORD, False),
        ("actif@test.fr", "un mauvais mot de passe", False),
        ("parti@test.fr", "un mauvais mot de passe", False),
        ("parti@test.fr", PASSWORD, True),
    ],
)
def test_a_refused_sign_in_checks_one_hash_whatever_the_account(
    db: Any,
    accounts: None,
    checks: list[tuple[str, bool]],
    email: str,
    password: str,
    matches: bool,
) -> None:
    with db.transaction() as session, pytest.raises(NotAuthenticated) as refused:
        authenticate(session, email=email, password=password)
    assert str(refused.value) == SIGN_IN_REFUSED
    assert len(checks) == 1, checks
    stored, matched = checks[0]
    assert matched is matches
    # A real argon2id hash of the product's parameters, not a cheaper stand-in.
    parameters = _parameters(stored)
    assert parameters.type is argon2.Type.ID
    assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (
        _hasher.time_cost,
        _hasher.memory_cost,
        _hasher.parallelism,
    )


def test_the_right_password_signs_in_after_one_check(
    db: Any, accounts: None, checks: list[tuple[str, bool]]
) -> None:
    with db.transaction() as session:
        assert authenticate(session, email="actif@test.fr", password=PASSWORD).email == (
            "actif@test.fr"
        )
    assert [matched for _stored, matched in checks] == [True]
