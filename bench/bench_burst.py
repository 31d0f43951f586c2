"""Burst benchmark: 10,000 dossiers filed within a minute on PostgreSQL with 0 errors, each
routed and assigned (its intake done) within 5 minutes of its filing.

A call for projects closes: holders prepared their drafts for days and file in the last hour.
For each flow mode (``inline``: the relays run the intake flows; ``deployments``: the relays
submit deployment runs that process workers execute) the script starts a distributed
Accélérateur on loopback with ``tests/system/cluster.py`` (Prefect's server on PostgreSQL,
``accelerator serve`` API processes, relays, workers; an SMTP server for the receipts), then:

1. setup (not timed against the target): a fresh database, the catalogue, holders in their own
   organisations, référents, one bearer token per holder (signed with the cluster's key, no
   password round), and N drafts created through the API (their throughput is reported);
2. the burst: a load generator in its own process (asyncio + httpx, bounded concurrency)
   sends the N ``POST /api/v1/dossiers/{id}/file`` requests as fast as the system answers;
3. the intake: the script polls the database every ``--poll`` seconds for dossiers routed
   (``routed_at``) with a référent proposed (``referent_id``) and records, for each dossier,
   the time from its filing response to the first poll that saw its intake done;
4. checks (references unique, one routing and one proposal per dossier, clocks started,
   outbox backlog), then, for information, a smaller create+file phase.

CPU used during the burst and the intake is split by process role, from /proc.

Run: ``.venv/bin/python bench/bench_burst.py [--dossiers N] [--modes inline,deployments]
[--no-doc]``; ``--loadgen SPEC`` is the load generator's own entry point.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from _common import (  # noqa: E402
    _all_processes,
    command_line,
    descendants,
    machine,
    machine_line,
    percentile,
    update_section,
)

TARGET_DOSSIERS = 10_000
BURST_SECONDS = 60.0
INTAKE_SECONDS = 300.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------------------------------------
# Load generator (its own process): asyncio + httpx, bounded concurrency, lean.


class RawConnection:
    """A keep-alive HTTP/1.1 connection on asyncio streams: the least CPU per request (httpx
    parses HTTP in pure Python and costs about as much CPU per request as a light endpoint;
    this generator shares the 2 cores with the system it measures)."""

    IDLE_LIMIT = 2.0  # uvicorn closes a connection idle for 5 s: reconnect before that

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last = 0.0

    async def request(self, method: str, path: str, token: str, body: bytes) -> tuple[int, bytes]:
        """Send one request and read the whole answer (status, body)."""
        if self.writer is not None and time.monotonic() - self.last > self.IDLE_LIMIT:
            await self.close()
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        try:
            raw = await self.reader.readuntil(b"\r\n\r\n")
            status = int(raw[9:12])
            length, close = 0, False
            for line in raw.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            data = await self.reader.readexactly(length)
        except BaseException:
            await self.close()
            raise
        self.last = time.monotonic()
        if close:
            await self.close()
        return status, data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def _generate(spec: dict[str, Any]) -> dict[str, Any]:
    concurrency = int(spec["concurrency"])
    urls: list[str] = spec["urls"]
    tokens: list[str] = spec["tokens"]
    bodies = [json.dumps(payload).encode() for payload in spec["payloads"]]
    items: list[list[Any]] = spec["items"]  # [holder index, dossier id or payload index]
    phase: str = spec["phase"]
    results: list[Any] = [None] * len(items)
    queue = iter(range(len(items)))
    raw = spec["client"] == "raw"
    clients: list[Any] = []
    if not raw:
        import httpx

        per_url = max(1, concurrency // len(urls) + 1)
        clients = [
            httpx.AsyncClient(
                base_url=url,
                timeout=120,
                # Idle connections are dropped before the server's 5 s keep-alive would
                # close them: reusing one the server is closing fails with a ReadError.
                limits=httpx.Limits(
                    max_connections=per_url, max_keepalive_connections=per_url,
                    keepalive_expiry=2.0,
                ),
            )
            for url in urls
        ]  # fmt: skip

    async def worker(number: int) -> None:
        connection = RawConnection(urls[number % len(urls)]) if raw else None
        client = None if raw else clients[number % len(clients)]

        async def post(path: str, holder: int, body: bytes) -> tuple[float, float, Any, bytes]:
            started = time.time()
            try:
                if connection is not None:
                    status, data = await connection.request("POST", path, tokens[holder], body)
                else:
                    response = await client.post(
                        path, content=body, headers={
                            "Authorization": f"Bearer {tokens[holder]}",
                            "Content-Type": "application/json",
                        },
                    )  # fmt: skip
                    status, data = response.status_code, response.content
            except Exception as error:  # a transport error counts as an error of the burst
                return started, time.time(), f"{type(error).__name__}: {error}", b""
            return started, time.time(), status, data

        for index in queue:
            holder, what = items[index]
            if phase == "file":
                sent, done, status, data = await post(f"/api/v1/dossiers/{what}/file", holder, b"")
                results[index] = [what, sent, done, status, None if status == 200 else data[:300]]
                continue
            sent, done, status, data = await post("/api/v1/dossiers", holder, bodies[what])
            dossier = json.loads(data)["id"] if status == 201 else None
            if phase == "create+file" and dossier is not None:
                _, done, status, data = await post(f"/api/v1/dossiers/{dossier}/file", holder, b"")
            ok = status == (201 if phase == "create" else 200)
            results[index] = [dossier, sent, done, status, None if ok else data[:300]]
        if connection is not None:
            await connection.close()

    began = time.time()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    ended = time.time()
    for client in clients:
        await client.aclose()
    for row in results:
        if isinstance(row[4], bytes):
            row[4] = row[4].decode(errors="replace")
    return {"began": began, "ended": ended, "results": results, "cpu": time.process_time()}


def loadgen_main(spec_path: str) -> None:
    """Entry point of the load generator process: a spec file in, a result file out."""
    spec = json.loads(Path(spec_path).read_text())
    # Wait for the start signal so that imports and connection set-up are not timed.
    Path(spec["ready"]).write_text("ready")
    while not Path(spec["go"]).exists():
        time.sleep(0.01)
    outcome = asyncio.run(_generate(spec))
    Path(spec["out"]).write_text(json.dumps(outcome))


def run_loadgen(
    workdir: Path, phase: str, *, urls: list[str], tokens: list[str], items: list[list[Any]],
    payloads: list[dict[str, Any]], concurrency: int, client: str = "raw", on_start: Any = None,
) -> dict[str, Any]:  # fmt: skip
    """Run one phase in a fresh load-generator process; returns its results."""
    tag = f"{phase}-{uuid.uuid4().hex[:6]}"
    spec = {
        "phase": phase, "urls": urls, "tokens": tokens, "items": items, "payloads": payloads,
        "concurrency": concurrency, "client": client, "ready": str(workdir / f"{tag}.ready"),
        "go": str(workdir / f"{tag}.go"), "out": str(workdir / f"{tag}.json"),
    }  # fmt: skip
    spec_path = workdir / f"{tag}.spec.json"
    spec_path.write_text(json.dumps(spec))
    process = subprocess.Popen([sys.executable, __file__, "--loadgen", str(spec_path)], cwd=ROOT)
    while not Path(spec["ready"]).exists():
        if process.poll() is not None:
            raise RuntimeError(f"load generator exited with {process.returncode}")
        time.sleep(0.05)
    if on_start is not None:
        on_start(process.pid)
    Path(spec["go"]).write_text("go")
    process.wait()
    if process.returncode != 0:
        raise RuntimeError(f"load generator failed with {process.returncode}")
    outcome: dict[str, Any] = json.loads(Path(spec["out"]).read_text())
    outcome["pid"] = process.pid
    return outcome


# ---------------------------------------------------------------------------------------------
# CPU by role, from /proc.


class RoleMeter:
    """Samples the CPU time of every process every ``period`` s and adds it up by role: each
    cluster child with its descendants (flow-run processes of the workers), the load generator,
    PostgreSQL backends of the two databases, this process, everything else."""

    def __init__(self, roles: dict[str, list[int]], databases: list[str], period: float = 0.5):
        self.roles = roles
        self.databases = databases
        self.period = period
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.role_of: dict[int, str] = {}
        self._stop = threading.Event()
        self._started = False
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _backends(self) -> set[int]:
        import psycopg

        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
            rows = c.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = ANY(%s)", (self.databases,)
            ).fetchall()
        return {row[0] for row in rows}

    def _sample(self) -> None:
        processes = _all_processes()
        assigned: dict[int, str] = {}
        for role, roots in self.roles.items():
            for root in roots:
                for pid in {root} | descendants(root, processes):
                    assigned[pid] = role
        with contextlib.suppress(Exception):
            for pid in self._backends():
                assigned[pid] = "PostgreSQL backends"
        assigned[os.getpid()] = "bench process (poller)"
        for pid, (_parent, cpu) in processes.items():
            if pid not in self.first:
                self.first[pid] = cpu if not self._started else 0.0
            self.last[pid] = cpu
            if pid in assigned:
                self.role_of[pid] = assigned[pid]

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            with contextlib.suppress(Exception):
                self._sample()

    def add(self, role: str, pid: int) -> None:
        """Count ``pid`` (and its descendants) under ``role`` from now on."""
        self.roles.setdefault(role, []).append(pid)

    def __enter__(self) -> RoleMeter:
        self.began = time.perf_counter()
        self._sample()
        self._started = True
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.wall = time.perf_counter() - self.began

    def by_role(self) -> dict[str, float]:
        """CPU seconds used during the run, by role (``other processes`` for the rest)."""
        totals: dict[str, float] = {}
        for pid, last in self.last.items():
            role = self.role_of.get(pid, "other processes")
            totals[role] = totals.get(role, 0.0) + max(0.0, last - self.first.get(pid, last))
        return dict(sorted(totals.items(), key=lambda item: -item[1]))


# ---------------------------------------------------------------------------------------------
# Setup of one cluster.


#: The demo projects of docs/domain.md, filed in turn (different communes, procedures, routings).
def project_payloads() -> list[dict[str, Any]]:
    from accelerator.demo.actions import DEMO_PROJECTS, HOTEL_PROJECT

    return [HOTEL_PROJECT, *(payload for _holder, payload in DEMO_PROJECTS)]


REFERENT_COVERAGE = {
    "referent1@bench.test": ["651", "653"],
    "referent2@bench.test": ["651", "652"],
    "referent3@bench.test": ["652", "653"],
    "referent4@bench.test": ["651"],
    "referent5@bench.test": ["652"],
    "referent6@bench.test": ["653"],
}


def create_accounts(url: str, holders: int) -> list[uuid.UUID]:
    """``holders`` holders, each in its own organisation, and six référents; holder ids."""
    from sqlalchemy import text

    from accelerator.identity.actions import create_user
    from accelerator.identity.passwords import hash_password
    from accelerator.identity.roles import Role
    from accelerator.shared.db import get_database, utcnow

    database = get_database(url)
    now = utcnow()
    password_hash = hash_password(uuid.uuid4().hex)
    with database.transaction() as session:
        for address, arrondissements in REFERENT_COVERAGE.items():
            create_user(
                session, email=address, role=Role.REFERENT, password=uuid.uuid4().hex, now=now,
                arrondissements=arrondissements,
            )  # fmt: skip
        session.execute(
            text(
                "INSERT INTO organisations (id, name, created_at) SELECT gen_random_uuid(), "
                "'Entreprise ' || g, :now FROM generate_series(1, :n) AS g"
            ),
            {"now": now, "n": holders},
        )
        rows = session.execute(
            text(
                "INSERT INTO users (id, email, name, role, password_hash, organisation_id, "
                "arrondissements, active, notification_mode, created_at) "
                "SELECT gen_random_uuid(), 'holder' || substr(o.name, 12) || '@bench.test', "
                "'Porteur ' || substr(o.name, 12), 'holder', :hash, o.id, '[]', true, "
                "'immediate', :now FROM organisations AS o RETURNING id"
            ),
            {"hash": password_hash, "now": now},
        ).all()
    database.dispose()
    return [row[0] for row in rows]


class Background:
    """Background processes (Prefect's server, relays, workers) on a lower CPU share than the
    API, as an operator would run them (a systemd ``CPUWeight``, a compose ``cpu_shares``): a CPU
    cgroup of their own whose weight is the kernel's weight for ``nice``, which their children
    (flow runs) inherit. Where no cgroup can be made, their sessions' autogroups get that
    niceness: with autogroups (a scheduling group per session) a process's own niceness counts
    only inside its session, and every cluster process has a session of its own."""

    CGROUPS = Path("/sys/fs/cgroup/cpu")

    def __init__(self, nice: int, name: str) -> None:
        self.nice = nice
        self.cgroup: Path | None = self.CGROUPS / f"bench_burst_{os.getpid()}_{name}"
        try:
            self.cgroup.mkdir(exist_ok=True)
            (self.cgroup / "cpu.shares").write_text(str(max(2, round(1024 / 1.25**nice))))
        except OSError:
            self.cgroup = None

    def add(self, pid: int) -> None:
        """Move ``pid`` (and the children it will start) to the lower share."""
        with contextlib.suppress(OSError):
            if self.cgroup is not None:
                (self.cgroup / "cgroup.procs").write_text(str(pid))
            else:
                Path(f"/proc/{pid}/autogroup").write_text(str(self.nice))

    def close(self) -> None:
        """Remove the cgroup once its processes are gone (they may take a moment to exit)."""
        for _ in range(50):
            if self.cgroup is None or not self.cgroup.exists():
                return
            with contextlib.suppress(OSError):
                self.cgroup.rmdir()
            time.sleep(0.2)


def pg_name(url: str) -> str:
    return url.rsplit("/", 1)[1]


class Burst:
    """One cluster for one flow mode, and what was measured on it."""

    def __init__(self, args: argparse.Namespace, mode: str, workdir: Path) -> None:
        self.args = args
        self.mode = mode
        self.workdir = workdir
        self.result: dict[str, Any] = {"mode": mode}
        self.background: Background | None = None

    # -- cluster --------------------------------------------------------------------------

    def start(self) -> None:
        from accelerator.catalogue.actions import load_catalogue
        from accelerator.migrations.commands import upgrade
        from accelerator.shared.config import Settings
        from accelerator.shared.db import get_database, utcnow
        from api import tokens
        from tests.system.cluster import Cluster, Inbox, create_database, free_port

        args = self.args
        began = time.perf_counter()
        self.app_name, self.app_url = create_database("bench_burst")
        self.prefect_name, self.prefect_url = create_database("bench_burst_prefect")
        upgrade(self.app_url)
        with get_database(self.app_url).transaction() as session:
            load_catalogue(session)
        get_database(self.app_url).dispose()
        self.holder_ids = create_accounts(self.app_url, args.holders)
        self.inbox = Inbox()
        settings = {
            "ACCELERATOR_FLOW_MODE": self.mode,
            "ACCELERATOR_DB_POOL_SIZE": str(args.pool),
            "ACCELERATOR_DB_MAX_OVERFLOW": "4",
            **dict(setting.split("=", 1) for setting in args.env),
        }
        self.cluster = Cluster(
            workdir=self.workdir, app_url=self.app_url, prefect_db_url=self.prefect_url,
            smtp_port=self.inbox.port, settings=settings,
        )  # fmt: skip
        cluster = self.cluster
        cluster.start_prefect()
        # Background work may run at a lower CPU priority than the API (--nice).
        nice = ["nice", "-n", str(args.nice)] if args.nice else []
        command = [*nice, sys.executable, "-m", "cli.main"]
        if self.mode == "deployments":
            cluster.cli("deploy", "--concurrency", str(args.pool_limit))
            for index in range(args.workers):
                cluster.add(
                    f"worker{index + 1}", [*command, "worker", "--limit", str(args.worker_limit)]
                )
        for index in range(args.relays):
            cluster.add(f"relay{index + 1}", [*command, "relay"])
        # Everything but the API is background work: a filing never waits on Prefect's server,
        # the relays or the workers (the outbox decouples them).
        self.background = Background(args.nice, self.mode) if args.nice else None
        for name, child in cluster.children.items():
            if (
                self.background
                and name.startswith(("relay", "worker", "prefect"))
                and child.process
            ):
                self.background.add(child.process.pid)
        self.urls = []
        for index in range(args.apis):
            port = free_port()
            argv = [sys.executable, "-m", "cli.main", "serve", "--port", str(port)]
            if args.api_workers > 1:
                argv += ["--workers", str(args.api_workers)]
            cluster.add(
                f"api{index + 1}", argv, health_url=f"http://127.0.0.1:{port}/healthz",
                env={"ACCELERATOR_DB_POOL_SIZE": str(args.api_pool or args.pool)},
            )  # fmt: skip
            self.urls.append(f"http://127.0.0.1:{port}")
        signing = Settings(secret_key=cluster.secret_key, database_url=self.app_url)
        now = utcnow()
        self.tokens = [tokens.issue(signing, holder, now=now) for holder in self.holder_ids]
        self.result["cluster_seconds"] = time.perf_counter() - began
        log(
            f"[{self.mode}] cluster up in {self.result['cluster_seconds']:.0f} s: "
            f"{', '.join(cluster.children)}"
        )

    def stop(self) -> None:
        from tests.system.cluster import drop_database

        with contextlib.suppress(Exception):
            self.cluster.stop()
        if self.background is not None:
            self.background.close()
        with contextlib.suppress(Exception):
            self.inbox.stop()
        from accelerator.shared.db import get_database

        get_database(self.app_url).dispose()
        drop_database(self.app_name)
        drop_database(self.prefect_name)

    def roles(self) -> dict[str, list[int]]:
        roles: dict[str, list[int]] = {}
        for name, child in self.cluster.children.items():
            role = {
                "api": "API processes", "relay": "relays", "worker": "workers and flow runs",
                "prefect": "Prefect server",
            }[name.rstrip("0123456789")]  # fmt: skip
            if child.process is not None:
                roles.setdefault(role, []).append(child.process.pid)
        return roles

    def meter(self) -> RoleMeter:
        return RoleMeter(self.roles(), [self.app_name, self.prefect_name])

    # -- phases ---------------------------------------------------------------------------

    def _spread(self, kind: str, count: int) -> dict[str, Any]:
        """Run the load generator's ``kind`` phase over ``count`` dossiers, spread over the
        holders and the demo projects in turn."""
        payloads = project_payloads()
        items = [[i % len(self.tokens), i % len(payloads)] for i in range(count)]
        return run_loadgen(
            self.workdir, kind, urls=self.urls, tokens=self.tokens, items=items,
            payloads=payloads, concurrency=self.args.concurrency, client=self.args.client,
        )  # fmt: skip

    def create_drafts(self, count: int) -> list[str]:
        """Setup: ``count`` drafts created through the API, spread over the holders."""
        outcome = self._spread("create", count)
        ids = [row[0] for row in outcome["results"]]
        errors = [row for row in outcome["results"] if row[3] != 201]
        seconds = outcome["ended"] - outcome["began"]
        self.result["create"] = {
            "count": count, "seconds": seconds, "errors": len(errors),
            "per_second": count / seconds, "latency": latencies(outcome["results"]),
        }  # fmt: skip
        log(
            f"[{self.mode}] setup: {count} drafts created in {seconds:.1f} s "
            f"({count / seconds:.0f}/s, {len(errors)} errors)"
        )
        if errors:
            raise RuntimeError(f"draft creation failed: {errors[:3]}")
        self.drafts = [[i % len(self.tokens), dossier] for i, dossier in enumerate(ids)]
        return ids

    def burst(self) -> None:
        """The timed burst of filings, with the intake polled until every dossier is done."""
        args = self.args
        ids = [dossier for _holder, dossier in self.drafts]
        poller = IntakePoller(self.app_url, ids, every=args.poll)
        self.result["load_at_burst"] = " ".join(f"{v:.2f}" for v in os.getloadavg())
        meter = self.meter()
        with meter:
            poller.start()
            outcome = run_loadgen(
                self.workdir, "file", urls=self.urls, tokens=self.tokens, items=self.drafts,
                payloads=[], concurrency=args.concurrency, client=args.client,
                on_start=lambda pid: meter.add("load generator", pid),
            )  # fmt: skip
            filed_cpu = meter_snapshot(meter)
            seconds = outcome["ended"] - outcome["began"]
            errors = [row for row in outcome["results"] if row[3] != 200]
            log(
                f"[{self.mode}] burst: {len(ids)} filings in {seconds:.1f} s "
                f"({len(ids) / seconds:.0f}/s), {len(errors)} errors; "
                f"{poller.done_count()} intakes done so far"
            )
            deadline = outcome["ended"] + INTAKE_SECONDS + args.grace
            expected = len(ids) - len(errors)
            while poller.done_count() < expected and time.time() < deadline:
                time.sleep(1)
                if int(time.time()) % 15 == 0:
                    log(f"[{self.mode}] intake: {poller.done_count()}/{expected} done")
            poller.stop()
        self.result["burst"] = {
            "count": len(ids), "began": outcome["began"], "ended": outcome["ended"],
            "seconds": seconds, "per_second": len(ids) / seconds, "errors": len(errors),
            "error_samples": [row[3:5] for row in errors[:5]],
            "latency": latencies(outcome["results"]), "loadgen_cpu": outcome["cpu"],
            "cpu": filed_cpu,
        }  # fmt: skip
        self.result["intake"] = intake_figures(outcome, poller)
        self.result["cpu"] = meter.by_role()
        self.result["cpu_wall"] = meter.wall
        log(f"[{self.mode}] intake: {self.result['intake']['text']}")
        log(
            f"[{self.mode}] CPU s by role: {cpu_text(self.result['cpu'])} (wall {meter.wall:.0f} s)"
        )

    def create_and_file(self, count: int) -> None:
        """For information: create+file pairs as one holder would, after the burst's intake."""
        outcome = self._spread("create+file", count)
        seconds = outcome["ended"] - outcome["began"]
        errors = [row for row in outcome["results"] if row[3] != 200]
        self.result["pairs"] = {
            "count": count, "seconds": seconds, "per_second": count / seconds,
            "errors": len(errors), "latency": latencies(outcome["results"]),
        }  # fmt: skip
        log(
            f"[{self.mode}] create+file: {count} pairs in {seconds:.1f} s "
            f"({count / seconds:.0f}/s), {len(errors)} errors"
        )

    def check(self) -> None:
        """What the database says after the burst: every dossier filed once and taken in once."""
        from sqlalchemy import create_engine, text

        ids = [dossier for _holder, dossier in self.drafts]
        engine = create_engine(self.app_url)
        queries = {
            "filed": "SELECT count(*) FROM dossiers WHERE id = ANY(:ids) AND status = 'filed'",
            "distinct references": (
                "SELECT count(DISTINCT reference) FROM dossiers WHERE id = ANY(:ids)"
            ),
            "routed and assigned": (
                "SELECT count(*) FROM dossiers WHERE id = ANY(:ids) AND routed_at IS NOT NULL "
                "AND referent_id IS NOT NULL"
            ),
            "routing history rows": (
                "SELECT count(*) FROM history_entries WHERE dossier_id = ANY(:ids) "
                "AND event = 'routed'"
            ),
            "proposal history rows": (
                "SELECT count(*) FROM history_entries WHERE dossier_id = ANY(:ids) "
                "AND event = 'referent_proposed'"
            ),
            "dossiers with a take-in-charge clock": (
                "SELECT count(DISTINCT dossier_id) FROM clocks WHERE dossier_id = ANY(:ids) "
                "AND kind = 'take_charge'"
            ),
        }
        found: dict[str, int] = {}
        with engine.connect() as connection:
            for label, sql in queries.items():
                found[label] = int(
                    connection.execute(text(sql), {"ids": [uuid.UUID(i) for i in ids]}).scalar_one()
                )
            pending = dict(
                connection.execute(
                    text(
                        "SELECT topic, count(*) FROM outbox_messages WHERE delivered_at IS NULL "
                        "GROUP BY topic"
                    )
                ).all()
            )
            failed = int(
                connection.execute(
                    text("SELECT count(*) FROM outbox_messages WHERE last_error IS NOT NULL")
                ).scalar_one()
            )
            emails = int(
                connection.execute(text("SELECT count(*) FROM email_deliveries")).scalar_one()
            )
            load = dict(
                connection.execute(
                    text(
                        "SELECT u.email, count(d.id) FROM users u LEFT JOIN dossiers d "
                        "ON d.referent_id = u.id WHERE u.role = 'referent' GROUP BY u.email "
                        "ORDER BY u.email"
                    )
                ).all()
            )
        engine.dispose()
        n = len(ids)
        ok = all(value == n for value in found.values())
        self.result["checks"] = {
            "found": found, "expected": n, "ok": ok, "pending": pending,
            "failed_attempts": failed, "emails": emails, "referent_load": load,
        }  # fmt: skip
        log(
            f"[{self.mode}] checks: {found} (expected {n} each: {'ok' if ok else 'FAILED'}); "
            f"outbox pending {pending}, messages that failed once {failed}, e-mails sent {emails}"
        )

    def flow_runs(self) -> None:
        """How many flow runs Prefect recorded, by flow and state."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.prefect_url)
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT f.name, r.state_type, count(*), "
                    "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM "
                    "r.end_time - r.start_time)) FROM flow_run r JOIN flow f ON f.id = r.flow_id "
                    "GROUP BY 1, 2 ORDER BY 1, 2"
                )
            ).all()
            tasks = connection.execute(text("SELECT count(*) FROM task_run")).scalar_one()
        engine.dispose()
        self.result["flow_runs"] = [
            {"flow": r[0], "state": r[1], "count": int(r[2]), "median_seconds": r[3]} for r in rows
        ]
        self.result["task_runs"] = int(tasks)
        log(f"[{self.mode}] flow runs: {self.result['flow_runs']}; task runs: {tasks}")


def meter_snapshot(meter: RoleMeter) -> dict[str, float]:
    """CPU by role so far (the meter keeps running)."""
    meter._sample()
    return meter.by_role()


def cpu_text(cpu: dict[str, float]) -> str:
    return ", ".join(f"{role} {seconds:.0f}" for role, seconds in cpu.items() if seconds >= 0.5)


def latencies(rows: list[list[Any]]) -> dict[str, float]:
    """Response times (ms) of the successful requests."""
    values = [1000 * (row[2] - row[1]) for row in rows if row[3] in (200, 201)]
    if not values:
        return {}
    return {
        "p50": percentile(values, 0.50), "p99": percentile(values, 0.99), "max": max(values),
        "mean": statistics.fmean(values),
    }  # fmt: skip


class IntakePoller:
    """Polls the database for dossiers routed with a référent proposed; when each was first
    seen done (an upper bound on when its intake committed, within one poll interval)."""

    def __init__(self, url: str, ids: list[str], *, every: float) -> None:
        from sqlalchemy import create_engine

        self.engine = create_engine(url, pool_size=1)
        self.ids = set(ids)
        self.every = every
        self.seen: dict[str, float] = {}
        self.polls: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.engine.dispose()

    def done_count(self) -> int:
        return len(self.seen)

    def _run(self) -> None:
        from sqlalchemy import text

        # routed_at is the instant the intake started (its transaction commits a little
        # later): look back a minute so that no late commit is missed.
        query = text(
            "SELECT id::text FROM dossiers WHERE routed_at IS NOT NULL AND referent_id IS NOT "
            "NULL AND routed_at > now() - interval '60 seconds'"
        )
        full = text(
            "SELECT id::text FROM dossiers WHERE routed_at IS NOT NULL AND referent_id IS NOT NULL"
        )
        rounds = 0
        while not self._stop.is_set():
            polled = time.time()
            try:
                with self.engine.connect() as connection:
                    rows = connection.execute(full if rounds % 20 == 0 else query).all()
            except Exception as error:
                log(f"poll failed: {error}")
                rows = []
            for (dossier,) in rows:
                if dossier in self.ids and dossier not in self.seen:
                    self.seen[dossier] = polled
            self.polls.append(time.time() - polled)
            rounds += 1
            self._stop.wait(max(0.0, self.every - (time.time() - polled)))


def intake_figures(outcome: dict[str, Any], poller: IntakePoller) -> dict[str, Any]:
    """Per dossier: first poll that saw its intake done − its filing response."""
    from sqlalchemy import create_engine, text

    filed = {row[0]: row[2] for row in outcome["results"] if row[3] == 200}
    delays = [poller.seen[d] - at for d, at in filed.items() if d in poller.seen]
    missing = len(filed) - len(delays)
    # The instant each intake started (routed_at), for the lower bound.
    engine = create_engine(poller.engine.url)
    with engine.connect() as connection:
        started = {
            str(row[0]): row[1].timestamp()
            for row in connection.execute(
                text("SELECT id, routed_at FROM dossiers WHERE routed_at IS NOT NULL")
            )
        }
    engine.dispose()
    lower = [started[d] - at for d, at in filed.items() if d in started]
    figures: dict[str, Any] = {"done": len(delays), "missing": missing, "poll": poller.every}
    if delays:
        figures.update(
            p50=percentile(delays, 0.5), p99=percentile(delays, 0.99), max=max(delays),
            within=sum(1 for d in delays if d <= INTAKE_SECONDS),
            all_in_at=max(poller.seen[d] for d in filed if d in poller.seen) - outcome["began"],
            after_burst=max(poller.seen[d] for d in filed if d in poller.seen) - outcome["ended"],
        )  # fmt: skip
    if lower:
        figures.update(start_p50=percentile(lower, 0.5), start_max=max(lower))
    poll_ms = [1000 * p for p in poller.polls] or [0.0]
    figures["poll_ms"] = statistics.fmean(poll_ms)
    figures["curve"] = progress_curve(outcome, poller)
    figures["text"] = (
        f"{len(delays)}/{len(filed)} done; latency p50 {figures.get('p50', 0):.1f} s, p99 "
        f"{figures.get('p99', 0):.1f} s, max {figures.get('max', 0):.1f} s; whole burst taken "
        f"in {figures.get('all_in_at', 0):.0f} s after the first filing"
    )
    return figures


def progress_curve(outcome: dict[str, Any], poller: IntakePoller) -> list[tuple[int, int, int]]:
    """(seconds since the first filing, filings answered, intakes done) every 15 s."""
    began = outcome["began"]
    answered = sorted(row[2] - began for row in outcome["results"] if row[3] == 200)
    done = sorted(t - began for t in poller.seen.values())
    end = max([*answered, *done, 0.0])
    curve = []
    for second in range(0, int(end) + 16, 15):
        curve.append(
            (second, sum(1 for t in answered if t <= second), sum(1 for t in done if t <= second))
        )
    return curve


# ---------------------------------------------------------------------------------------------
# Report


def verdict(mode: dict[str, Any], n: int) -> tuple[bool, bool, bool]:
    """(filing met, intake met, both) for one mode."""
    burst, intake = mode.get("burst") or {}, mode.get("intake") or {}
    filing = bool(burst) and burst["seconds"] <= BURST_SECONDS and burst["errors"] == 0
    taken = bool(intake) and intake.get("within", -1) == n and intake.get("missing", 1) == 0
    return filing, taken, filing and taken


def render(results: dict[str, Any], args: argparse.Namespace, info: dict[str, str]) -> str:
    n = args.dossiers
    lines = [
        "## Burst of filings on PostgreSQL (`bench/bench_burst.py`)",
        "",
        f"Target: {TARGET_DOSSIERS:,} dossiers filed within {BURST_SECONDS:.0f} s with 0 errors, "
        f"each routed and assigned (intake done: `routed_at` and `referent_id` set) within "
        f"{INTAKE_SECONDS / 60:.0f} minutes of its filing.",
        "",
        f"Command: `{command_line()}`  ",
        f"Machine: {machine_line(info)}",
        "",
        f"Set-up, per flow mode, on loopback with `tests/system/cluster.py`: Prefect's server on "
        f"PostgreSQL, {args.apis} `accelerator serve` process(es)"
        + (f" of {args.api_workers} uvicorn workers" if args.api_workers > 1 else "")
        + f" ({args.api_pool or args.pool} + 4 pooled connections each)"
        + f", {args.relays} relays"
        + (
            f", {args.workers} process workers (limit {args.worker_limit} each, work-pool "
            f"limit {args.pool_limit}) in `deployments` mode"
            if "deployments" in args.modes
            else ""
        )
        + f", an SMTP server for the receipts; {args.holders:,} holders, each in its own "
        f"organisation, with a bearer token made before the burst; six référents. "
        f"**The {n:,} drafts are created through the API before the burst (set-up, not timed "
        f"against the target)**; the drafts are the six demo projects of docs/domain.md in turn. "
        f"The burst: one load-generator process (asyncio, "
        + (
            "a minimal keep-alive HTTP/1.1 client on asyncio streams"
            if args.client == "raw"
            else "httpx"
        )
        + f", {args.concurrency} requests in flight) sends the {n:,} "
        f"`POST /api/v1/dossiers/{{id}}/file` as fast as they are answered"
        + (
            f"; Prefect's server, the relays and the workers, with their flow runs, get the "
            f"CPU share of "
            f"`nice -n {args.nice}` (a CPU cgroup of their own, as a systemd `CPUWeight` or a "
            f"compose `cpu_shares` would give them, else their sessions' scheduling groups; the "
            f"API keeps the CPU first)"
            if args.nice
            else ""
        )
        + ". "
        f"Intake latency of a dossier: from its filing response to the first poll "
        f"of the database (every {args.poll} s) that sees it routed with a référent proposed "
        f"(an upper bound, within one poll interval). Every process shares the 2 cores with "
        f'PostgreSQL and the load generator; "other processes" in the CPU figures are the '
        f"rest of the machine (other sessions' test suites and servers), not the system "
        f"measured.",
        "",
        "| flow mode | filings | burst time | filings/s | errors | file p50 / p99 ms | "
        "intake done | intake p50 / p99 / max | burst taken in | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for mode in results["modes"]:
        burst, intake = mode.get("burst"), mode.get("intake")
        if not burst:
            lines.append(f"| `{mode['mode']}` | failed: {mode.get('error', '?')} |||||||||")
            continue
        filing, taken, _both = verdict(mode, n)
        lat = burst["latency"]
        lines.append(
            f"| `{mode['mode']}` | {burst['count']:,} | {burst['seconds']:.1f} s | "
            f"{burst['per_second']:.0f} | {burst['errors']} | {lat.get('p50', 0):.0f} / "
            f"{lat.get('p99', 0):.0f} | {intake['done']:,} / {burst['count']:,} | "
            f"{intake.get('p50', 0):.1f} / {intake.get('p99', 0):.1f} / "
            f"{intake.get('max', 0):.1f} s"
            f" | {intake.get('all_in_at', 0):.0f} s | filing {'met' if filing else 'NOT met'}, "
            f"intake {'met' if taken else 'NOT met'} |"
        )
    lines.append("")
    for mode in results["modes"]:
        if not mode.get("burst"):
            continue
        create, pairs, checks = mode.get("create", {}), mode.get("pairs"), mode.get("checks", {})
        intake = mode["intake"]
        notes = [
            f"**`{mode['mode']}`** (load average when the burst began: {mode['load_at_burst']}). "
            f"Set-up: cluster started in {mode['cluster_seconds']:.0f} s; {create['count']:,} "
            f"drafts created in {create['seconds']:.1f} s ({create['per_second']:.0f}/s, "
            f"{create['errors']} errors)."
        ]
        if pairs:
            notes.append(
                f"For information, create+file pairs (after the burst's intake): "
                f"{pairs['count']:,} in {pairs['seconds']:.1f} s, {pairs['per_second']:.0f} "
                f"pairs/s, {pairs['errors']} errors, p50 {pairs['latency'].get('p50', 0):.0f} ms "
                f"per pair."
            )
        burst = mode["burst"]
        notes.append(
            f"The load generator used {1000 * burst['loadgen_cpu'] / burst['count']:.2f} ms of "
            f"CPU per filing request."
        )
        notes.append(
            f"Intake start (`routed_at`) − filing response: p50 {intake.get('start_p50', 0):.1f} s,"
            f" max {intake.get('start_max', 0):.1f} s (lower bound); the last intake was seen "
            f"{intake.get('after_burst', 0):.0f} s after the last filing answer."
        )
        curve = ", ".join(
            f"{s} s: {a:,}/{d:,}"
            for s, a, d in intake["curve"][:: max(1, len(intake["curve"]) // 12)]
        )
        notes.append(
            f"Progress (seconds after the first filing: filings answered / intakes done): {curve}."
        )
        notes.append(
            "CPU seconds by role from the burst's start to the last intake: "
            + cpu_text(mode["cpu"])
            + f" (wall {mode['cpu_wall']:.0f} s); during the {mode['burst']['seconds']:.0f} s of "
            f"filings alone: {cpu_text(mode['burst']['cpu'])}."
        )
        runs = mode.get("flow_runs") or []
        if runs:
            notes.append(
                "Flow runs recorded by Prefect: "
                + ", ".join(
                    f"{r['flow']} {r['state']} × {r['count']}"
                    + (f" (median {r['median_seconds']:.1f} s)" if r["median_seconds"] else "")
                    for r in runs
                )
                + f"; {mode.get('task_runs', 0):,} task runs."
            )
        found = checks.get("found", {})
        notes.append(
            "Checks: "
            + ", ".join(f"{label} {value:,}" for label, value in found.items())
            + f" (expected {checks.get('expected', 0):,} each: "
            f"{'all pass' if checks.get('ok') else 'FAILED'}); outbox still pending at the end: "
            f"{checks.get('pending') or 'none'}; messages that failed an attempt: "
            f"{checks.get('failed_attempts', 0)}; receipts e-mailed by then: "
            f"{checks.get('emails', 0):,}; proposals per référent: "
            f"{', '.join(str(v) for v in (checks.get('referent_load') or {}).values())}."
        )
        if mode["burst"]["errors"]:
            notes.append(f"Error samples: {mode['burst']['error_samples']}.")
        lines += [" ".join(notes), ""]
    if n != TARGET_DOSSIERS:
        lines.append(f"Reduced size ({n:,} dossiers): these figures do not measure the target.")
        lines.append("")
    lines.append(verdict_line(results, n))
    return "\n".join(lines)


def verdict_line(results: dict[str, Any], n: int) -> str:
    met = [m["mode"] for m in results["modes"] if m.get("burst") and verdict(m, n)[2]]
    return (
        f"Verdict: **{'met' if met else 'not met'}**"
        + (f" in `{'`, `'.join(met)}` mode" if met else "")
        + "."
    )


def summary_line(results: dict[str, Any], args: argparse.Namespace, info: dict[str, str]) -> str:
    n = args.dossiers
    parts = []
    for mode in results["modes"]:
        burst, intake = mode.get("burst"), mode.get("intake")
        if not burst:
            parts.append(f"`{mode['mode']}` failed")
            continue
        parts.append(
            f"`{mode['mode']}`: filed in {burst['seconds']:.1f} s ({burst['per_second']:.0f}/s, "
            f"{burst['errors']} errors), intake p99 {intake.get('p99', 0):.0f} s, max "
            f"{intake.get('max', 0):.0f} s (filing {'met' if verdict(mode, n)[0] else 'not met'}, "
            f"intake {'met' if verdict(mode, n)[1] else 'not met'})"
        )
    size = "" if n == TARGET_DOSSIERS else f" (REDUCED SIZE: {n:,})"
    met = any(m.get("burst") and verdict(m, n)[2] for m in results["modes"])
    return (
        f"- Burst of 10,000 filings in ≤ 60 s, 0 errors, each taken in within 5 min{size}: "
        + "; ".join(parts)
        + f" ({'met' if met else '**not met**'}). [{info['date'][:10]}]"
    )


# ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dossiers", type=int, default=TARGET_DOSSIERS)
    parser.add_argument("--modes", default="inline,deployments")
    parser.add_argument("--holders", type=int, default=1_000)
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    parser.add_argument("--apis", type=int, default=1, help="accelerator serve processes")
    parser.add_argument("--api-workers", type=int, default=2, help="uvicorn workers each")
    parser.add_argument("--relays", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="process workers (deployments)")
    parser.add_argument("--worker-limit", type=int, default=4)
    parser.add_argument("--pool-limit", type=int, default=8, help="work-pool concurrency")
    parser.add_argument("--pool", type=int, default=8, help="ACCELERATOR_DB_POOL_SIZE")
    parser.add_argument("--keep", action="store_true", help="keep the processes' logs")
    parser.add_argument(
        "--api-pool", type=int, default=0, help="the API processes' pool (default: --pool)"
    )
    parser.add_argument("--poll", type=float, default=0.5, help="intake poll interval (s)")
    parser.add_argument("--grace", type=float, default=60.0, help="wait past 5 min (s)")
    parser.add_argument("--pairs", type=int, default=None, help="create+file pairs (info)")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the cluster")
    parser.add_argument(
        "--client", choices=["raw", "httpx"], default="raw", help="load generator's HTTP client"
    )
    parser.add_argument(
        "--nice", type=int, default=0, help="CPU niceness of relays and workers (e.g. 10)"
    )
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    parser.add_argument("--loadgen", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loadgen:
        loadgen_main(args.loadgen)
        return
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    pairs = args.pairs if args.pairs is not None else max(200, args.dossiers // 10)
    os.environ.setdefault("ACCELERATOR_DEMO", "1")  # this process only (tokens are signed
    # with the cluster's own key)
    info = machine()
    log(f"Machine: {machine_line(info)}")
    results: dict[str, Any] = {"modes": []}
    overall = time.perf_counter()
    for mode in args.modes:
        prefix = f"bench-burst-{mode}-"
        with (
            contextlib.nullcontext(tempfile.mkdtemp(prefix=prefix))
            if args.keep
            else tempfile.TemporaryDirectory(prefix=prefix)
        ) as workdir:
            burst = Burst(args, mode, Path(workdir))
            try:
                burst.start()
                burst.create_drafts(args.dossiers)
                time.sleep(2)  # let the relays go idle
                burst.burst()
                burst.check()
                burst.flow_runs()
                if pairs:
                    burst.create_and_file(pairs)
            except Exception as error:
                log(f"[{mode}] FAILED: {error!r}")
                burst.result["error"] = repr(error)[:300]
                with contextlib.suppress(Exception):
                    print(burst.cluster.logs())
            finally:
                with contextlib.suppress(Exception):
                    burst.stop()
            results["modes"].append(burst.result)
    log(f"total run time {time.perf_counter() - overall:.0f} s")
    text = render(results, args, info)
    print("\n" + text)
    if not args.no_doc:
        update_section("burst", text)
        update_section("summary-burst", summary_line(results, args, info))


if __name__ == "__main__":
    main()
