"""Shared fixtures: real databases (SQLite and PostgreSQL, schema from the migrations) and a
real Prefect engine (a temporary Prefect server started once per test session)."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

# Isolate Prefect before anything imports it: its own home, no telemetry, never a stale API.
_PREFECT_HOME = tempfile.mkdtemp(prefix="accelerator-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.pop("PREFECT_API_URL", None)
os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
os.environ["ACCELERATOR_DEMO"] = "1"
# Documents stored by the tests go to a directory of their own, never to the repository's var/.
os.environ["ACCELERATOR_STORAGE_DIR"] = tempfile.mkdtemp(prefix="accelerator-documents-")
os.environ["ACCELERATOR_UPLOAD_STAGING_DIR"] = tempfile.mkdtemp(prefix="accelerator-uploads-")

POSTGRES_ADMIN_URL = os.environ.get(
    "ACCELERATOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
#: Which backends the database fixtures run on (both by default; CI runs both).
BACKENDS = [
    b for b in os.environ.get("ACCELERATOR_TEST_DATABASES", "sqlite,postgresql").split(",") if b
]

#: Tables emptied between tests, children first; the catalogue stays loaded.
TRANSACTIONAL_TABLES = [
    "config_changes",
    "message_reads",
    "message_documents",
    "messages",
    "documents",
    "history_entries",
    "metrics_rollups",
    "consultation_facts",
    "procedure_facts",
    "dossier_facts",
    "clock_rungs",
    "clock_pauses",
    "information_requests",
    "clocks",
    "consultations",
    "consultation_launches",
    "proposed_administrations",
    "dossiers",
    "counters",
    "outbox_messages",
    "idempotent_requests",
    "email_deliveries",
    "digest_items",
    "webhook_deliveries",
    "webhook_subscriptions",
    "web_sessions",
    "simulation_runs",
    "users",
    "organisations",
]


def _create_postgres_database() -> str:
    name = f"accelerator_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        # A throwaway database: a commit need not wait for the WAL's flush to disk (1.4 ms
        # against 0.2 ms here). What is committed is seen the same; only a crash of the
        # PostgreSQL server itself could lose it, and no test crashes the server.
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    admin.dispose()
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class _Databases:
    """The session's migrated databases, one per backend, each made on first use and dropped
    at the end of the session."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp = tmp_path_factory
        self._urls: dict[str, str] = {}

    def url(self, backend: str) -> str:
        if backend not in self._urls:
            self._urls[backend] = self._create(backend)
        return self._urls[backend]

    def _create(self, backend: str) -> str:
        from accelerator.catalogue.actions import load_catalogue
        from accelerator.migrations.commands import upgrade
        from accelerator.shared.db import get_database

        if backend == "sqlite":
            url = f"sqlite:///{self._tmp.mktemp('db') / 'accelerator.db'}"
        else:
            url = _create_postgres_database()
        upgrade(url)
        with get_database(url).transaction() as session:
            load_catalogue(session)
        with get_database(url).engine.connect() as connection:
            _SEED_CALENDAR_VERSIONS[url] = dict(
                connection.execute(text("SELECT code, version FROM calendars")).all()
            )
        with get_database(url).transaction() as session:
            _SEED_CATALOGUES[url] = _catalogue(session)
        return url

    def drop(self) -> None:
        from accelerator.shared.db import get_database

        for backend, url in self._urls.items():
            get_database(url).dispose()
            if backend == "postgresql":
                _drop_postgres_database(url)


@pytest.fixture(scope="session")
def _databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Databases]:
    databases = _Databases(tmp_path_factory)
    yield databases
    databases.drop()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, _databases: _Databases) -> str:
    """A migrated database with the catalogue loaded, for each backend. Both stay for the
    whole session: a session-scoped parametrised fixture would be made again each time the
    order of the tests switches backend (148 times, a migration each)."""
    return _databases.url(request.param)


@pytest.fixture
def db(database_url: str) -> Iterator[Any]:
    """The test's ``Database``, configured as the process default (flows use it), emptied after."""
    from accelerator.shared.db import get_database, set_default_database_url

    set_default_database_url(database_url)
    database = get_database(database_url)
    yield database
    # DELETE, children first, on both backends: PostgreSQL's TRUNCATE of these 29 tables
    # gives each a new file and cost 0.5-0.9 s a test (DELETE of a test's few rows: 35 ms).
    with database.engine.begin() as connection:
        for table in TRANSACTIONAL_TABLES:
            connection.execute(text(f"DELETE FROM {table}"))
        _restore_calendars(connection, _SEED_CALENDAR_VERSIONS[database_url])
    with database.transaction() as session:
        _restore_catalogue(session, _SEED_CATALOGUES[database_url])


@dataclass(frozen=True)
class _Catalogue:
    """The catalogue rows that tests change (administrations, routing rules, deadline
    definitions' versions), as a value to compare and put back."""

    administrations: dict[str, tuple[Any, ...]]
    rules: tuple[tuple[Any, ...], ...]
    definitions: frozenset[tuple[str, int]]


#: The catalogue as loaded, per test database: every test starts from it.
_SEED_CATALOGUES: dict[str, _Catalogue] = {}
_RULE_FIELDS = ("code", "rank", "label", "condition", "targets")


def _catalogue(session: Any) -> _Catalogue:
    from sqlalchemy import select

    from accelerator.catalogue.models import Administration, RoutingRule
    from accelerator.sla.models import DeadlineDefinition

    return _Catalogue(
        administrations={
            a.code: (a.name, a.contact_email, a.active)
            for a in session.scalars(select(Administration))
        },
        rules=tuple(
            tuple(getattr(r, f) for f in _RULE_FIELDS)
            for r in session.scalars(select(RoutingRule).order_by(RoutingRule.code))
        ),
        definitions=frozenset(
            tuple(row)
            for row in session.execute(select(DeadlineDefinition.code, DeadlineDefinition.version))
        ),
    )


def _restore_catalogue(session: Any, seed: _Catalogue) -> None:
    """The catalogue as :data:`_SEED_CATALOGUES` holds it, whatever the test changed (through
    the API, the admin pages or by hand): a deadline definition's new version, an edited
    administration or routing rule would otherwise change the deadlines and routing of the
    tests that follow. Three reads when nothing changed."""
    from sqlalchemy import delete, select

    from accelerator.catalogue.models import Administration, RoutingRule
    from accelerator.sla.models import DeadlineDefinition

    now = _catalogue(session)
    if now.administrations != seed.administrations:
        for a in session.scalars(select(Administration)):
            if a.code not in seed.administrations:
                session.delete(a)
            else:
                a.name, a.contact_email, a.active = seed.administrations[a.code]
    if now.rules != seed.rules:
        session.execute(delete(RoutingRule))
        session.add_all(
            RoutingRule(**dict(zip(_RULE_FIELDS, row, strict=True))) for row in seed.rules
        )
    if now.definitions != seed.definitions:
        for d in session.scalars(select(DeadlineDefinition)):
            if (d.code, d.version) not in seed.definitions:
                session.delete(d)


#: The version of each calendar once the catalogue is loaded, per test database.
_SEED_CALENDAR_VERSIONS: dict[str, dict[str, int]] = {}


def _restore_calendars(connection: Any, seed: dict[str, int]) -> None:
    """Calendars as the catalogue loaded them: a test that gave one a new version (an
    exceptional day, other weekly hours) must not change the deadlines of the next tests."""
    for code, version in connection.execute(text("SELECT code, version FROM calendars")).all():
        if version == seed.get(code, version):
            continue
        parameters = {"code": code, "version": seed[code]}
        connection.execute(
            text(
                "UPDATE calendars SET version = :version, spec = (SELECT spec FROM "
                "calendar_versions AS v WHERE v.code = :code AND v.version = :version) "
                "WHERE code = :code"
            ),
            parameters,
        )
        connection.execute(
            text("DELETE FROM calendar_versions WHERE code = :code AND version > :version"),
            parameters,
        )
        # Versions are immutable for the product, which caches them: these numbers will be
        # written again with other contents.
        from accelerator.sla import actions

        actions._CALENDARS.clear()


#: The argon2id the test accounts' passwords are hashed with: the product's own check reads the
#: parameters from the hash, so it verifies these in a millisecond instead of 0.2 s (a test
#: signs in one to a dozen accounts; 3,000 sign-ins in the suite). The product's parameters
#: are checked where they matter: tests/accelerator/test_sign_in_work.py hashes with them.
TEST_HASHER_PARAMETERS = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


@pytest.fixture(scope="session", autouse=True)
def hash_each_test_password_once() -> Iterator[None]:
    """The test accounts' passwords hashed once per session, with cheap argon2id parameters
    (:data:`TEST_HASHER_PARAMETERS`). Verification (every sign-in) stays the product's real
    argon2 check of the stored hash."""
    import functools

    from argon2 import PasswordHasher

    once = functools.lru_cache(maxsize=32)(PasswordHasher(**TEST_HASHER_PARAMETERS).hash)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("accelerator.identity.actions.hash_password", once)
        yield


@pytest.fixture(scope="session")
def prefect_engine() -> Iterator[None]:
    """A real Prefect server for the whole session, heartbeats off (see PREFECT.md)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with (
        temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
        prefect_test_harness(server_startup_timeout=120),
    ):
        yield


@pytest.fixture
def seed_dir() -> Path:
    """The catalogue shipped with the product."""
    from accelerator.catalogue.actions import SEED_DIR

    return SEED_DIR


#: A hand-written extract in the format of INSEE's v_commune_YYYY.csv (COG): Ain, Corse-du-Sud,
#: Haute-Corse, Bouches-du-Rhône, Haut-Rhin, Guadeloupe, Mayotte, with the row types the
#: catalogue skips (COMD, COMA, ARM). Ajaccio (2A004) is deliberately absent.
COG_EXTRACT = Path(__file__).parent / "fixtures" / "v_commune_extrait.csv"


@pytest.fixture
def cog_communes(db: Any) -> None:
    """The communes of :data:`COG_EXTRACT` in the catalogue (an upsert: they stay loaded)."""
    from accelerator.catalogue.actions import load_communes

    with db.transaction() as session:
        load_communes(session, COG_EXTRACT.read_text(encoding="utf-8"))


#: Test files of a minute or more on CI's machine, longest first. pytest-xdist hands a worker
#: its next file in collection order (``--no-loadscope-reorder`` in the Makefile: its default
#: order, by number of tests, put these files of few long tests last, where one ran alone for
#: twenty minutes while the other worker had nothing left). Started first, they run beside the
#: many short files instead.
LONG_FILES = (
    "tests/api/test_schemathesis.py",
    "tests/system/test_distributed.py",
    "tests/system/test_prefect_down.py",
    "tests/system/test_faults.py",
    "tests/test_bench_metrics.py",
    "tests/api/test_metrics_api.py",
    "tests/cli/test_demo.py",
    "tests/pages/test_journey.py",
    "tests/api/test_access_matrix.py",
    "tests/api/test_status_refusals.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long files first (:data:`LONG_FILES`), then the others by number of tests, most
    first (pytest-xdist's own order); a file's tests keep their order."""
    by_file: dict[str, list[pytest.Item]] = {}
    for item in items:
        by_file.setdefault(item.nodeid.split("::", 1)[0], []).append(item)
    rank = {path: index for index, path in enumerate(LONG_FILES)}
    files = sorted(by_file, key=lambda path: (rank.get(path, len(rank)), -len(by_file[path])))
    items[:] = [item for path in files for item in by_file[path]]
