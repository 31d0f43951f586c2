"""A distributed Accélérateur on loopback, made of real processes: PostgreSQL databases,
Prefect's server on PostgreSQL, process workers, relays, API processes, an SMTP server and an
HTTP receiver. Any process can be killed with SIGKILL and started again."""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
ADMIN_URL = os.environ.get(
    "ACCELERATOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def free_port() -> int:
    """A TCP port nobody uses right now, below the kernel's ephemeral range (32768 and up):
    a process killed and restarted must find its port again, and an outgoing connection may
    take any free port of that range as its own source port in the meantime."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randint(20000, 32000)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free TCP port between 20000 and 32000")


def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 0.5) -> Any:
    """Poll ``check`` until it returns something truthy; connection errors count as no."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (httpx.HTTPError, OSError):
            last = None
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


def create_database(prefix: str) -> tuple[str, str]:
    """A new empty PostgreSQL database: (its name, its psycopg URL)."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str) -> None:
    """Drop a database made by :func:`create_database`, even with connections left."""
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class Inbox:
    """An SMTP server (aiosmtpd) that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(parsed)
        return "250 OK"

    def snapshot(self) -> list[Message]:
        with self.lock:
            return list(self.messages)

    def stop(self) -> None:
        self.controller.stop()


@dataclass
class Child:
    """One process of the cluster: how to start it again, and where it writes."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    health_url: str | None = None
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class Cluster:
    """The processes of one distributed deployment, and their common environment."""

    workdir: Path
    app_url: str
    prefect_db_url: str
    smtp_port: int
    settings: dict[str, str] = field(default_factory=dict)
    prefect_port: int = field(default_factory=free_port)
    children: dict[str, Child] = field(default_factory=dict)
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(40))

    @property
    def prefect_api(self) -> str:
        return f"http://127.0.0.1:{self.prefect_port}/api"

    def environment(self) -> dict[str, str]:
        """What every process of the cluster sees: none of the test process' own settings."""
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("ACCELERATOR_", "PREFECT_"))
        }
        home = self.workdir / "prefect-home"
        home.mkdir(parents=True, exist_ok=True)
        env.update(
            {
                "PYTHONUNBUFFERED": "1",
                "ACCELERATOR_DATABASE_URL": self.app_url,
                "ACCELERATOR_SECRET_KEY": self.secret_key,
                "ACCELERATOR_FLOW_MODE": "deployments",
                "ACCELERATOR_SMTP_HOST": "127.0.0.1",
                "ACCELERATOR_SMTP_PORT": str(self.smtp_port),
                "ACCELERATOR_LOG_FORMAT": "json",
                "PREFECT_HOME": str(home),
                "PREFECT_API_URL": self.prefect_api,
                "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "false",
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_LOGGING_LEVEL": "WARNING",
                "PREFECT_WORKER_QUERY_SECONDS": "1",
                "PREFECT_WORKER_PREFETCH_SECONDS": "2",
                # Nine processes and their flow runs share PostgreSQL's 100 connections.
                "ACCELERATOR_DB_POOL_SIZE": "2",
                "ACCELERATOR_DB_MAX_OVERFLOW": "4",
                "PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_SIZE": "5",
                "PREFECT_SERVER_DATABASE_SQLALCHEMY_MAX_OVERFLOW": "5",
                **self.settings,
            }
        )
        return env

    def add(
        self,
        name: str,
        argv: list[str],
        *,
        health_url: str | None = None,
        env: dict[str, str] | None = None,
    ) -> Child:
        """Declare a process and start it (``env``: settings of its own, over the cluster's)."""
        child = Child(
            name=name,
            argv=argv,
            env={**self.environment(), **(env or {})},
            log=self.workdir / f"{name}.log",
            health_url=health_url,
        )
        self.children[name] = child
        self.start(name)
        return child

    def start(self, name: str, *, timeout: float = 120.0) -> None:
        """Start (or start again) a declared process; wait until it answers if it serves."""
        child = self.children[name]
        with child.log.open("ab") as log:
            log.write(f"\n=== start {time.strftime('%H:%M:%S')} ===\n".encode())
            log.flush()
            child.process = subprocess.Popen(
                child.argv,
                cwd=ROOT,
                env=child.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if child.health_url is not None:
            url = child.health_url
            wait_for(
                lambda: self._check_alive(child) and httpx.get(url, timeout=2).status_code == 200,
                timeout,
                f"{name} to answer on {url}",
            )

    def _check_alive(self, child: Child) -> bool:
        if not child.alive:
            raise AssertionError(f"{child.name} exited:\n{self.tail(child.name)}")
        return True

    def kill(self, name: str) -> None:
        """SIGKILL the process and everything it started (its flow-run children too)."""
        child = self.children[name]
        if child.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait(timeout=30)

    def restart(self, name: str) -> None:
        """kill -9, then start again."""
        self.kill(name)
        self.children[name].restarts += 1
        self.start(name)

    def stop(self) -> None:
        """Stop every process: SIGTERM, then SIGKILL what is left after 10 s."""
        for child in reversed(list(self.children.values())):
            if child.alive and child.process is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in self.children.values():
            if child.process is None:
                continue
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGKILL)

    def tail(self, name: str, lines: int = 40) -> str:
        """The end of a process' output, for failure messages."""
        path = self.children[name].log
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def logs(self) -> str:
        """The end of every process' output."""
        return "\n\n".join(f"--- {name} ---\n{self.tail(name)}" for name in self.children)

    # The roles of the distributed mode.

    def start_prefect(self) -> None:
        server_env = {
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": self.prefect_db_url.replace(
                "postgresql+psycopg", "postgresql+asyncpg"
            ),
        }
        self.settings.update(server_env)
        self.add(
            "prefect",
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
             "--port", str(self.prefect_port)],
            health_url=f"{self.prefect_api}/health",
        )  # fmt: skip

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """Run ``accelerator ARGS`` to completion with the cluster's environment."""
        done = subprocess.run(
            [sys.executable, "-m", "cli.main", *args],
            cwd=ROOT,
            env=self.environment(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"accelerator {' '.join(args)}:\n{done.stdout}{done.stderr}"
        return done.stdout

    def start_api(self, name: str) -> str:
        port = free_port()
        self.add(
            name,
            [sys.executable, "-m", "cli.main", "serve", "--port", str(port)],
            health_url=f"http://127.0.0.1:{port}/healthz",
        )
        return f"http://127.0.0.1:{port}"

    def start_worker(self, name: str, limit: int = 4) -> None:
        self.add(name, [sys.executable, "-m", "cli.main", "worker", "--limit", str(limit)])

    def start_relay(self, name: str) -> None:
        self.add(name, [sys.executable, "-m", "cli.main", "relay"])


class Client:
    """An API client signed in as one user, on one of the API processes."""

    def __init__(self, base_url: str, email_address: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=60)
        response = self.http.post(
            "/api/v1/auth/token", json={"email": email_address, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        self.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        assert response.status_code == expect, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json()

    def get(self, path: str, expect: int = 200, **kwargs: Any) -> Any:
        return self.call("GET", path, expect, **kwargs)

    def post(self, path: str, expect: int = 200, **kwargs: Any) -> Any:
        return self.call("POST", path, expect, **kwargs)
