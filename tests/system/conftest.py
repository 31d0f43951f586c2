"""A distributed cluster on loopback for the system tests (see cluster.py)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from accelerator.identity.roles import Role
from tests.receivers import Receiver
from tests.system.cluster import (
    PASSWORD,
    Client,
    Cluster,
    Inbox,
    create_database,
    drop_database,
)

#: The administrations the hotel-like dossiers of these tests are routed to.
ADMINISTRATIONS = ("UDAP-65", "SDIS-65", "DDT-65", "PREF-65", "DREAL-OCC")
HOLDERS = [f"holder{i}@system.test" for i in range(5)]
REFERENTS = {"referent1@system.test": ["651", "653"], "referent2@system.test": ["652"]}


def agent(code: str) -> str:
    """The e-mail address of an administration's agent."""
    return f"agent.{code.lower()}@system.test"


def create_accounts(url: str) -> None:
    """Holders of five organisations, two référents, one agent per administration."""
    from accelerator.identity.actions import create_user
    from accelerator.shared.db import get_database, utcnow

    database = get_database(url)
    with database.transaction() as session:
        for index, address in enumerate(HOLDERS):
            create_user(
                session, email=address, role=Role.HOLDER, password=PASSWORD, now=utcnow(),
                organisation=f"Entreprise {index}",
            )  # fmt: skip
        for address, arrondissements in REFERENTS.items():
            create_user(
                session, email=address, role=Role.REFERENT, password=PASSWORD, now=utcnow(),
                arrondissements=arrondissements,
            )  # fmt: skip
        for code in ADMINISTRATIONS:
            create_user(
                session, email=agent(code), role=Role.AGENT, password=PASSWORD, now=utcnow(),
                administration=code,
            )  # fmt: skip
    database.dispose()


@dataclass
class System:
    """The running cluster and what the test needs to talk to it."""

    cluster: Cluster
    apis: list[str]
    inbox: Inbox
    receiver: Receiver
    app_url: str

    def client(self, address: str, api: int = 0) -> Client:
        """A client signed in as ``address`` on API process number ``api``; while that
        process is down (a fault test killed it and restarts it), signing in is retried."""
        deadline = time.monotonic() + 120
        while True:
            try:
                return Client(self.apis[api % len(self.apis)], address)
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)


def start_system(
    workdir: Path, *, workers: int = 2, apis: int = 2, relays: int = 2, **settings: str
) -> Iterator[System]:
    """Databases, Prefect's server, deployments, workers, relays and API processes."""
    from accelerator.catalogue.actions import load_catalogue
    from accelerator.migrations.commands import upgrade
    from accelerator.shared.db import get_database

    app_name, app_url = create_database("accelerator_system")
    prefect_name, prefect_url = create_database("prefect_system")
    upgrade(app_url)
    with get_database(app_url).transaction() as session:
        load_catalogue(session)
    create_accounts(app_url)
    get_database(app_url).dispose()
    inbox, receiver = Inbox(), Receiver()
    cluster = Cluster(
        workdir=workdir,
        app_url=app_url,
        prefect_db_url=prefect_url,
        smtp_port=inbox.port,
        # The receiver is on loopback: only the allow-list lets webhooks reach it.
        settings={"ACCELERATOR_WEBHOOK_ALLOWED_HOSTS": receiver.allowed_host, **settings},
    )
    try:
        cluster.start_prefect()
        cluster.cli("deploy", "--concurrency", "8")
        for index in range(workers):
            cluster.start_worker(f"worker{index + 1}")
        for index in range(relays):
            cluster.start_relay(f"relay{index + 1}")
        urls = [cluster.start_api(f"api{index + 1}") for index in range(apis)]
        yield System(cluster, urls, inbox, receiver, app_url)
    finally:
        cluster.stop()
        inbox.stop()
        receiver.stop()
        drop_database(app_name)
        drop_database(prefect_name)


@pytest.fixture
def s3_storage() -> Iterator[dict[str, str]]:
    """An S3-compatible server on loopback (moto) and the settings that store documents in it;
    ask for it before ``system_factory`` so that it outlives the cluster."""
    from tests.s3 import s3_server

    with s3_server() as settings:
        yield settings


@pytest.fixture
def system_factory(tmp_path: Path) -> Iterator[Callable[..., System]]:
    if "postgresql" not in os.environ.get("ACCELERATOR_TEST_DATABASES", "sqlite,postgresql"):
        pytest.skip("the distributed mode needs PostgreSQL (ACCELERATOR_TEST_DATABASES)")
    """``system_factory(workers=2, apis=2, relays=2, **ACCELERATOR_settings)`` starts a
    cluster; it is stopped after the test."""
    started: list[Iterator[System]] = []

    def start(*, workers: int = 2, apis: int = 2, relays: int = 2, **settings: str) -> System:
        generator = start_system(tmp_path, workers=workers, apis=apis, relays=relays, **settings)
        started.append(generator)
        return next(generator)

    yield start
    for generator in started:
        generator.close()
