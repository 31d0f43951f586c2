"""The ``accelerator`` command, run as a user runs it (a real process on a real database)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from accelerator.identity.models import User
from accelerator.journal.models import ConfigChange

ROOT = Path(__file__).resolve().parents[2]


def accelerator(
    *args: str, database_url: str, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``accelerator ARGS`` in a child process."""
    environment = {**os.environ, "ACCELERATOR_DATABASE_URL": database_url, **env}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=120,
    )


def test_users_create_reads_the_password_on_stdin(db: object, database_url: str) -> None:
    done = accelerator(
        "users",
        "create",
        "--email",
        "Agent.ABF@Culture.gouv.fr",
        "--role",
        "agent",
        "--administration",
        "udap-65",
        "--password-stdin",
        database_url=database_url,
        stdin="s3cret-pass\n",
    )
    assert done.returncode == 0, done.stderr
    assert "agent.abf@culture.gouv.fr" in done.stdout
    from accelerator.identity.passwords import verify_password
    from accelerator.shared.db import get_database

    with get_database(database_url).transaction() as session:
        user = session.scalars(select(User).where(User.email == "agent.abf@culture.gouv.fr")).one()
        assert user.administration_code == "UDAP-65"
        assert user.password_hash.startswith("$argon2id$")
        assert verify_password(user.password_hash, "s3cret-pass")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "agent"], "rattaché à une administration"),
        (["--role", "agent", "--administration", "NOPE"], "Administration inconnue : NOPE"),
        (["--role", "holder"], "appartenir à une organisation"),
        (["--role", "pilot"], "rôle inconnu"),
        (["--role", "referent", "--arrondissement", "999"], "Arrondissement inconnu : 999"),
    ],
)
def test_users_create_refuses_incomplete_accounts(
    db: object, database_url: str, args: list[str], message: str
) -> None:
    done = accelerator(
        "users",
        "create",
        "--email",
        "x@test.fr",
        *args,
        "--password-stdin",
        database_url=database_url,
        stdin="password\n",
    )
    assert done.returncode != 0
    assert message in done.stderr


def test_referent_with_several_arrondissements(db: object, database_url: str) -> None:
    done = accelerator(
        "users",
        "create",
        "--email",
        "ref@test.fr",
        "--role",
        "referent",
        "--arrondissement",
        "651",
        "--arrondissement",
        "652,653",
        "--password-stdin",
        database_url=database_url,
        stdin="password\n",
    )
    assert done.returncode == 0, done.stderr
    from accelerator.shared.db import get_database

    with get_database(database_url).transaction() as session:
        user = session.scalars(select(User).where(User.email == "ref@test.fr")).one()
        assert user.arrondissements == ["651", "652", "653"]


def test_db_upgrade_and_catalogue_load_are_repeatable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    for _ in range(2):
        assert accelerator("db", "upgrade", database_url=url).returncode == 0
        loaded = accelerator("catalogue", "load", database_url=url)
        assert loaded.returncode == 0, loaded.stderr
        assert "communes : 469" in loaded.stdout


def test_serve_refuses_to_start_without_a_secret_outside_demo(tmp_path: Path) -> None:
    done = accelerator(
        "serve",
        "--port",
        "1",
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
        ACCELERATOR_DEMO="0",
    )
    assert done.returncode != 0
    assert "ACCELERATOR_SECRET_KEY est obligatoire" in done.stderr


def journal(database_url: str) -> list[ConfigChange]:
    from accelerator.shared.db import get_database

    with get_database(database_url).transaction() as session:
        rows = list(session.scalars(select(ConfigChange).order_by(ConfigChange.at)))
        for row in rows:
            session.expunge(row)
        return rows


def test_a_closure_and_an_account_made_on_the_command_line_are_journaled(
    db: object, database_url: str
) -> None:
    closed = accelerator(
        "calendars", "override", "--calendar", "fr-976", "--date", "2026-05-15",
        "--name", "Pont de l'Ascension", database_url=database_url,
    )  # fmt: skip
    assert closed.returncode == 0, closed.stderr
    created = accelerator(
        "users", "create", "--email", "Premier.Admin@test.fr", "--role", "admin",
        "--password-stdin", database_url=database_url, stdin="un mot de passe long\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    closure, account = journal(database_url)
    # The rows the admin pages write for the same changes, by the command line.
    assert (closure.kind, closure.key, closure.event, closure.actor_label, closure.actor_id) == (
        "closure", "FR-976:2026-05-15", "created", "cli:calendars override", None,
    )  # fmt: skip
    assert closure.before is None
    assert closure.after == {"date": "2026-05-15", "name": "Pont de l'Ascension", "intervals": []}
    assert closure.message.startswith("Fermeture du vendredi 15 mai 2026 (Pont de l'Ascension)")
    assert (account.kind, account.key, account.event, account.actor_label) == (
        "user", "premier.admin@test.fr", "created", "cli:users create",
    )  # fmt: skip
    assert account.after is not None and account.after["role"] == "admin"
    assert "password" not in str(account.after) and "argon2" not in str(account.after)
    # A refused one writes nothing.
    again = accelerator(
        "calendars", "override", "--calendar", "FR-976", "--date", "2026-05-15",
        "--name", "Pont de l'Ascension", database_url=database_url,
    )  # fmt: skip
    assert again.returncode != 0
    assert len(journal(database_url)) == 2
