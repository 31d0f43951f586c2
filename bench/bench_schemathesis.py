"""schemathesis with a long budget: every operation, as every role, in-process.

The same harness as tests/api/test_schemathesis.py (tests/api/schemathesis_run.py), on a fresh
migrated database (SQLite by default, PostgreSQL with ``--postgres``) with the catalogue and one
account per role, ``--examples`` requests per operation, role and generation mode (data that
fits the document, and data that does not). Prints a table (Markdown) of requests, statuses and
failures by role, then every distinct failure, and writes the figures into docs/security.md
(the block between ``<!-- bench_schemathesis:<backend>:start -->`` and its ``end``, one per
backend; nothing else of the file changes; ``--no-doc`` for a trial run). Exits 1 if there is
any failure.

Reports of the tool's one artefact (a query value sent as nothing: an empty list is no
parameter on the wire, so the request the API received was valid; see
tests/api/schemathesis_artefacts.py) are excluded from the failures and counted apart.

Run: ``.venv/bin/python bench/bench_schemathesis.py [--examples 200] [--roles holder,admin]
[--postgres] [--no-doc]``
"""

from __future__ import annotations

import argparse
import collections
import functools
import logging
import os
import sqlite3
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
os.environ.setdefault("ACCELERATOR_DEMO", "1")

from _common import (  # noqa: E402
    command_line,
    machine,
    operating_system,
    postgres_version,
    replace_block,
)

from tests.api.schemathesis_run import Outcome  # noqa: E402

DOC = ROOT / "docs" / "security.md"

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
        url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-schemathesis-')}/accelerator.db"
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
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/security.md")
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
    info = machine()  # the load average at start, the commit measured
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
    server_version = postgres_version(url) if args.postgres else f"SQLite {sqlite3.sqlite_version}"
    get_database(url).dispose()
    if postgres_name:
        admin_url = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        with create_engine(admin_url, isolation_level="AUTOCOMMIT").connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{postgres_name}" WITH (FORCE)'))

    backend = "PostgreSQL" if args.postgres else "SQLite"
    operations = len({o.operation for o in outcomes})
    table = _table(outcomes, roles)
    print(
        f"\nschemathesis {args.examples} examples per operation, role and mode "
        f"({operations} operations, {backend}, {elapsed:.0f} s)\n"
    )
    print(table)
    found = failures(outcomes)
    print(f"\n{len(found)} distinct failures")
    for line in found:
        print(line)
    excluded = [o for o in outcomes if o.excluded]
    print(f"\n{sum(o.excluded for o in outcomes)} reports excluded as the tool's artefact", end="")
    print(f", e.g. {excluded[0].excluded_example}" if excluded else "")
    if not args.no_doc:
        body = _figures(
            outcomes, roles, args.examples, backend, server_version, elapsed, found, table, info
        )
        replace_block(DOC, f"bench_schemathesis:{backend.lower()}", body)
    sys.exit(1 if found else 0)


def _table(outcomes: list[Outcome], roles: list[str]) -> str:
    """Requests, statuses, failures and excluded artefacts by role (Markdown)."""
    lines = [
        "| role | requests | 2xx | 4xx | 5xx | failures | artefacts excluded |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for role in roles:
        mine = [o for o in outcomes if o.role == role]
        statuses: collections.Counter[int] = collections.Counter()
        for outcome in mine:
            statuses.update(outcome.statuses)
        by_class = {c: sum(n for s, n in statuses.items() if s // 100 == c) for c in (2, 4, 5)}
        lines.append(
            f"| {role} | {sum(statuses.values())} | {by_class[2]} | {by_class[4]} | "
            f"{by_class[5]} | {sum(sum(o.kinds.values()) for o in mine)} | "
            f"{sum(o.excluded for o in mine)} |"
        )
    return "\n".join(lines)


#: Failure kinds (schemathesis' classes) under the headings of issue 10's figures.
SCHEMA_VIOLATIONS = (
    "JsonSchemaError",
    "MalformedJson",
    "ContentDeserializationError",
    "DiscriminatorMismatch",
    "MissingContentType",
    "MalformedMediaType",
    "UndefinedContentType",
    "MissingHeaders",
)


def _figures(
    outcomes: list[Outcome],
    roles: list[str],
    examples: int,
    backend: str,
    server_version: str,
    elapsed: float,
    found: list[str],
    table: str,
    info: dict[str, str],
) -> str:
    """The block of docs/security.md: command, machine, budget, figures."""
    kinds: collections.Counter[str] = collections.Counter()
    for outcome in outcomes:
        kinds.update(outcome.kinds)
    requests = sum(sum(o.statuses.values()) for o in outcomes)
    server_errors = sum(n for o in outcomes for s, n in o.statuses.items() if s >= 500)
    violations = sum(kinds[k] for k in SCHEMA_VIOLATIONS)
    counted = {"ServerError", "UndefinedStatusCode", "AcceptedNegativeData", *SCHEMA_VIOLATIONS}
    other = sum(n for k, n in kinds.items() if k not in counted)
    excluded = sum(o.excluded for o in outcomes)
    operations = len({o.operation for o in outcomes})
    niceness = os.nice(0)
    wrap = functools.partial(textwrap.fill, width=96)
    lines = [
        wrap(f"{server_version}, {info['date']}, {info['git']}."),
        "",
        "```",
        ("nice " if niceness > 0 else "") + command_line(),
        "```",
        "",
        wrap(
            f"Machine: {info['nproc']} cores ({info['cpu']}, {info['arch']}), "
            f"{operating_system()}, Python {info['python']}; load average at start "
            f"{info['load']} (the machine is shared)."
        ),
        "",
        wrap(
            f"Budget: {examples} examples per operation, role and generation mode (data that "
            f"fits the document, data that does not), {operations} operations, roles "
            f"{', '.join(roles)}; {elapsed:.0f} s."
        ),
        "",
        "| figure | count |",
        "| --- | ---: |",
        f"| requests | {requests:,} |",
        f"| server errors (5xx) | {server_errors} |",
        f"| undocumented statuses | {kinds['UndefinedStatusCode']} |",
        f"| schema violations (body, content type or headers not as documented) | {violations} |",
        f"| schema-violating requests accepted | {kinds['AcceptedNegativeData']} |",
        f"| other failures (the app raising, schemathesis errors) | {other} |",
        f"| excluded: a query value sent as nothing (the tool's artefact) | {excluded} |",
        "",
        table,
    ]
    if found:
        lines += ["", f"{len(found)} distinct failures (the first 20):", "", "```"]
        lines += [line for entry in found[:20] for line in entry.splitlines()] + ["```"]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
