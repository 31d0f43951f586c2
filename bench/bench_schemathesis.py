"""schemathesis with a long budget: every operation, as every role, in-process.

The same harness as tests/api/test_schemathesis.py (tests/api/schemathesis_run.py), on a fresh
migrated database (SQLite by default, PostgreSQL with ``--postgres``) with the catalogue and one
account per role, ``--examples`` requests per operation, role and generation mode (data that
fits the document, and data that does not). Prints a table (Markdown) of requests, statuses and
failures by role, then every distinct failure; exits 1 if there is any.

Run: ``.venv/bin/python bench/bench_schemathesis.py [--examples 200] [--roles holder,admin]
[--postgres]``
"""

from __future__ import annotations

import argparse
import collections
import logging
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ACCELERATOR_DEMO", "1")

ACCOUNTS = {
    "anonymous": None,
    "holder": ("holder@bench.test", "holder", {"organisation": "Hôtel des Gaves"}),
    "referent": ("referent@bench.test", "referent", {"arrondissements": ["651", "652", "653"]}),
    "agent": ("agent@bench.test", "agent", {"administration": "SDIS-65"}),
    "manager": ("manager@bench.test", "manager", {}),
    "admin": ("admin@bench.test", "admin", {}),
}
PASSWORD = "bench password of the schemathesis run"


def _database(postgres: bool) -> tuple[str, str | None]:
    """A fresh migrated database with the catalogue: its URL and, for PostgreSQL, its name."""
    from sqlalchemy import create_engine, text

    from accelerator.catalogue.actions import load_catalogue
    from accelerator.migrations.commands import upgrade
    from accelerator.shared.db import get_database

    if postgres:
        name = f"accelerator_bench_schemathesis_{uuid.uuid4().hex[:6]}"
        admin_url = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        with create_engine(admin_url, isolation_level="AUTOCOMMIT").connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    else:
        name = None
        url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-schemathesis-')}/accelerator.shared.db"
    upgrade(url)
    with get_database(url).transaction() as session:
        load_catalogue(session)
    return url, name


def main() -> None:
    """Run the long budget and print the summary."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=200, help="per operation, role, mode")
    parser.add_argument("--roles", default=",".join(ACCOUNTS), help="comma-separated roles")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL at 127.0.0.1:5432")
    args = parser.parse_args()

    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine, text

    from accelerator.identity.actions import create_user
    from accelerator.identity.roles import Role
    from accelerator.shared.config import Settings
    from accelerator.shared.db import get_database, utcnow
    from api.app import create_app
    from tests.api.schemathesis_run import failures, run

    url, postgres_name = _database(args.postgres)
    roles = [r for r in args.roles.split(",") if r]
    with get_database(url).transaction() as session:
        for role in roles:
            spec = ACCOUNTS[role]
            if spec is not None:
                email, kind, extra = spec
                create_user(
                    session, email=email, role=Role(kind), password=PASSWORD, now=utcnow(), **extra
                )
    app = create_app(Settings(database_url=url, demo=True))
    # One access line per request would drown the failures (5xx lines are errors: still shown).
    logging.getLogger("accelerator.api.access").setLevel(logging.WARNING)
    started = time.perf_counter()
    with TestClient(app) as client:
        headers: dict[str, dict[str, str]] = {}
        for role in roles:
            spec = ACCOUNTS[role]
            if spec is None:
                headers[role] = {}
                continue
            answer = client.post(
                "/api/v1/auth/token", json={"email": spec[0], "password": PASSWORD}
            )
            answer.raise_for_status()
            headers[role] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        outcomes = run(app, headers, examples=args.examples)
    elapsed = time.perf_counter() - started
    get_database(url).dispose()
    if postgres_name:
        admin_url = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        with create_engine(admin_url, isolation_level="AUTOCOMMIT").connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{postgres_name}" WITH (FORCE)'))

    backend = "PostgreSQL" if args.postgres else "SQLite"
    operations = len({o.operation for o in outcomes})
    print(
        f"\nschemathesis {args.examples} examples per operation, role and mode "
        f"({operations} operations, {backend}, {elapsed:.0f} s)\n"
    )
    print("| role | requests | 2xx | 4xx | 5xx | failures |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for role in roles:
        mine = [o for o in outcomes if o.role == role]
        statuses: collections.Counter[int] = collections.Counter()
        for outcome in mine:
            statuses.update(outcome.statuses)
        by_class = {c: sum(n for s, n in statuses.items() if s // 100 == c) for c in (2, 4, 5)}
        print(
            f"| {role} | {sum(statuses.values())} | {by_class[2]} | {by_class[4]} | "
            f"{by_class[5]} | {sum(len(o.failures) for o in mine)} |"
        )
    found = failures(outcomes)
    print(f"\n{len(found)} distinct failures")
    for line in found:
        print(line)
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
