"""Pages under load: each role's pages on PostgreSQL, 50 dossiers per page, 10 users at once.

Target (issue 12): page p95 ≤ 100 ms at 50 dossiers per page, 10 concurrent users, PostgreSQL.

A fresh database (``accelerator_bench_pages`` on the local PostgreSQL, dropped and re-created),
migrated by Alembic, with the catalogue, the demo accounts and their six demo dossiers, then
``--dossiers`` more bulk-inserted in every status of the référents' queue across the two demo
holders' organisations, each with its take-in-charge clock, and (from consultation on) a launch,
2–4 consultations with their deadline and internal-target clocks (late, at risk, on time,
answered). The real app is served by ``accelerator serve --workers N`` (uvicorn) in a
subprocess on a free loopback port with ``ACCELERATOR_PAGE_SIZE=50``; ten users sign in through
the form (GET /login, POST /login with its CSRF token, the session cookie kept) and each browses
a fixed sequence of its role's pages: its landing list and further pages of it, the queue's
tabs, filters and sorts, dossier and consultation pages. Two phases: users reading (a pause of
``--think`` s × uniform(0.5, 1.5) after each page: the verdict), then without pause (10 requests
always in flight: the server saturated). If the target is not met, the slowest kind of page is
profiled in this process (pyinstrument, from the ``bench`` extra). Latency is the client's
(httpx, one thread and one connection per user, from sending to the last byte of the body);
the server's own time for the same request (from its access log, to the response's start) is
shown beside it.

    .venv/bin/python bench/bench_pages.py [--dossiers 2000] [--requests 60] [--think 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import create_engine, func, select, text

from accelerator.catalogue.actions import load_catalogue
from accelerator.consultations.models import Consultation, ConsultationLaunch
from accelerator.demo.actions import DEMO_PASSWORD, load_demo
from accelerator.dossiers.models import Dossier
from accelerator.identity.models import User
from accelerator.migrations.commands import upgrade
from accelerator.shared.db import Database, utcnow
from accelerator.sla.models import Clock
from bench._common import (
    ADMIN_URL,
    command_line,
    machine,
    machine_line,
    percentile,
    update_section,
)

DB_NAME = "accelerator_bench_pages"
TARGET_P95_MS = 100.0
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
CSRF = re.compile(r'name="(csrf[a-z_]*)" value="([^"]+)"')
STATUSES = ["filed", "taken_in_charge", "consulting", "awaiting_holder", "consolidated", "closed"]
COMMUNES = ["65138", "65258", "65059", "65440", "65295", "65286", "65100"]
TITLES = [
    "Extension de l'hôtel",
    "Centrale photovoltaïque au sol",
    "Extension de l'atelier fromager",
    "Bâtiment de production",
    "Petite centrale hydroélectrique",
    "Rénovation des thermes",
    "Plateforme logistique",
]
#: The ten users: (e-mail, role). Two holders, three référent sessions (the second référent
#: in two browsers), four agents of different administrations, a manager.
USERS = [
    ("holder@demo.test", "holder"),
    ("holder2@demo.test", "holder"),
    ("referent@demo.test", "referent"),
    ("referent2@demo.test", "referent"),
    ("referent2@demo.test", "referent"),
    ("agent.ddt-65@demo.test", "agent"),
    ("agent.udap-65@demo.test", "agent"),
    ("agent.sdis-65@demo.test", "agent"),
    ("agent.ars-dd65@demo.test", "agent"),
    ("manager@demo.test", "manager"),
]
TABS = ["new", "to_take_in_charge", "consulting", "awaiting_holder", "to_consolidate", "closed"]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- The world ---------------------------------------------------------------------------


def create_database() -> str:
    """Drop and create the benchmark database; its URL."""
    admin = create_engine(
        os.environ.get("BENCH_PG_ADMIN_URL", ADMIN_URL), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {DB_NAME}"))
    admin.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{DB_NAME}"


def _clock(
    dossier_id: uuid.UUID, consultation_id: uuid.UUID | None, kind: str, anchor: dt.datetime,
    due: dt.datetime, state: str, unit: str,
) -> Clock:  # fmt: skip
    return Clock(
        id=uuid.uuid4(), key=f"{kind}:{consultation_id or dossier_id}", kind=kind,
        dossier_id=dossier_id, consultation_id=consultation_id, calendar_code="FR",
        anchor_at=anchor, budget_amount=24 if unit == "hours" else 1, budget_unit=unit,
        state=state, due_at=due, stopped_at=None if state == "running" else anchor,
    )  # fmt: skip


def fill(url: str, count: int) -> dict[str, Any]:
    """Catalogue, demo accounts and ``count`` bulk dossiers; what the users will browse."""
    database = Database(url)
    now = utcnow()
    with database.transaction() as session:
        load_catalogue(session, now=now)
        load_demo(session, now=now)
    with database.transaction() as session:
        users = {u.email: u for u in session.scalars(select(User))}
        holders = [users["holder@demo.test"], users["holder2@demo.test"]]
        referents = [users["referent@demo.test"], users["referent2@demo.test"]]
        administrations = sorted(
            u.administration_code for u in users.values() if u.administration_code
        )
        dossiers: list[Dossier] = []
        launches: list[ConsultationLaunch] = []
        consultations: list[Consultation] = []
        clocks: list[Clock] = []
        for n in range(count):
            status = STATUSES[n % len(STATUSES)]
            holder = holders[1] if n % 4 == 3 else holders[0]
            filed = now - dt.timedelta(days=(n * 7) % 90, hours=n % 24, minutes=(n * 13) % 60)
            referent = referents[(n // 6) % 2]
            if status == "filed" and (n // 6) % 3 == 0:
                referent = None  # new: no référent proposed yet
            taken = filed + dt.timedelta(hours=3 + n % 20) if status != "filed" else None
            dossier = Dossier(
                id=uuid.uuid4(), reference=f"ACC-2025-{n + 1:05d}",
                title=f"{TITLES[n % len(TITLES)]} n° {n + 1}",
                description="Projet du banc d'essai des pages.",
                commune_insee=COMMUNES[n % len(COMMUNES)], procedures=["PC"], attributes={},
                investment_eur=100_000 * (1 + n % 50), jobs_created=n % 30,
                organisation_id=holder.organisation_id, created_by_id=holder.id,
                calendar_code="FR", status=status,
                referent_id=referent.id if referent else None,
                created_at=filed - dt.timedelta(days=2), filed_at=filed, routed_at=filed,
                taken_in_charge_at=taken,
                consolidated_at=now - dt.timedelta(days=1)
                if status in ("consolidated", "closed") else None,
                closed_at=now if status == "closed" else None,
            )  # fmt: skip
            dossiers.append(dossier)
            clocks.append(
                _clock(dossier.id, None, "take_charge", filed, filed + dt.timedelta(hours=24),
                       "running" if status == "filed" else "stopped", "hours")
            )  # fmt: skip
            if status in ("filed", "taken_in_charge"):
                continue
            sent = (taken or filed) + dt.timedelta(hours=2)
            launch = ConsultationLaunch(
                id=uuid.uuid4(), dossier_id=dossier.id, cycle=1, entries=[],
                requested_by_id=dossier.referent_id, requested_at=sent,
            )  # fmt: skip
            launches.append(launch)
            finished = status in ("consolidated", "closed")
            for j in range(2 + n % 3):
                code = administrations[(n + j * 5) % len(administrations)]
                if finished:
                    state = "answered"
                elif status == "awaiting_holder" and j == 0:
                    state = "awaiting_information"
                else:
                    state = "acknowledged" if (n + j) % 2 else "sent"
                consultation = Consultation(
                    id=uuid.uuid4(), dossier_id=dossier.id, administration_code=code,
                    consultation_type_code="generic_opinion", launch_id=launch.id, cycle=1,
                    status=state, sent_at=sent,
                    acknowledged_at=sent + dt.timedelta(hours=4) if state != "sent" else None,
                    answered_at=sent + dt.timedelta(days=10) if finished else None,
                    opinion_nature="favourable" if finished else None,
                    opinion_text="Avis favorable." if finished else None,
                )  # fmt: skip
                consultations.append(consultation)
                clock_state = (
                    "stopped" if finished else "paused" if state == "awaiting_information"
                    else "running"
                )  # fmt: skip
                clocks.append(
                    _clock(dossier.id, consultation.id, "consultation_deadline", sent,
                           sent + dt.timedelta(days=30), clock_state, "months")
                )  # fmt: skip
                clocks.append(
                    _clock(dossier.id, consultation.id, "consultation_target", sent,
                           sent + dt.timedelta(days=15), clock_state, "months")
                )  # fmt: skip
        session.add_all(dossiers)
        session.flush()
        session.add_all(launches)
        session.flush()
        session.add_all(consultations)
        session.flush()
        session.add_all(clocks)
    with database.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    # What each user browses: dossiers and consultations they may open.
    with database.transaction(read_only=True) as session:
        users = {u.email: u for u in session.scalars(select(User))}
        world: dict[str, Any] = {"dossiers": {}, "consultations": {}, "counts": {}}
        for email in ("holder@demo.test", "holder2@demo.test"):
            world["dossiers"][email] = [
                str(i)
                for i in session.scalars(
                    select(Dossier.id)
                    .where(Dossier.organisation_id == users[email].organisation_id)
                    .order_by(Dossier.id)
                )
            ]
        for email in ("referent@demo.test", "referent2@demo.test"):
            world["dossiers"][email] = [
                str(i)
                for i in session.scalars(
                    select(Dossier.id)
                    .where(Dossier.referent_id == users[email].id)
                    .order_by(Dossier.id)
                )
            ]
        world["dossiers"]["manager@demo.test"] = world["dossiers"]["referent@demo.test"]
        for email, role in USERS:
            if role == "agent":
                code = users[email].administration_code
                world["consultations"][email] = [
                    str(i)
                    for i in session.scalars(
                        select(Consultation.id)
                        .where(Consultation.administration_code == code)
                        .order_by(Consultation.id)
                    )
                ]
        world["counts"] = {
            "dossiers": session.scalar(select(func.count()).select_from(Dossier)),
            "consultations": session.scalar(select(func.count()).select_from(Consultation)),
            "clocks": session.scalar(select(func.count()).select_from(Clock)),
            "users": len(users),
        }
    database.engine.dispose()
    return world


# --- The users ---------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    path: str
    status: int
    ms: float
    request_id: str
    size: int
    user: int


@dataclass
class Browser:
    """One user: a client with its own cookie jar and connection."""

    email: str
    role: str
    index: int
    client: httpx.Client
    samples: list[Sample] = field(default_factory=list)

    def sign_in(self) -> None:
        form = self.client.get("/login", headers=HTML)
        found = CSRF.search(form.text, form.text.index('action="/login"'))
        assert form.status_code == 200 and found, form.text[:300]
        answer = self.client.post(
            "/login",
            data={"email": self.email, "password": DEMO_PASSWORD, found.group(1): found.group(2)},
            headers=HTML,
        )
        assert answer.status_code == 303, (self.email, answer.status_code, answer.text[:300])

    def get(self, kind: str, path: str, number: int, phase: str = "warm") -> Sample:
        request_id = f"bench-{phase}-{self.index}-{number}"
        started = time.perf_counter()
        answer = self.client.get(path, headers={**HTML, "X-Request-ID": request_id})
        body = answer.content
        ms = (time.perf_counter() - started) * 1000
        return Sample(kind, path, answer.status_code, ms, request_id, len(body), self.index)


def pages_of(count: int, size: int) -> int:
    return max(1, -(-count // size))


def plan(
    browser: Browser, world: dict[str, Any], rng: random.Random, n: int, size: int
) -> Iterator[tuple[str, str]]:
    """The ``n`` pages ``browser`` asks for, in order: a role's day, repeated."""
    dossiers = world["dossiers"].get(browser.email, [])
    consultations = world["consultations"].get(browser.email, [])
    lists = world["list_pages"]

    def dossier() -> tuple[str, str]:
        return (f"dossier ({browser.role})", f"/dossiers/{rng.choice(dossiers)}")

    if browser.role == "holder":
        pages = lists[browser.email]
        cycle = [
            lambda: ("/mes-dossiers", "/mes-dossiers"),
            lambda: ("/mes-dossiers?page=N", f"/mes-dossiers?page={rng.randint(2, pages)}"),
            dossier,
            lambda: ("/mes-dossiers?page=N", f"/mes-dossiers?page={rng.randint(2, pages)}"),
            dossier,
        ]
    elif browser.role == "referent":
        pages = lists[browser.email]

        def tab() -> tuple[str, str]:
            name = rng.choice([t for t in TABS if pages[t] > 1] or TABS)
            return (
                "/file-de-travail?onglet=T&page=N",
                f"/file-de-travail?onglet={name}&page={rng.randint(1, pages[name])}",
            )

        cycle = [
            lambda: ("/file-de-travail", "/file-de-travail"),
            tab,
            dossier,
            tab,
            lambda: (
                "/file-de-travail?tri=…&q=…",
                rng.choice(
                    [
                        "/file-de-travail?onglet=consulting&tri=reference&ordre=desc",
                        "/file-de-travail?onglet=closed&tri=intitule&ordre=asc",
                        f"/file-de-travail?onglet=consulting&q={rng.randint(1, 99)}",
                        "/file-de-travail?onglet=awaiting_holder&q=centrale",
                    ]
                ),
            ),
            dossier,
        ]
    elif browser.role == "agent":
        pages = lists[browser.email]
        cycle = [
            lambda: ("/mes-consultations", "/mes-consultations"),
            lambda: (
                "/mes-consultations?page=N",
                f"/mes-consultations?page={rng.randint(2, max(2, pages))}",
            ),
            lambda: ("consultation (agent)", f"/consultations/{rng.choice(consultations)}"),
            lambda: (
                "/mes-consultations?statut=…",
                rng.choice(
                    [
                        "/mes-consultations?statut=sent",
                        "/mes-consultations?statut=acknowledged&type=generic_opinion",
                        "/mes-consultations?statut=answered&page=2",
                    ]
                ),
            ),
            lambda: ("consultation (agent)", f"/consultations/{rng.choice(consultations)}"),
        ]
    else:
        cycle = [lambda: ("/pilotage", "/pilotage"), dossier]
    for number in range(n):
        yield cycle[number % len(cycle)]()


def list_pages(world: dict[str, Any], url: str, size: int) -> dict[str, Any]:
    """How many pages each user's lists have at ``size`` rows."""
    engine = create_engine(url)
    found: dict[str, Any] = {}
    with engine.connect() as connection:
        for email, role in USERS:
            if role == "holder":
                count = connection.execute(
                    text(
                        "SELECT count(*) FROM dossiers d JOIN users u "
                        "ON u.organisation_id = d.organisation_id WHERE u.email = :e"
                    ),
                    {"e": email},
                ).scalar()
                found[email] = pages_of(count, size)
            elif role == "agent":
                count = connection.execute(
                    text(
                        "SELECT count(*) FROM consultations c JOIN users u ON "
                        "u.administration_code = c.administration_code WHERE u.email = :e "
                        "AND c.status NOT IN ('answered', 'tacit', 'cancelled')"
                    ),
                    {"e": email},
                ).scalar()
                found[email] = pages_of(count, size)
            elif role == "referent":
                rows = dict(
                    connection.execute(
                        text(
                            "SELECT CASE "
                            "WHEN d.status = 'filed' AND d.referent_id IS NULL THEN 'new' "
                            "WHEN d.status = 'filed' THEN 'to_take_in_charge' "
                            "WHEN d.status IN ('taken_in_charge', 'consulting') THEN 'consulting' "
                            "WHEN d.status = 'awaiting_holder' THEN 'awaiting_holder' "
                            "WHEN d.status = 'consolidated' THEN 'to_consolidate' "
                            "ELSE 'closed' END, count(*) FROM dossiers d JOIN users u "
                            "ON u.email = :e WHERE d.status <> 'draft' AND "
                            "(d.referent_id = u.id "
                            "OR (d.status = 'filed' AND d.referent_id IS NULL)) "
                            "GROUP BY 1"
                        ),
                        {"e": email},
                    ).all()
                )
                found[email] = {t: pages_of(rows.get(t, 0), size) for t in TABS}
    engine.dispose()
    return found


# --- The server --------------------------------------------------------------------------


def start_server(
    url: str, port: int, workers: int, size: int, log_path: Path, work: Path
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACCELERATOR_", "PREFECT_"))}
    env.update(
        ACCELERATOR_DEMO="1",
        ACCELERATOR_DATABASE_URL=url,
        ACCELERATOR_PAGE_SIZE=str(size),
        ACCELERATOR_LOG_FORMAT="json",
        ACCELERATOR_VAR_DIR=str(work),
        ACCELERATOR_UPLOAD_STAGING_DIR=str(work),
        # Ten sign-ins from one address in a second: successes are free, but keep room.
        ACCELERATOR_LOGIN_RATE_PER_ACCOUNT="50/minute",
    )
    with log_path.open("wb") as sink:
        command = [sys.executable, "-m", "cli.main", "serve", "--port", str(port),
                   "--workers", str(workers)]  # fmt: skip
        server = subprocess.Popen(
            command, cwd=Path(__file__).resolve().parent.parent, env=env,
            stdout=subprocess.DEVNULL, stderr=sink,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped: {log_path.read_text()[-2000:]}")
        time.sleep(0.2)
    raise RuntimeError("the server did not answer within 60 s")


def server_times(log_path: Path) -> dict[str, float]:
    """request id → the server's duration (ms), from its JSON access log."""
    found = {}
    for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
        if '"accelerator.api.access"' not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if "request_id" in record and "duration_ms" in record:
            found[record["request_id"]] = float(record["duration_ms"])
    return found


# --- Profile -----------------------------------------------------------------------------


def profile(url: str, size: int, email: str, paths: list[str]) -> str:
    """The pages ``paths`` as ``email`` in this process, under pyinstrument, with the SQL
    statements counted and timed: where one request's time goes.

    The app is driven in this thread (httpx's ASGI transport on an event loop here, FastAPI's
    hop to its thread pool replaced by a direct call), so that the profiler, which samples one
    thread, sees the whole request: routing, the route, its queries, the template."""
    import asyncio
    import logging

    import fastapi.dependencies.utils
    import fastapi.routing
    from sqlalchemy import event

    from accelerator.shared.config import Settings
    from api.app import create_app

    try:
        from pyinstrument import Profiler
    except ImportError:
        return "(pyinstrument is not installed: `.venv/bin/pip install -e '.[bench]'`)"

    async def direct(*args: Any, **kwargs: Any) -> Any:
        return args[0](*args[1:], **kwargs)

    fastapi.routing.run_in_threadpool = direct  # type: ignore[assignment]
    fastapi.dependencies.utils.run_in_threadpool = direct  # type: ignore[assignment]
    app = create_app(Settings(database_url=url, demo=True, page_size=size, log_format="json"))
    logging.getLogger("accelerator.api.access").setLevel(logging.WARNING)
    sql = {"count": 0, "seconds": 0.0}
    starts: dict[int, float] = {}

    def before(_c: Any, _cur: Any, _s: Any, _p: Any, context: Any, _m: Any) -> None:
        starts[id(context)] = time.perf_counter()

    def after(_c: Any, _cur: Any, _s: Any, _p: Any, context: Any, _m: Any) -> None:
        sql["count"] += 1
        sql["seconds"] += time.perf_counter() - starts.pop(id(context), time.perf_counter())

    engine = app.state.database.engine
    profiler = Profiler(interval=0.0005, async_mode="disabled")
    timing: dict[str, float] = {}

    async def browse() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            form = await client.get("/login", headers=HTML)
            found = CSRF.search(form.text, form.text.index('action="/login"'))
            assert found
            data = {"email": email, "password": DEMO_PASSWORD, found.group(1): found.group(2)}
            assert (await client.post("/login", data=data, headers=HTML)).status_code == 303
            for path in paths[:3]:
                await client.get(path, headers=HTML)  # warm
            event.listen(engine, "before_cursor_execute", before)
            event.listen(engine, "after_cursor_execute", after)
            started = time.perf_counter()
            profiler.start()
            for path in paths:
                assert (await client.get(path, headers=HTML)).status_code == 200, path
            profiler.stop()
            timing["wall"] = time.perf_counter() - started
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)

    asyncio.run(browse())
    engine.dispose()
    n = len(paths)
    head = (
        f"{n} requests in one thread (no concurrency): {timing['wall'] / n * 1000:.1f} ms each; "
        f"{sql['count'] / n:.1f} SQL statements per request, {sql['seconds'] / n * 1000:.1f} ms "
        "in them (round trips and PostgreSQL's work)."
    )
    return head + "\n\n" + profiler.output_text(unicode=True, color=False, show_all=False)


# --- Main --------------------------------------------------------------------------------


def stats_of(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": percentile(values, 0.50),
        "p95": percentile(values, 0.95),
        "p99": percentile(values, 0.99),
        "max": max(values),
    }


@dataclass
class Phase:
    """One timed run of every user at once."""

    name: str
    think: float
    requests: int
    samples: list[Sample] = field(default_factory=list)
    wall: float = 0.0
    load_end: tuple[float, float, float] = (0.0, 0.0, 0.0)


def browse(
    browsers: list[Browser], world: dict[str, Any], phase: Phase, seed: int, size: int
) -> None:
    """Every user browses its plan at once (a barrier starts them together), pausing
    ``phase.think`` × uniform(0.5, 1.5) seconds after each page."""
    plans = [
        list(plan(b, world, random.Random(seed + b.index), phase.requests, size)) for b in browsers
    ]
    barrier = threading.Barrier(len(browsers))
    errors: list[BaseException] = []
    found: list[list[Sample]] = [[] for _ in browsers]

    def run(index: int, browser: Browser, steps: list[tuple[str, str]]) -> None:
        pause = random.Random(seed * 31 + index)
        try:
            barrier.wait()
            for number, (kind, path) in enumerate(steps):
                found[index].append(browser.get(kind, path, number, phase.name))
                if phase.think:
                    time.sleep(phase.think * pause.uniform(0.5, 1.5))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [
        threading.Thread(target=run, args=(i, b, p))
        for i, (b, p) in enumerate(zip(browsers, plans, strict=True))
    ]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.wall = time.perf_counter() - began
    phase.load_end = os.getloadavg()
    if errors:
        raise errors[0]
    phase.samples = [sample for samples in found for sample in samples]


def table(phase: Phase, server_ms: dict[str, float]) -> tuple[list[str], dict[str, float], str]:
    """The markdown rows of ``phase`` per kind of page (slowest p95 first), the overall
    figures, and the slowest kind."""
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    for sample in phase.samples:
        by_kind[sample.kind].append(sample)
    order = sorted(by_kind, key=lambda k: -percentile([s.ms for s in by_kind[k]], 0.95))
    lines = [
        "| page | n | p50 ms | p95 ms | p99 ms | max ms | server p50 / p95 ms | KB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind in order:
        client = stats_of([s.ms for s in by_kind[kind]])
        server = [server_ms[s.request_id] for s in by_kind[kind] if s.request_id in server_ms]
        srv = stats_of(server) if server else {"p50": float("nan"), "p95": float("nan")}
        size_kb = sum(s.size for s in by_kind[kind]) / len(by_kind[kind]) / 1024
        lines.append(
            f"| `{kind}` | {client['n']} | {client['p50']:.0f} | {client['p95']:.0f} | "
            f"{client['p99']:.0f} | {client['max']:.0f} | {srv['p50']:.0f} / {srv['p95']:.0f} | "
            f"{size_kb:.0f} |"
        )
    overall = stats_of([s.ms for s in phase.samples])
    server_all = [server_ms[s.request_id] for s in phase.samples if s.request_id in server_ms]
    srv_all = stats_of(server_all)
    lines.append(
        f"| **all** | {overall['n']} | {overall['p50']:.0f} | **{overall['p95']:.0f}** | "
        f"{overall['p99']:.0f} | {overall['max']:.0f} | {srv_all['p50']:.0f} / "
        f"{srv_all['p95']:.0f} | |"
    )
    return lines, overall, order[0]


def loads(values: tuple[float, float, float]) -> str:
    return " ".join(f"{v:.2f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dossiers", type=int, default=2000, help="bulk dossiers (besides the demo's)"
    )
    parser.add_argument(
        "--requests", type=int, default=60, help="timed requests per user and phase"
    )
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean pause (s) after each page, first phase")  # fmt: skip
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--profile", action="store_true",
                        help="profile the slowest kind even if the target is met")  # fmt: skip
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args()
    info = machine()
    load_start = os.getloadavg()
    t0 = time.perf_counter()
    url = create_database()
    upgrade(url)
    log("database created and migrated")
    world = fill(url, args.dossiers)
    setup_seconds = time.perf_counter() - t0
    log(f"world filled in {setup_seconds:.1f} s: {world['counts']}")
    world["list_pages"] = list_pages(world, url, args.page_size)
    work = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    log_path = work / "server.log"
    port = free_port()
    server = start_server(url, port, args.workers, args.page_size, log_path, work)
    log(f"server up on port {port} ({args.workers} workers)")
    rng = random.Random(args.seed)
    browsers = [
        Browser(email, role, i, httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60))
        for i, (email, role) in enumerate(USERS)
    ]
    phases = [
        Phase("reading", args.think, args.requests),
        Phase("nopause", 0.0, args.requests),
    ]
    try:
        for browser in browsers:
            browser.sign_in()
        # Warm-up, not counted: every kind of page of every user once (templates, caches,
        # pooled connections), each checked to answer 200.
        for browser in browsers:
            for number, (kind, path) in enumerate(plan(browser, world, rng, 6, args.page_size)):
                sample = browser.get(kind, path, number)
                assert sample.status == 200, (browser.email, path, sample.status)
        for phase in phases:
            log(f"phase {phase.name}: {len(browsers)} users, {phase.requests} requests each, "
                f"pause {phase.think} s")  # fmt: skip
            browse(browsers, world, phase, args.seed, args.page_size)
            log(f"phase {phase.name}: {len(phase.samples)} requests in {phase.wall:.1f} s")
    finally:
        for browser in browsers:
            browser.client.close()
        server.terminate()
        server.wait(timeout=30)
    server_ms = server_times(log_path)
    results = {}
    for phase in phases:
        bad = [s for s in phase.samples if s.status != 200]
        lines, overall, slowest = table(phase, server_ms)
        results[phase.name] = {
            "lines": lines, "overall": overall, "slowest": slowest, "bad": len(bad),
            "met": overall["p95"] <= TARGET_P95_MS and not bad,
        }  # fmt: skip
    reading, nopause = results["reading"], results["nopause"]
    counts = world["counts"]
    lp = world["list_pages"]

    def describe(phase: Phase, result: dict[str, Any]) -> str:
        return (
            f"{len(phase.samples)} requests in {phase.wall:.1f} s "
            f"({len(phase.samples) / phase.wall:.1f} per second), {result['bad']} not 200; load "
            f"average at the end of the phase: {loads(phase.load_end)}. Overall p95 "
            f"{result['overall']['p95']:.0f} ms against {TARGET_P95_MS:.0f} ms: "
            f"**{'met' if result['met'] else 'not met'}**."
        )

    body_lines = [
        "## Pages (`bench/bench_pages.py`)",
        "",
        f"Target (issue 12): page p95 ≤ {TARGET_P95_MS:.0f} ms at {args.page_size} dossiers per "
        f"page, {len(browsers)} concurrent users, PostgreSQL.",
        "",
        f"Command: `{command_line()}`",
        "",
        machine_line(info),
        f"Load average at the end: {loads(phases[-1].load_end)} (at the start: "
        f"{loads(load_start)}): the machine is shared, and the load is other sessions' work as "
        "well as this run's.",
        "",
        f"World: {counts['dossiers']:,} dossiers ({args.dossiers:,} bulk-inserted in every "
        "status of the queue, 3 in 4 in the first holder's organisation, plus the demo's "
        f"five), {counts['consultations']:,} consultations, {counts['clocks']:,} clocks, "
        f"{counts['users']} accounts (the catalogue and the demo accounts as `accelerator "
        f"demo` loads them); `VACUUM ANALYZE` after the load; set-up {setup_seconds:.0f} s. "
        f"Pages at {args.page_size} rows: the holders' lists {lp['holder@demo.test']} and "
        f"{lp['holder2@demo.test']}; `referent@demo.test`'s tabs "
        + ", ".join(f"{t} {n}" for t, n in lp["referent@demo.test"].items())
        + f"; DDT-65's open consultations {lp['agent.ddt-65@demo.test']}.",
        "",
        f"Server: `accelerator serve --workers {args.workers}` (uvicorn with httptools and "
        "uvloop, each worker's default pool of 5 + 10 connections) with "
        f"`ACCELERATOR_PAGE_SIZE={args.page_size}`, demo mode on plain http. Users: "
        f"{len(browsers)}, signed in through the form (2 holders, 3 référent sessions, 4 agents "
        "of DDT-65, UDAP-65, SDIS-65 and ARS-DD65, 1 manager), each in its own thread with its "
        "own httpx client and cookie jar, browsing its role's pages in a fixed order (landing "
        "list, further pages, the queue's tabs, sorts and searches, status filters, dossier and "
        "consultation pages), after one warm-up round not counted. Client time: from sending "
        "the request to the body's last byte; server time: the app's access log (to the "
        "response's start). The load generator shares the 2 cores with the server and "
        "PostgreSQL.",
        "",
        f"**10 users reading** (after each page a pause of {args.think:g} s × uniform(0.5, 1.5), "
        f"{args.requests} pages each):",
        "",
        *reading["lines"],
        "",
        describe(phases[0], reading),
        "",
        f"**10 users without pause** (10 requests in flight at all times: the server "
        f"saturated, harsher than people reading pages; {args.requests} pages each):",
        "",
        *nopause["lines"],
        "",
        describe(phases[1], nopause),
        "",
        f"Verdict (the reading users): **{'met' if reading['met'] else 'not met'}**.",
    ]
    body = "\n".join(body_lines)
    print(body)
    slowest = reading["slowest"]
    if args.profile or not reading["met"]:
        samples = [s for s in phases[0].samples if s.kind == slowest]
        owner = browsers[samples[0].user]
        paths = [s.path for s in samples if s.user == owner.index][:40]
        log(f"profiling {slowest} as {owner.email} ({len(paths)} requests)")
        profiled = profile(url, args.page_size, owner.email, paths)
        print(profiled)
        (work / "profile.txt").write_text(profiled, encoding="utf-8")
        log(f"profile written to {work / 'profile.txt'}")
    if not args.no_doc:
        update_section("pages", body)
        update_section(
            "summary-pages",
            f"- Pages p95 ≤ {TARGET_P95_MS:.0f} ms at {args.page_size} rows per page, "
            f"{len(browsers)} users, PostgreSQL: users reading (pause ≈ {args.think:g} s) p95 "
            f"{reading['overall']['p95']:.0f} ms; without pause p95 "
            f"{nopause['overall']['p95']:.0f} ms (load average {load_start[0]:.1f} → "
            f"{phases[-1].load_end[0]:.1f}) ({'met' if reading['met'] else 'not met'}). "
            f"[{info['date'][:10]}]",
        )
    log(f"server log: {log_path}")


if __name__ == "__main__":
    main()
