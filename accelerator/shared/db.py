"""Database plumbing shared by every business area: engine, sessions, column types.

SQLite and PostgreSQL run in lockstep (as Prefect's own server does):
- on SQLite every transaction that may write starts with ``BEGIN IMMEDIATE`` so that the row
  "locks" taken by actions (``SELECT ... FOR UPDATE`` on PostgreSQL) are real: writers are
  serialised instead of failing late with "database is locked"; WAL lets readers go on
  meanwhile, so a read-only unit of work (``transaction(read_only=True)``: GET requests, the
  metrics, the CLI's reads) starts with a deferred ``BEGIN`` and never waits for a writer
  (on PostgreSQL it is a ``READ ONLY`` transaction, so a write there fails loudly);
- timestamps are stored in UTC and a naive ``datetime`` is refused at bind time.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC; refuses naive datetimes, returns aware UTC datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime refused: {value!r} (pass an aware datetime)")
        utc = value.astimezone(dt.UTC)
        # SQLite has no time zone type: store naive UTC text, restored as UTC below.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


#: JSON everywhere, JSONB on PostgreSQL.
JSONType = JSON().with_variant(postgresql.JSONB(), "postgresql")


class Base(DeclarativeBase):
    """Declarative base of every table, with constraint names Alembic can rely on."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def new_id() -> uuid.UUID:
    """A fresh random identifier for a row."""
    return uuid.uuid4()


def serialise(session: Session, key: int) -> None:
    """Until this transaction ends, the others calling this with ``key`` wait: a
    transaction-scoped advisory lock on PostgreSQL (SQLite's writers are serialised already by
    ``BEGIN IMMEDIATE``)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def utcnow() -> dt.datetime:
    """The current instant, aware, in UTC (read at the edges only, never inside rules)."""
    return dt.datetime.now(dt.UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Autocommit at the driver level: SQLAlchemy's "begin" event below emits the real BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


#: Execution option of the connections of a read-only unit of work.
READ_ONLY = "accelerator_read_only"


def _sqlite_begin(connection: Any) -> None:
    # A deferred BEGIN takes no lock until the first read, then only a WAL snapshot: readers
    # never queue behind a writer's BEGIN IMMEDIATE (nor behind its 30 s busy timeout).
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def build_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url`` with the per-dialect settings this product relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    from accelerator.shared.config import get_settings

    settings = get_settings()
    return create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )


class Database:
    """An engine and its session factory; one per process and database URL."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = build_engine(url, echo=echo)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        read_options: dict[str, Any] = {READ_ONLY: True}
        if self.engine.dialect.name == "postgresql":
            read_options["postgresql_readonly"] = True
        self.read_sessions = sessionmaker(
            self.engine.execution_options(**read_options), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def transaction(self, *, read_only: bool = False) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on error;
        ``read_only``: one that takes no write lock (and may not write on PostgreSQL)."""
        with (self.read_sessions if read_only else self.sessions)() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


_databases: dict[str, Database] = {}
_lock = threading.Lock()


def get_database(url: str | None = None) -> Database:
    """The process-wide ``Database`` for ``url`` (default: the configured one)."""
    if url is None:
        from accelerator.shared.config import get_settings

        settings = get_settings()
        url, echo = settings.database_url, settings.sql_echo
    else:
        echo = False
    with _lock:
        database = _databases.get(url)
        if database is None:
            database = _databases[url] = Database(url, echo=echo)
        return database


def set_default_database_url(url: str) -> None:
    """Point the process at another database (tests and the CLI's ``--database`` use it)."""
    import os

    from accelerator.shared.config import get_settings

    os.environ["ACCELERATOR_DATABASE_URL"] = url
    get_settings.cache_clear()
