"""Managers' figures on a large history: 200,000 dossiers and about a million consultations
over three years on PostgreSQL (and 100,000 consultations on SQLite), side by side in one run.

Targets (issue 13): ``GET /api/v1/metrics/summary`` median ≤ 50 ms and p95 ≤ 150 ms, with and
without filters, next to a naive live query (``percentile_cont(...) WITHIN GROUP`` over the raw
``consultation_facts`` rows grouped by administration, same filters) as a ratio; the forecast
for every open consultation in ≤ 5 s; the weekly pack in ≤ 30 s.

1. fill (not timed against a target): a fresh database (``accelerator_bench_metrics_<N>``),
   migrated, with the catalogue and the demo accounts, then the generated history of
   ``accelerator/demo/history.py`` (``--dossiers`` over ``--years``), inserted by ``COPY``,
   committed per batch; then the facts derived by ``metrics.actions.refresh_batch`` as the
   sweep does, committed per batch (both timed). ``--reuse`` keeps a database already filled
   with the same size and seed (the fill of a million consultations takes long);
2. the real app served by ``accelerator serve`` (uvicorn, one worker) on 127.0.0.1:``--port``,
   a manager's bearer token from ``POST /api/v1/auth/token``; each filter set requested
   ``--calls`` times after a warm-up (client time, httpx, one connection);
3. the naive query, in this process, ``--naive-calls`` times per filter set;
4. ``GET /api/v1/metrics/forecast`` ``--forecast-calls`` times; ``accelerator report weekly``
   for the last complete week of the history, as a subprocess;
5. the same on SQLite (``--sqlite-consultations``; no ``percentile_cont`` there: no naive
   ratio), unless ``--no-sqlite``.

Run with ``nice``: ``nice .venv/bin/python bench/bench_metrics.py [--dossiers 200000]
[--reuse] [--calls 30] [--no-sqlite] [--no-doc]``. ``--dossiers 2000`` is a quick smoke run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402

from accelerator.catalogue.actions import load_catalogue  # noqa: E402
from accelerator.demo.actions import DEMO_PASSWORD, load_demo  # noqa: E402
from accelerator.demo.history import (  # noqa: E402
    REFERENCE_PREFIX,
    HistoryConfig,
    generate,
    insert_batch,
    read_world,
)
from accelerator.dossiers.models import Dossier  # noqa: E402
from accelerator.metrics import rollups  # noqa: E402
from accelerator.metrics.actions import (  # noqa: E402
    refresh_batch,
    stale_consultations,
    stale_dossiers,
)
from accelerator.metrics.facts import REPORTING_ZONE  # noqa: E402
from accelerator.metrics.models import ConsultationFact  # noqa: E402
from accelerator.metrics.pack import last_complete_week  # noqa: E402
from accelerator.migrations.commands import upgrade  # noqa: E402
from accelerator.shared.db import Database  # noqa: E402
from accelerator.shared.validation import MAX_PAGE  # noqa: E402
from bench._common import (  # noqa: E402
    ADMIN_URL,
    command_line,
    machine,
    machine_line,
    percentile,
    update_section,
)

DB_PREFIX = "accelerator_bench_metrics"
SUMMARY_MEDIAN_MS, SUMMARY_P95_MS = 50.0, 150.0
FORECAST_S, PACK_S = 5.0, 30.0
#: Consultations per dossier the generator draws on average (for ``--sqlite-consultations``).
CONSULTATIONS_PER_DOSSIER = 4.8


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- Filling ---------------------------------------------------------------------------------


@dataclass
class Fill:
    """What the fill did (None: reused)."""

    dossiers: int = 0
    consultations: int = 0
    facts: int = 0
    insert_s: float | None = None
    facts_s: float | None = None
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    size_mb: float | None = None


def postgres_url(name: str, *, fresh: bool) -> tuple[str, bool]:
    """The URL of database ``name`` (created if ``fresh`` or absent); whether it existed."""
    admin = create_engine(
        os.environ.get("BENCH_PG_ADMIN_URL", ADMIN_URL), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        exists = bool(
            connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
        )
        if fresh or not exists:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", exists and not fresh


def drop_postgres(name: str) -> None:
    admin = create_engine(
        os.environ.get("BENCH_PG_ADMIN_URL", ADMIN_URL), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def filled(database: Database, dossiers: int) -> Fill | None:
    """The fill already in ``database`` if it holds ``dossiers`` generated dossiers with
    current facts, else None."""
    with database.transaction(read_only=True) as session:
        try:
            count = session.scalar(
                select(func.count())
                .select_from(Dossier)
                .where(Dossier.reference.like(f"{REFERENCE_PREFIX}%"))
            )
            latest = session.scalar(select(func.max(Dossier.filed_at)))
            facts = session.scalar(select(func.count()).select_from(ConsultationFact))
        except Exception:
            return None
    if count != dossiers or latest is None:
        return None
    with database.transaction(read_only=True) as session:
        stale = bool(stale_dossiers(session, limit=1) or stale_consultations(session, limit=1))
        stale = stale or rollups.missing(session) or rollups.pending(session)
    if stale:
        # Facts missing or stale, or cells emptied (a migration): derived again and the cells
        # rebuilt as the sweep would after the upgrade, not filled again.
        started = time.perf_counter()
        derived = derive(database, now=latest)
        log(f"stale facts derived again: {derived:,} rows in {time.perf_counter() - started:.0f} s")
    return Fill(dossiers=dossiers, facts=facts or 0, now=latest)


def fill(database: Database, config: HistoryConfig) -> Fill:
    """Catalogue, demo accounts, the generated history (committed per batch), its facts
    (committed per batch, as the sweep does)."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    result = Fill(now=now)
    with database.transaction() as session:
        load_catalogue(session, now=now)
        load_demo(session, now=now)
    with database.transaction() as session:
        world = read_world(session, now=now)
    started = time.perf_counter()
    for batch in generate(world, config, now=now, batch_size=5_000):
        with database.transaction() as session:
            insert_batch(session, batch)
        result.dossiers += len(batch)
        result.consultations += len(batch.rows["consultations"])
        if result.dossiers % 20_000 < 5_000:
            log(f"  {result.dossiers:,} dossiers, {result.consultations:,} consultations")
    result.insert_s = time.perf_counter() - started
    log(
        f"history inserted in {result.insert_s:.0f} s "
        f"({result.consultations / result.insert_s:,.0f} consultations/s)"
    )
    if database.dialect == "postgresql":
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("ANALYZE"))
    started = time.perf_counter()
    result.facts = derive(database, now=now)
    result.facts_s = time.perf_counter() - started
    log(f"facts derived in {result.facts_s:.0f} s ({result.facts / result.facts_s:,.0f} rows/s)")
    return result


def derive(database: Database, *, now: dt.datetime) -> int:
    """Every stale fact derived by ``refresh_batch`` in a transaction per batch, as the sweep
    does (its progress logged every 50,000 rows), then ``vacuum``; how many rows."""
    started, done, next_log = time.perf_counter(), 0, 50_000
    while found := _batch(database, now):
        done += found
        if done >= next_log:
            log(f"  facts: {done:,} rows ({done / (time.perf_counter() - started):,.0f} rows/s)")
            next_log += 50_000
    vacuum(database)
    return done


def _batch(database: Database, now: dt.datetime) -> int:
    with database.transaction() as session:
        return refresh_batch(session, now=now)


def vacuum(database: Database) -> None:
    """PostgreSQL's ``VACUUM ANALYZE`` once the facts are derived, as autovacuum would do
    soon after: a rebuild of the cells leaves as many dead rows as live ones, which every
    index scan would wade through until then."""
    if database.dialect == "postgresql":
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE"))


def database_size_mb(database: Database, sqlite_path: Path | None) -> float:
    if sqlite_path is not None:
        return sqlite_path.stat().st_size / 1e6
    with database.engine.connect() as connection:
        return (
            float(connection.execute(text("SELECT pg_database_size(current_database())")).scalar())
            / 1e6
        )


def counts(database: Database) -> dict[str, int]:
    with database.engine.connect() as connection:
        return {
            table: int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)
            for table in ("dossiers", "consultations", "consultation_facts", "clocks")
        }


# --- Measuring -------------------------------------------------------------------------------


def filter_sets(now: dt.datetime) -> list[tuple[str, dict[str, str]]]:
    """The filter sets measured: none, then each filter alone."""
    last = now.astimezone(REPORTING_ZONE).date()
    first = last - dt.timedelta(weeks=12) + dt.timedelta(days=1)
    return [
        ("no filter", {}),
        ("administration=DDT-65", {"administration": "DDT-65"}),
        ("procedure=PC", {"procedure": "PC"}),
        ("12 weeks", {"from": first.isoformat(), "to": last.isoformat()}),
        ("cycle=2", {"cycle": "2"}),
        ("arrondissement=653", {"arrondissement": "653"}),
    ]


def start_server(url: str, port: int, work: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACCELERATOR_", "PREFECT_"))}
    env.update(
        ACCELERATOR_DEMO="1",
        ACCELERATOR_DATABASE_URL=url,
        ACCELERATOR_VAR_DIR=str(work),
        ACCELERATOR_UPLOAD_STAGING_DIR=str(work),
    )
    log_path = work / "server.log"
    with log_path.open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--port", str(port), "--workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped: {log_path.read_text()[-2000:]}")
        time.sleep(0.3)
    server.terminate()
    raise RuntimeError("the server did not answer within 90 s")


#: A call slower than this is cut short and counted at this time (the set then stops).
CALL_TIMEOUT_S = 120.0


def timed_calls(client: httpx.Client, path: str, params: dict[str, str], calls: int) -> list[float]:
    """``calls`` GETs after one warm-up; each one's time in ms (status 200 required). A call
    that times out (``CALL_TIMEOUT_S``) is recorded at the timeout and ends the set."""
    times = []
    for number in range(calls + 1):
        started = time.perf_counter()
        try:
            response = client.get(path, params=params, timeout=CALL_TIMEOUT_S)
        except httpx.TimeoutException:
            log(f"  call {number} of {path} {params} timed out after {CALL_TIMEOUT_S:.0f} s")
            times.append(CALL_TIMEOUT_S * 1000)
            TIMEOUTS.append(f"{path} {params}")
            break
        elapsed = (time.perf_counter() - started) * 1000
        response.raise_for_status()
        if number:  # the first call warms up
            times.append(elapsed)
    return times or [CALL_TIMEOUT_S * 1000]


#: The calls that timed out (reported).
TIMEOUTS: list[str] = []


def naive_query(filters: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The live query a first dashboard would run: percentiles straight over the raw rows."""
    levels = (0.5, 0.85, 0.9, 0.95)
    columns = ", ".join(
        f"percentile_cont({p}) WITHIN GROUP (ORDER BY {c})"
        for c in ("held_days", "held_business_days")
        for p in levels
    )
    where = ["outcome IN ('answered', 'tacit')"]
    parameters: dict[str, Any] = {}
    if "from" in filters:
        zone = REPORTING_ZONE
        first = dt.date.fromisoformat(filters["from"])
        last = dt.date.fromisoformat(filters["to"]) + dt.timedelta(days=1)
        parameters["start"] = dt.datetime.combine(first, dt.time(0), tzinfo=zone)
        parameters["end"] = dt.datetime.combine(last, dt.time(0), tzinfo=zone)
        where.append("finished_at >= :start AND finished_at < :end")
    if "administration" in filters:
        parameters["administration"] = filters["administration"]
        where.append("administration_code = :administration")
    if "procedure" in filters:
        parameters["procedure"] = f"%,{filters['procedure']},%"
        where.append("procedures LIKE :procedure")
    if "cycle" in filters:
        parameters["cycle"] = int(filters["cycle"])
        where.append("cycle = :cycle")
    if "arrondissement" in filters:
        parameters["arrondissement"] = filters["arrondissement"]
        where.append("arrondissement_code = :arrondissement")
    sql = (
        f"SELECT administration_code, count(*), {columns}, "
        "avg(CASE WHEN on_time_legal THEN 1.0 ELSE 0.0 END) "
        f"FROM consultation_facts WHERE {' AND '.join(where)} GROUP BY administration_code"
    )
    return sql, parameters


def time_naive(database: Database, filters: dict[str, str], calls: int) -> list[float]:
    sql, parameters = naive_query(filters)
    times = []
    with database.engine.connect() as connection:
        connection.execute(text(sql), parameters).all()  # warm-up
        for _ in range(calls):
            started = time.perf_counter()
            connection.execute(text(sql), parameters).all()
            times.append((time.perf_counter() - started) * 1000)
    return times


def time_pack(url: str, now: dt.datetime, work: Path) -> tuple[float, str, int]:
    """``accelerator report weekly`` for the last complete week: seconds, week, PDF bytes."""
    week = str(last_complete_week(now))
    out = work / f"pack-{week}.pdf"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACCELERATOR_", "PREFECT_"))}
    env.update(ACCELERATOR_DEMO="1", ACCELERATOR_DATABASE_URL=url, ACCELERATOR_VAR_DIR=str(work))
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "report", "weekly", "--week", week, "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"report weekly failed: {done.stdout[-1000:]} {done.stderr[-2000:]}")
    return seconds, week, out.stat().st_size


@dataclass
class Measured:
    backend: str
    fill: Fill
    counts: dict[str, int]
    size_mb: float
    summary: dict[str, list[float]] = field(default_factory=dict)
    naive: dict[str, list[float]] = field(default_factory=dict)
    forecast: list[float] = field(default_factory=list)
    forecast_items: int = 0
    open_items: int = 0
    pack_s: float = 0.0
    pack_week: str = ""
    pack_bytes: int = 0


def measure(
    backend: str, url: str, database: Database, result: Fill, args: argparse.Namespace,
    sqlite_path: Path | None,
) -> Measured:  # fmt: skip
    measured = Measured(backend, result, counts(database), database_size_mb(database, sqlite_path))
    with database.engine.connect() as connection:
        measured.open_items = int(
            connection.execute(
                text(
                    "SELECT count(*) FROM consultation_facts WHERE outcome = 'open' "
                    "AND waiting_since IS NULL AND legal_due_at IS NOT NULL"
                )
            ).scalar()
            or 0
        )
    port = free_port() if args.port == 0 else args.port
    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as tmp:
        work = Path(tmp)
        server = start_server(url, port, work)
        log(f"{backend}: server up on 127.0.0.1:{port}")
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=600) as client:
                token = client.post(
                    "/api/v1/auth/token",
                    json={"email": "manager@demo.test", "password": DEMO_PASSWORD},
                ).json()["access_token"]
                client.headers["Authorization"] = f"Bearer {token}"
                for name, filters in filter_sets(result.now):
                    times = timed_calls(client, "/api/v1/metrics/summary", filters, args.calls)
                    measured.summary[name] = times
                    line = f"{backend}: summary [{name}] median {statistics.median(times):.0f} ms"
                    if database.dialect == "postgresql":
                        naive = time_naive(database, filters, args.naive_calls)
                        measured.naive[name] = naive
                        line += f", naive median {statistics.median(naive):.0f} ms"
                    log(line)
                forecast = timed_calls(
                    client,
                    "/api/v1/metrics/forecast",
                    {"limit": str(MAX_PAGE)},
                    args.forecast_calls,
                )
                measured.forecast = forecast
                measured.forecast_items = len(
                    client.get("/api/v1/metrics/forecast", params={"limit": str(MAX_PAGE)}).json()
                )
                log(f"{backend}: forecast median {statistics.median(forecast) / 1000:.2f} s")
        finally:
            # A call cut short leaves its query running in the server: do not wait for it.
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=30)
        measured.pack_s, measured.pack_week, measured.pack_bytes = time_pack(url, result.now, work)
        log(f"{backend}: weekly pack {measured.pack_week} in {measured.pack_s:.1f} s")
    return measured


# --- Reporting -------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def section(results: list[Measured], args: argparse.Namespace, info: dict[str, str]) -> str:
    lines = [
        "## Managers' figures on a large history (issue 13)",
        "",
        # The command as run: ``nice`` only if it was (the process's niceness).
        f"Command: `{'nice ' if os.nice(0) > 0 else ''}{command_line()}`",
        "",
        f"Machine: {machine_line(info)} **Only 2 cores, shared with other work during the "
        "run** (other sessions' tests and benchmarks): the figures are an upper bound of what "
        "a dedicated machine gives.",
        "",
        "Targets: summary median ≤ 50 ms and p95 ≤ 150 ms (with and without filters); "
        "forecast ≤ 5 s; weekly pack ≤ 30 s. The summary is the client's time over HTTP "
        "(httpx, one connection, `accelerator serve`, one uvicorn worker, "
        f"{args.calls} calls after a warm-up); the naive query is "
        "`percentile_cont(...) WITHIN GROUP` (p50/p85/p90/p95 of held days, elapsed and "
        "business) over the raw `consultation_facts` rows grouped by administration with the "
        f"same filters, run in the bench process ({args.naive_calls} calls); naive ÷ summary = "
        "naive median / summary median (above 1: the whole summary answers faster than the "
        "naive query of one figure).",
        "",
    ]
    for m in results:
        f = m.fill
        lines += [
            f"### {m.backend}",
            "",
            f"Data: {m.counts['dossiers']:,} dossiers, {m.counts['consultations']:,} "
            f"consultations, {m.counts['clocks']:,} clocks, "
            f"{m.counts['consultation_facts']:,} consultation facts; database "
            f"{m.size_mb:,.0f} MB. History generated with seed {args.seed} over "
            f"{args.years:g} years up to {f.now:%Y-%m-%d %H:%M} UTC.",
        ]
        if f.insert_s is None:
            lines.append("Fill: reused (`--reuse`).")
        else:
            assert f.facts_s is not None
            lines.append(
                f"Fill: generated and inserted in {f.insert_s:,.0f} s "
                f"({f.consultations / f.insert_s:,.0f} consultations/s, committed per 5,000 "
                f"dossiers); facts derived by `refresh_batch` in {f.facts_s:,.0f} s "
                f"({f.facts:,} rows, {f.facts / f.facts_s:,.0f} rows/s, committed per batch "
                "of 2,000)."
            )
        lines += [
            "",
            "| `GET /api/v1/metrics/summary` | median ms | p95 ms | target | naive median ms | "
            "naive ÷ summary |",
            "|---|---:|---:|---|---:|---:|",
        ]
        for name, times in m.summary.items():
            median, p95 = statistics.median(times), percentile(times, 0.95)
            ok = median <= SUMMARY_MEDIAN_MS and p95 <= SUMMARY_P95_MS
            naive = m.naive.get(name)
            naive_text = f"{statistics.median(naive):,.0f}" if naive else "n/a"
            ratio = f"{statistics.median(naive) / median:.1f}×" if naive else "n/a"
            lines.append(
                f"| {name} | {median:,.0f} | {p95:,.0f} | {verdict(ok)} | {naive_text} | {ratio} |"
            )
        forecast = statistics.median(m.forecast) / 1000
        lines += [
            "",
            f"- `GET /api/v1/metrics/forecast?limit={MAX_PAGE}`: median {forecast:.2f} s over "
            f"{len(m.forecast)} calls (every one of the {m.open_items:,} open consultations "
            f"not waiting for the holder forecast, the {m.forecast_items:,} likeliest listed): "
            f"target ≤ 5 s {verdict(forecast <= FORECAST_S)}.",
            f"- `accelerator report weekly --week {m.pack_week} --out x.pdf`: {m.pack_s:.1f} s "
            f"({m.pack_bytes / 1000:,.0f} kB PDF, process start included): target ≤ 30 s "
            f"{verdict(m.pack_s <= PACK_S)}.",
            "",
        ]
    if TIMEOUTS:
        lines += [
            f"Calls cut short at {CALL_TIMEOUT_S:.0f} s (counted at that time, their set "
            "stopped): " + "; ".join(f"`{c}`" for c in TIMEOUTS) + ".",
            "",
        ]
    return "\n".join(lines)


def summary_line(results: list[Measured]) -> str:
    parts = []
    for m in results:
        medians = [statistics.median(v) for v in m.summary.values()]
        p95s = [percentile(v, 0.95) for v in m.summary.values()]
        parts.append(
            f"{m.backend} ({m.counts['consultations']:,} consultations): summary median "
            f"{min(medians):,.0f}–{max(medians):,.0f} ms, p95 up to {max(p95s):,.0f} ms; "
            f"forecast {statistics.median(m.forecast) / 1000:.1f} s; pack {m.pack_s:.0f} s"
        )
    return "- Managers' figures (bench_metrics): " + "; ".join(parts) + "."


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=200_000)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--naive-calls", type=int, default=10)
    parser.add_argument("--forecast-calls", type=int, default=3)
    parser.add_argument("--port", type=int, default=8102, help="0: any free port")
    parser.add_argument("--reuse", action="store_true", help="keep a database already filled")
    parser.add_argument("--db-name", default=None, help=f"default: {DB_PREFIX}_<dossiers>")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    parser.add_argument("--sqlite-consultations", type=int, default=100_000)
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    name = args.db_name or f"{DB_PREFIX}_{args.dossiers}"
    if not name.startswith(DB_PREFIX):
        parser.error(f"the database name must start with {DB_PREFIX}")
    info = machine()
    log(f"machine: {info['nproc']} cores (shared with other work), load {info['load']}")
    results: list[Measured] = []

    url, existed = postgres_url(name, fresh=not args.reuse)
    database = Database(url)
    upgrade(url)
    result = filled(database, args.dossiers) if existed else None
    if result is None:
        if existed:
            database.dispose()
            url, _ = postgres_url(name, fresh=True)
            database = Database(url)
            upgrade(url)
        log(f"PostgreSQL: filling {name} with {args.dossiers:,} dossiers over {args.years:g} years")
        result = fill(
            database, HistoryConfig(dossiers=args.dossiers, years=args.years, seed=args.seed)
        )
    else:
        log(f"PostgreSQL: reusing {name}")
    results.append(measure("PostgreSQL", url, database, result, args, None))
    database.dispose()
    if args.drop:
        drop_postgres(name)

    if not args.no_sqlite:
        dossiers = max(20, round(args.sqlite_consultations / CONSULTATIONS_PER_DOSSIER))
        folder = ROOT / "var" / "bench"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}_sqlite_{dossiers}.db"
        sqlite_url = f"sqlite:///{path}"
        lite = Database(sqlite_url)
        lite_result = filled(lite, dossiers) if args.reuse and path.exists() else None
        if lite_result is None:
            lite.dispose()
            path.unlink(missing_ok=True)
            lite = Database(sqlite_url)
            upgrade(sqlite_url)
            log(f"SQLite: filling {path} with {dossiers:,} dossiers")
            lite_result = fill(
                lite, HistoryConfig(dossiers=dossiers, years=args.years, seed=args.seed)
            )
        results.append(measure("SQLite", sqlite_url, lite, lite_result, args, path))
        lite.dispose()
        if args.drop:
            path.unlink(missing_ok=True)

    body = section(results, args, info)
    print("\n" + body)
    print(summary_line(results))
    if not args.no_doc:
        update_section("metrics", body)
        update_section("summary-metrics", summary_line(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
