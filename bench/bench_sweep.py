"""Sweep benchmark: 10,000 due rungs among 1,000,000 clocks on PostgreSQL, within 60 s,
each fired exactly once.

Builds a fresh database (drop/create), migrates it, loads the catalogue, bulk-inserts the
parent rows, the clocks and their 4 rungs with SQL, then:

1. runs the real ``workflows.sweep.sweep_flow`` in a Prefect test server, and verifies;
2. (same server) measures Prefect's own cost: a flow of as many no-op tasks;
3. resets the fired state, runs two ``sweep_flow`` at once in two threads, and verifies;
4. resets and runs the pure domain loop (``sweep_batch`` in repeated transactions, what
   ``sweep_flow`` does without Prefect), and verifies;
5. resets and runs two domain loops at once in two processes, and verifies exactly-once;
6. resets and measures where a few batches of the domain loop spend their time (SQL
   statements and their round-trip time, then a pyinstrument/cProfile profile).

Every timed run also reports the CPU used by this process, its child processes, the
PostgreSQL backends of the bench database and the rest of the machine (from /proc).

Run: ``.venv/bin/python bench/bench_sweep.py [--clocks N] [--due N] [--reuse] [--no-doc]``
"""

from __future__ import annotations

import argparse
import cProfile
import io
import multiprocessing
import os
import pstats
import re
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import (
    ADMIN_URL,
    CpuMeter,
    command_line,
    machine,
    machine_line,
    update_section,
)

DB_NAME = "accelerator_bench"
BENCH_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB_NAME}"
TARGET_SECONDS = 60.0
DUE_KEY = "bench-due:"
OTHER_KEY = "bench:"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def backend_pids() -> set[int]:
    """PIDs of the PostgreSQL backends connected to the bench database (local server)."""
    import psycopg

    with psycopg.connect(
        "host=127.0.0.1 user=postgres dbname=postgres", autocommit=True
    ) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (DB_NAME,)
        ).fetchall()
    return {row[0] for row in rows}


def metered() -> CpuMeter:
    return CpuMeter(extra_pids=backend_pids)


def cpu_of(meter: CpuMeter) -> dict[str, Any]:
    """The CPU split of a finished run, with the busiest other processes."""
    report: dict[str, Any] = dict(meter.report())
    report["top"] = meter.top_others()
    return report


def cpu_text(cpu: dict[str, Any]) -> str:
    top = ", ".join(f"{name[:60]} {seconds:.1f} s" for name, seconds in cpu.get("top", []))
    return (
        f"CPU s: this process {cpu['self']:.1f}, child processes {cpu['children']:.1f}, "
        f"PostgreSQL backends {cpu['extra']:.1f}, other processes {cpu['others']:.1f} "
        f"(wall {cpu['wall']:.1f} s){'; busiest others: ' + top if top else ''}"
    )


# ---------------------------------------------------------------------------------------------
# Setup


def recreate_database() -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {DB_NAME}"))
    admin.dispose()


BULK_TABLES = ("clocks", "clock_rungs")


def schema_of(connection: Any) -> list[tuple[str, str, str, str]]:
    """Constraints and indexes on (or referencing) the bulk-loaded tables, as definitions."""
    from sqlalchemy import text

    tables = ", ".join(f"'{table}'::regclass" for table in BULK_TABLES)
    constraints = connection.execute(
        text(
            "SELECT conrelid::regclass::text, conname, contype::text, pg_get_constraintdef(oid) "
            f"FROM pg_constraint WHERE conrelid IN ({tables}) OR confrelid IN ({tables})"
        )
    ).all()
    indexes = connection.execute(
        text(
            "SELECT indrelid::regclass::text, indexrelid::regclass::text, 'i', "
            "pg_get_indexdef(indexrelid) FROM pg_index "
            f"WHERE indrelid IN ({tables}) AND indexrelid NOT IN "
            "(SELECT conindid FROM pg_constraint WHERE conindid <> 0)"
        )
    ).all()
    return sorted(tuple(row) for row in [*constraints, *indexes])


def drop_schema(connection: Any, schema: list[tuple[str, str, str, str]]) -> None:
    """Drop foreign keys, then keys, then plain indexes (rebuilt once after the bulk load)."""
    from sqlalchemy import text

    for kinds in (("f",), ("p", "u"), ("i",)):
        for table, name, kind, _definition in schema:
            if kind not in kinds:
                continue
            if kind == "i":
                connection.execute(text(f"DROP INDEX {name}"))
            else:
                connection.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {name}"))


def restore_schema(connection: Any, schema: list[tuple[str, str, str, str]]) -> None:
    """Recreate what ``drop_schema`` dropped, from the saved definitions, and check it."""
    from sqlalchemy import text

    connection.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
    for kinds in (("i",), ("p", "u"), ("f",)):
        for table, name, kind, definition in schema:
            if kind not in kinds:
                continue
            if kind == "i":
                connection.execute(text(definition))
            else:
                connection.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"))
    assert schema_of(connection) == schema, "bench schema differs after the bulk load"


def setup(clocks: int, due: int, dossiers: int) -> dict[str, float]:
    """Fresh database with ``clocks`` running clocks, ``due`` of which have one due rung."""
    from sqlalchemy import text

    from accelerator.catalogue.actions import load_catalogue
    from accelerator.migrations.commands import upgrade
    from accelerator.shared.db import get_database, utcnow
    from accelerator.sla.definitions import DEFAULT_RUNGS

    phases: dict[str, float] = {}

    def phase(name: str, action: Callable[[], Any]) -> Any:
        begin = time.perf_counter()
        result = action()
        phases[name] = time.perf_counter() - begin
        log(f"setup: {name} in {phases[name]:.1f} s")
        return result

    phase("drop/create database", recreate_database)
    phase("migrate", lambda: upgrade(BENCH_URL))
    db = get_database(BENCH_URL)

    def catalogue() -> None:
        with db.transaction() as session:
            load_catalogue(session)

    phase("load catalogue", catalogue)
    now = utcnow()
    values_rungs = ", ".join(
        f"('{rung['name']}', {float(rung['fraction'])}::float8)" for rung in DEFAULT_RUNGS
    )
    with db.engine.begin() as connection:
        connection.execute(text("SET LOCAL synchronous_commit = off"))

        def parents() -> None:
            org = connection.execute(
                text(
                    "INSERT INTO organisations (id, name, created_at) "
                    "VALUES (gen_random_uuid(), 'Bench SA', :now) RETURNING id"
                ),
                {"now": now},
            ).scalar_one()
            users = {}
            for email, role, organisation in (
                ("holder@bench.test", "holder", org),
                ("referent@bench.test", "referent", None),
            ):
                users[role] = connection.execute(
                    text(
                        "INSERT INTO users (id, email, name, role, password_hash, "
                        "organisation_id, arrondissements, active, created_at) VALUES "
                        "(gen_random_uuid(), :email, :email, :role, 'x', :org, '[]', true, :now) "
                        "RETURNING id"
                    ),
                    {"email": email, "role": role, "org": organisation, "now": now},
                ).scalar_one()
            connection.execute(
                text(
                    "INSERT INTO dossiers (id, reference, title, description, commune_insee, "
                    "procedures, attributes, organisation_id, created_by_id, calendar_code, "
                    "status, cycle, referent_id, created_at, filed_at, version) "
                    "SELECT gen_random_uuid(), 'BENCH-' || g, 'Dossier ' || g, '', '65440', "
                    "'[\"PC\"]', '{}', :org, :holder, 'FR', 'filed', 1, :referent, :now, :now, 1 "
                    "FROM generate_series(0, :n - 1) AS g"
                ),
                {
                    "org": org,
                    "holder": users["holder"],
                    "referent": users["referent"],
                    "now": now,
                    "n": dossiers,
                },
            )
            connection.execute(
                text(
                    "CREATE TEMP TABLE bench_dossiers AS SELECT substr(reference, 7)::int AS n, "
                    "id FROM dossiers WHERE reference LIKE 'BENCH-%'"
                )
            )

        phase(f"organisation, 2 users, {dossiers} dossiers", parents)
        schema = schema_of(connection)
        phase(
            f"drop {len(schema)} indexes and constraints of clocks and clock_rungs",
            lambda: drop_schema(connection, schema),
        )

        # Due clocks: anchored 13 h ago (give or take 10 min): only the 50 % rung is due.
        # The others: anchored between 6 h ago and 30 days ahead: no rung due for >= 6 h.
        phase(
            f"insert {clocks:,} clocks",
            lambda: connection.execute(
                text(
                    "INSERT INTO clocks (id, key, kind, dossier_id, calendar_code, "
                    "calendar_version, definition_code, definition_version, anchor_at, "
                    "budget_amount, budget_unit, prorogation, pause_effect, due_at, state, "
                    "stopped_at, next_rung_at) "
                    "SELECT gen_random_uuid(), "
                    "  CASE WHEN g <= :due THEN :due_key ELSE :other_key END || g, "
                    "  'take_charge', d.id, 'FR', 1, 'take_charge', 1, a.anchor, 24, 'hours', "
                    "  false, NULL, a.anchor + interval '24 hours', 'running', NULL, "
                    "  a.anchor + interval '12 hours' "
                    "FROM generate_series(1, :clocks) AS g "
                    "JOIN bench_dossiers AS d ON d.n = g % :dossiers "
                    "CROSS JOIN LATERAL (SELECT CASE WHEN g <= :due "
                    "  THEN CAST(:now AS timestamptz) - interval '13 hours' "
                    "       - (g % 600) * interval '1 second' "
                    "  ELSE CAST(:now AS timestamptz) - interval '6 hours' "
                    "       + (g % 43200) * interval '1 minute' END AS anchor) AS a"
                ),
                {
                    "due": due,
                    "clocks": clocks,
                    "dossiers": dossiers,
                    "now": now,
                    "due_key": DUE_KEY,
                    "other_key": OTHER_KEY,
                },
            ),
        )
        phase(
            f"insert {4 * clocks:,} rungs",
            lambda: connection.execute(
                text(
                    "INSERT INTO clock_rungs (id, clock_id, name, fraction, due_at, fired_at) "
                    "SELECT gen_random_uuid(), c.id, r.name, r.fraction, "
                    "  c.anchor_at + r.fraction * interval '24 hours', NULL "
                    f"FROM clocks AS c CROSS JOIN (VALUES {values_rungs}) AS r(name, fraction)"
                )
            ),
        )
        phase(
            "recreate the indexes and constraints (checked identical)",
            lambda: restore_schema(connection, schema),
        )
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        phase("VACUUM ANALYZE", lambda: connection.execute(text("VACUUM ANALYZE")))
    return phases


def due_now() -> dict[str, int]:
    """What is due before a sweep, from SQL."""
    from sqlalchemy import text

    from accelerator.shared.db import get_database

    with get_database(BENCH_URL).engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT (SELECT count(*) FROM clocks), "
                "(SELECT count(*) FROM clock_rungs), "
                "(SELECT count(*) FROM clocks WHERE next_rung_at <= now() AND state = 'running'), "
                "(SELECT count(*) FROM clock_rungs WHERE due_at <= now() AND fired_at IS NULL)"
            )
        ).one()
    return {"clocks": row[0], "rungs": row[1], "due_clocks": row[2], "due_rungs": row[3]}


def reset() -> float:
    """Unfire every rung, restore the due clocks, delete what the sweeps wrote."""
    from sqlalchemy import text

    from accelerator.shared.db import get_database

    begin = time.perf_counter()
    engine = get_database(BENCH_URL).engine
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE clock_rungs SET fired_at = NULL WHERE fired_at IS NOT NULL")
        )
        connection.execute(
            text(
                "UPDATE clocks SET next_rung_at = anchor_at + interval '12 hours' "
                "WHERE key LIKE :due_key AND next_rung_at IS DISTINCT FROM "
                "anchor_at + interval '12 hours'"
            ),
            {"due_key": DUE_KEY + "%"},
        )
        # The bench database holds no other history nor outbox rows (checked by verify()).
        connection.execute(text("DELETE FROM history_entries WHERE event LIKE 'rung_%'"))
        connection.execute(text("DELETE FROM outbox_messages WHERE dedupe_key LIKE 'rung:%'"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(
            text("VACUUM ANALYZE clocks, clock_rungs, history_entries, outbox_messages")
        )
    seconds = time.perf_counter() - begin
    log(f"reset in {seconds:.1f} s")
    return seconds


# ---------------------------------------------------------------------------------------------
# Verification


def verify(expected: int) -> dict[str, Any]:
    """Exactly ``expected`` rungs fired, each once, all 50 % rungs of the due clocks only."""
    from sqlalchemy import text

    from accelerator.shared.db import get_database

    queries = {
        "rungs fired": "SELECT count(*) FROM clock_rungs WHERE fired_at IS NOT NULL",
        "fired rungs of due clocks, 50 %": (
            "SELECT count(*) FROM clock_rungs r JOIN clocks c ON c.id = r.clock_id "
            "WHERE r.fired_at IS NOT NULL AND r.name = 'reminder_50' AND c.key LIKE :due_key"
        ),
        "fired rungs elsewhere (must be 0)": (
            "SELECT count(*) FROM clock_rungs r JOIN clocks c ON c.id = r.clock_id "
            "WHERE r.fired_at IS NOT NULL AND (r.name <> 'reminder_50' OR c.key NOT LIKE :due_key)"
        ),
        "history rows rung_%": "SELECT count(*) FROM history_entries WHERE event LIKE 'rung_%'",
        "history rows, any event": "SELECT count(*) FROM history_entries",
        "outbox messages, any topic": "SELECT count(*) FROM outbox_messages",
        "distinct (clock, rung) in history": (
            "SELECT count(DISTINCT (details->>'clock_id', event)) FROM history_entries "
            "WHERE event LIKE 'rung_%'"
        ),
        "fired rungs with exactly one history row": (
            "SELECT count(*) FROM clock_rungs r JOIN (SELECT details->>'clock_id' AS clock, "
            "event, count(*) AS n FROM history_entries WHERE event LIKE 'rung_%' "
            "GROUP BY 1, 2) h ON h.clock = r.clock_id::text AND h.event = 'rung_' || r.name "
            "WHERE r.fired_at IS NOT NULL AND h.n = 1"
        ),
        "outbox messages rung:%": (
            "SELECT count(*) FROM outbox_messages WHERE dedupe_key LIKE 'rung:%'"
        ),
        "clocks still due (must be 0)": (
            "SELECT count(*) FROM clocks WHERE next_rung_at <= now() AND state = 'running'"
        ),
        "due clocks moved to their 75 % rung": (
            "SELECT count(*) FROM clocks WHERE key LIKE :due_key "
            "AND next_rung_at = anchor_at + interval '18 hours'"
        ),
    }
    expect = {
        "rungs fired": expected,
        "fired rungs of due clocks, 50 %": expected,
        "fired rungs elsewhere (must be 0)": 0,
        "history rows rung_%": expected,
        "history rows, any event": expected,
        "outbox messages, any topic": expected,
        "distinct (clock, rung) in history": expected,
        "fired rungs with exactly one history row": expected,
        "outbox messages rung:%": expected,
        "clocks still due (must be 0)": 0,
        "due clocks moved to their 75 % rung": expected,
    }
    found: dict[str, int] = {}
    with get_database(BENCH_URL).engine.connect() as connection:
        for label, sql in queries.items():
            found[label] = int(
                connection.execute(text(sql), {"due_key": DUE_KEY + "%"}).scalar_one()
            )
    ok = all(found[label] == expect[label] for label in expect)
    for label, value in found.items():
        mark = "ok" if value == expect[label] else f"FAIL (expected {expect[label]})"
        log(f"  verify: {label}: {value} {mark}")
    return {"ok": ok, "found": found, "expect": expect}


# ---------------------------------------------------------------------------------------------
# Runs


def domain_loop(batch: int, *, tag: str = "domain") -> dict[str, Any]:
    """``sweep_batch`` in repeated transactions until a batch fires nothing (as the flow)."""
    from accelerator.shared.db import get_database, utcnow
    from accelerator.sweep.actions import sweep_batch

    db = get_database(BENCH_URL)
    total, sizes, times = 0, [], []
    begin = time.perf_counter()
    cpu = time.process_time()
    while True:
        started = time.perf_counter()
        with db.transaction() as session:
            fired = len(sweep_batch(session, now=utcnow(), limit=batch))
        times.append(time.perf_counter() - started)
        total += fired
        sizes.append(fired)
        if len(sizes) % 5 == 0 or fired == 0:
            log(f"  {tag}: batch {len(sizes)}: {total} fired, {time.perf_counter() - begin:.1f} s")
        if fired == 0:
            break
    return {
        "seconds": time.perf_counter() - begin,
        "cpu": time.process_time() - cpu,
        "fired": total,
        "batches": len(sizes),
        "sizes": sizes,
        "batch_seconds": times,
    }


def _process_worker(batch: int, barrier: Any, results: Any, index: int) -> None:
    from accelerator.shared.db import get_database, set_default_database_url

    set_default_database_url(BENCH_URL)
    with get_database(BENCH_URL).engine.connect():
        pass  # open the pool before the start line
    barrier.wait()
    outcome = domain_loop(batch, tag=f"process {index}")
    outcome["pid"] = os.getpid()
    results.put(outcome)


def concurrent_processes(batch: int, workers: int = 2) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers + 1)
    results = context.Queue()
    processes = [
        context.Process(target=_process_worker, args=(batch, barrier, results, index))
        for index in range(workers)
    ]
    for process in processes:
        process.start()
    barrier.wait()
    with metered() as meter:
        outcomes = [results.get(timeout=900) for _ in processes]
    for process in processes:
        process.join()
    return {
        "seconds": meter.wall,
        "cpu": cpu_of(meter),
        "fired": sum(o["fired"] for o in outcomes),
        "per_worker": [(o["fired"], o["batches"], round(o["seconds"], 1)) for o in outcomes],
    }


def _noop_flow() -> Callable[[int], int]:
    from prefect import flow, task

    @task(name="bench-noop-batch")
    def noop_once(limit: int = 500) -> int:
        return 0

    @flow(name="bench-noop", log_prints=True)
    def noop_flow(tasks: int) -> int:
        total = 0
        for _ in range(tasks):
            total += noop_once(500)
        return total

    return noop_flow


def prefect_runs(batch: int, expected: int, *, threads: bool) -> dict[str, Any]:
    """The real flow once, Prefect's own cost, then two flows at once in two threads."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    from workflows.sweep import sweep_flow

    out: dict[str, Any] = {}
    begin = time.perf_counter()
    with (
        temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
        prefect_test_harness(server_startup_timeout=120),
    ):
        out["harness_seconds"] = time.perf_counter() - begin
        log(f"Prefect test server up in {out['harness_seconds']:.1f} s")
        log(f"[1] sweep_flow(batch={batch}) ...")
        with metered() as meter:
            fired = sweep_flow(batch=batch)
        out["flow"] = {"seconds": meter.wall, "fired": fired, "cpu": cpu_of(meter)}
        log(f"[1] sweep_flow fired {fired} in {meter.wall:.1f} s; {cpu_text(cpu_of(meter))}")
        out["flow"]["verify"] = verify(expected)

        tasks = -(-expected // batch) + 1
        log(f"[2] Prefect's own cost: a flow of {tasks} no-op tasks ...")
        noop_flow = _noop_flow()
        with metered() as meter:
            noop_flow(tasks)
        out["noop"] = {"seconds": meter.wall, "tasks": tasks, "cpu": cpu_of(meter)}
        log(f"[2] {tasks} no-op tasks in {meter.wall:.1f} s; {cpu_text(cpu_of(meter))}")

        if threads:
            reset()
            log("[3] two sweep_flow at once in two threads ...")
            results: list[Any] = [None, None]
            start_line = threading.Barrier(2)

            def run(index: int) -> None:
                start_line.wait()
                try:
                    results[index] = sweep_flow(batch=batch)
                except BaseException as error:
                    results[index] = error

            workers = [threading.Thread(target=run, args=(i,)) for i in range(2)]
            with metered() as meter:
                for worker in workers:
                    worker.start()
                for worker in workers:
                    worker.join()
            errors = [r for r in results if isinstance(r, BaseException)]
            out["threads"] = {
                "seconds": meter.wall,
                "cpu": cpu_of(meter),
                "fired": sum(r for r in results if isinstance(r, int)),
                "per_worker": [r if isinstance(r, int) else repr(r) for r in results],
                "errors": [repr(e) for e in errors],
            }
            log(
                f"[3] threads: fired {out['threads']['per_worker']} in {meter.wall:.1f} s; "
                f"{cpu_text(cpu_of(meter))}"
            )
            out["threads"]["verify"] = verify(expected)
    return out


def where_time_goes(batch: int, batches: int) -> dict[str, Any]:
    """SQL statements and their round-trip time over ``batches`` batches, then a profile."""
    from sqlalchemy import event

    from accelerator.shared.db import get_database, utcnow
    from accelerator.sweep.actions import sweep_batch

    db = get_database(BENCH_URL)
    statements: dict[str, list[float]] = {}
    starts: dict[int, float] = {}

    def before(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        starts[id(cursor)] = time.perf_counter()

    def after(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        elapsed = time.perf_counter() - starts.pop(id(cursor), time.perf_counter())
        entry = statements.setdefault(_statement_kind(statement), [0, 0.0])
        entry[0] += 1
        entry[1] += elapsed

    event.listen(db.engine, "before_cursor_execute", before)
    event.listen(db.engine, "after_cursor_execute", after)
    fired = 0
    try:
        with metered() as meter:
            for _ in range(batches):
                with db.transaction() as session:
                    fired += len(sweep_batch(session, now=utcnow(), limit=batch))
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
        event.remove(db.engine, "after_cursor_execute", after)
    sql_seconds = sum(entry[1] for entry in statements.values())
    count = sum(entry[0] for entry in statements.values())
    out: dict[str, Any] = {
        "fired": fired,
        "seconds": meter.wall,
        "cpu": cpu_of(meter),
        "sql_seconds": sql_seconds,
        "statements": {
            kind: (int(entry[0]), entry[1])
            for kind, entry in sorted(statements.items(), key=lambda item: -item[1][0])
        },
        "statements_per_rung": count / fired if fired else 0.0,
    }
    log(
        f"[6] {fired} rungs in {meter.wall:.1f} s: {count} SQL statements "
        f"({out['statements_per_rung']:.1f} per rung) taking {sql_seconds:.1f} s in "
        f"cursor.execute; {cpu_text(cpu_of(meter))}"
    )
    for kind, (number, seconds) in out["statements"].items():
        print(f"    {number:7d}  {seconds:6.2f} s  {kind}")

    # One more batch under a profiler, for the shape of the Python time.
    try:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001)
        profiler.start()
        with db.transaction() as session:
            sweep_batch(session, now=utcnow(), limit=batch)
        profiler.stop()
        out["profile"] = _trim_tree(profiler.output_text(unicode=True, color=False, show_all=False))
        out["profiler"] = "pyinstrument"
    except ImportError:
        profile = cProfile.Profile()
        profile.enable()
        with db.transaction() as session:
            sweep_batch(session, now=utcnow(), limit=batch)
        profile.disable()
        text_out = io.StringIO()
        pstats.Stats(profile, stream=text_out).sort_stats("cumulative").print_stats(25)
        out["profile"] = text_out.getvalue()
        out["profiler"] = "cProfile"
    print(out["profile"])
    return out


def _statement_kind(statement: str) -> str:
    words = statement.split()
    if not words:
        return "?"
    verb = words[0].upper()
    if verb == "SELECT":
        match = re.search(r"\sFROM\s+(\S+)", statement, re.IGNORECASE)
        lock = " FOR UPDATE SKIP LOCKED" if "SKIP LOCKED" in statement.upper() else ""
        return f"SELECT … FROM {match.group(1) if match else '?'}{lock}"
    if verb == "INSERT":
        return " ".join(words[:3])
    if verb == "UPDATE":
        return f"UPDATE {words[1]}"
    return verb


def _trim_tree(text: str, lines: int = 45) -> str:
    kept = [line.rstrip() for line in text.splitlines() if line.strip()]
    kept = [
        line
        for line in kept
        if not line.lstrip().startswith(("_ ", "/_", "/ ", "Profile at", "Recorded:"))
    ]
    return "\n".join(kept[:lines])


# ---------------------------------------------------------------------------------------------
# Report


def render(results: dict[str, Any], args: argparse.Namespace, info: dict[str, str]) -> str:
    due = args.due
    setup_phases = results.get("setup") or {}
    setup_total = sum(setup_phases.values())
    lines = [
        "## Sweep of due rungs on PostgreSQL (`bench/bench_sweep.py`)",
        "",
        f"Target: a sweep of {due:,} due rungs among {args.clocks:,} clocks completes within "
        f"{TARGET_SECONDS:.0f} s on PostgreSQL, each rung fired exactly once.",
        "",
        f"Command: `{command_line()}`  ",
        f"Machine: {machine_line(info)}",
        "",
        f"Data: {args.clocks:,} running `take_charge` clocks (24 `hours`, FR v1), "
        f"{4 * args.clocks:,} rungs (50/75/100/125 %), {args.dossiers:,} dossiers; {due:,} clocks "
        "anchored ≈ 13 h ago so that exactly their 50 % rung is due, all others anchored from "
        "6 h ago to 30 days ahead (nothing due). Inserted with `INSERT … SELECT … "
        f"generate_series`, then `VACUUM ANALYZE`. Batch size {args.batch} (the flow's default). "
        f"Due before the first run (SQL): {_before_text(results.get('before', {}))}; before "
        "each later run the fired "
        "state is reset (rungs unfired, next_rung_at restored, history and outbox rows of the "
        "rungs deleted, `VACUUM ANALYZE`).",
        "",
    ]
    if setup_phases:
        lines += [
            "Setup: "
            + "; ".join(f"{name} {seconds:.1f} s" for name, seconds in setup_phases.items())
            + f"; total {setup_total:.1f} s.",
            "",
        ]
    lines += [
        "| run | wall time | rungs fired | rungs/s | CPU s: bench process / its children / "
        "PG backends / other processes | exactly-once checks |",
        "|---|---|---|---|---|---|",
    ]

    def row(label: str, run: dict[str, Any] | None) -> None:
        if not run:
            return
        rate = run["fired"] / run["seconds"] if run["seconds"] else 0
        checks = run.get("verify", {})
        verdict = "all pass" if checks.get("ok") else _failed(checks)
        cpu = run.get("cpu")
        cpu_cell = (
            f"{cpu['self']:.0f} / {cpu['children']:.0f} / {cpu['extra']:.0f} / {cpu['others']:.0f}"
            if isinstance(cpu, dict)
            else "–"
        )
        lines.append(
            f"| {label} | {run['seconds']:.1f} s | {run['fired']:,} | {rate:,.0f} | {cpu_cell} | "
            f"{verdict} |"
        )

    prefect = results.get("prefect") or {}
    row("`sweep_flow` (real Prefect test server)", prefect.get("flow"))
    row("2 `sweep_flow` at once, 2 threads, one Prefect server", prefect.get("threads"))
    row("domain loop only (`sweep_batch` per transaction, no Prefect)", results.get("domain"))
    row("2 domain loops at once, 2 processes", results.get("processes"))
    lines.append("")
    notes = []
    if prefect.get("harness_seconds") is not None:
        notes.append(
            f"Prefect test server start-up (not counted above): {prefect['harness_seconds']:.1f} s."
        )
    if prefect.get("noop"):
        noop = prefect["noop"]
        notes.append(
            f"Prefect's own cost: a flow of {noop['tasks']} no-op tasks (as many task runs as the "
            f"sweep) takes {noop['seconds']:.1f} s."
        )
    domain = results.get("domain")
    if domain and domain.get("batch_seconds"):
        times = [t for t, n in zip(domain["batch_seconds"], domain["sizes"], strict=True) if n]
        notes.append(
            f"Domain loop: {len(times)} batches of {args.batch}, {min(times):.1f}–"
            f"{max(times):.1f} s each (first {times[0]:.1f} s, last {times[-1]:.1f} s), "
            f"{1000 * domain['seconds'] / max(domain['fired'], 1):.1f} ms per fired rung."
        )
    if results.get("processes"):
        notes.append(
            f"Two processes, (fired, batches, seconds) each: {results['processes']['per_worker']}."
        )
    if prefect.get("threads"):
        notes.append(f"Two threads, fired by each flow: {prefect['threads']['per_worker']}.")
    lines += [" ".join(notes), ""]
    busy = []
    for label, run in (
        ("`sweep_flow`", prefect.get("flow")),
        ("2 flows", prefect.get("threads")),
        ("domain loop", domain),
        ("2 processes", results.get("processes")),
    ):
        cpu = (run or {}).get("cpu") or {}
        top = cpu.get("top") or []
        if top and cpu.get("others", 0) >= 1:
            busy.append(f"{label} {cpu['others']:.0f} s (mostly `{_short(top[0][0])}`)")
    if busy:
        lines += [
            "The machine is shared: CPU used by other processes during the runs: "
            + ", ".join(busy)
            + ". On 2 cores this slows the benchmark; the CPU columns show what it used itself.",
            "",
        ]
    flow = prefect.get("flow") or results.get("domain")
    runs = (prefect.get("flow"), prefect.get("threads"), domain, results.get("processes"))
    exactly_once = all(run.get("verify", {}).get("ok") for run in runs if run)
    met = False
    if flow:
        within = flow["seconds"] <= TARGET_SECONDS
        met = within and exactly_once
        measured = "`sweep_flow`" if prefect.get("flow") else "the domain loop"
        if (args.clocks, args.due) != (1_000_000, 10_000):
            lines.append(
                "Reduced size: these figures do not measure the target (1,000,000 clocks, "
                "10,000 due rungs)."
            )
        lines.append(
            f"Verdict: **{'met' if within and exactly_once else 'not met'}** — {measured} took "
            f"{flow['seconds']:.1f} s for {flow['fired']:,} rungs (target ≤ "
            f"{TARGET_SECONDS:.0f} s: {'met' if within else 'NOT met'}); exactly-once: "
            f"{'verified in every run' if exactly_once else 'FAILED (see table)'}."
        )
    prof = results.get("where")
    if prof:
        cpu = prof["cpu"]
        calls = sum(number for number, _seconds in prof["statements"].values())
        batches = max(args.profile_batches, 1)
        lines += [
            "",
            f"Where the time goes (domain loop, {batches} batches, {prof['fired']:,} rungs, "
            f"{prof['seconds']:.1f} s): {calls / batches:.0f} SQL executions per batch "
            "(an `executemany` counts once), "
            f"{prof['sql_seconds']:.1f} s inside them "
            f"({100 * prof['sql_seconds'] / prof['seconds']:.0f} % of the wall time, round trips "
            f"and server work); the bench process used {cpu['self']:.1f} s of CPU "
            f"({1000 * cpu['self'] / max(prof['fired'], 1):.2f} ms per rung), the PostgreSQL "
            f"backends {cpu['extra']:.1f} s.",
        ]
        if not met:
            lines += [
                "",
                "| SQL execution | count | per fired rung | time inside |",
                "|---|---|---|---|",
                *[
                    f"| `{kind}` | {number:,} | {number / max(prof['fired'], 1):.2f} | "
                    f"{seconds:.2f} s |"
                    for kind, (number, seconds) in prof["statements"].items()
                ],
                "",
                f"One more batch of {args.batch} under {prof['profiler']}:",
                "",
                "```",
                prof["profile"],
                "```",
            ]
    return "\n".join(lines)


def summary_line(results: dict[str, Any], args: argparse.Namespace, info: dict[str, str]) -> str:
    """One bullet for the summary at the top of docs/benchmarks.md."""
    prefect = results.get("prefect") or {}
    flow = prefect.get("flow") or results.get("domain")
    if not flow:
        return "- Sweep: not measured."
    runs = [
        run
        for run in (
            prefect.get("flow"),
            prefect.get("threads"),
            results.get("domain"),
            results.get("processes"),
        )
        if run
    ]
    exactly_once = all(run.get("verify", {}).get("ok") for run in runs)
    met = flow["seconds"] <= TARGET_SECONDS and exactly_once
    name = "`sweep_flow`" if prefect.get("flow") else "domain loop"
    size = (
        ""
        if (args.clocks, args.due) == (1_000_000, 10_000)
        else f" (REDUCED SIZE: {args.due:,} among {args.clocks:,})"
    )
    return (
        f"- Sweep of 10,000 due rungs among 1,000,000 clocks in ≤ 60 s, each exactly once: "
        f"{name} {flow['seconds']:.1f} s{size}, exactly-once "
        f"{'verified' if exactly_once else 'FAILED'} in {len(runs)} runs (1 or 2 sweeps) "
        f"({'met' if met else '**not met**'}). [{info['date'][:10]}]"
    )


def _before_text(before: dict[str, int]) -> str:
    if not before:
        return "not measured"
    return (
        f"{before['clocks']:,} clocks, {before['rungs']:,} rungs, {before['due_clocks']:,} "
        f"clocks with a due rung, {before['due_rungs']:,} due unfired rungs"
    )


def _short(command: str) -> str:
    words = command.split()
    for marker in ("-m", "bin/python", "bin/python3"):
        if marker in words and words.index(marker) + 1 < len(words):
            return " ".join(words[words.index(marker) + 1 : words.index(marker) + 2])
    return words[0].rsplit("/", 1)[-1] if words else "?"


def _failed(checks: dict[str, Any]) -> str:
    if not checks:
        return "not run"
    failures = [
        f"{label}: {checks['found'][label]} ≠ {checks['expect'][label]}"
        for label in checks["expect"]
        if checks["found"][label] != checks["expect"][label]
    ]
    return "FAILED: " + "; ".join(failures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clocks", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--dossiers", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--reuse", action="store_true", help="keep the existing bench database")
    parser.add_argument("--no-prefect", action="store_true")
    parser.add_argument("--no-concurrent", action="store_true")
    parser.add_argument("--profile-batches", type=int, default=2)
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args()

    os.environ["ACCELERATOR_DATABASE_URL"] = BENCH_URL
    from accelerator.shared.db import set_default_database_url

    set_default_database_url(BENCH_URL)
    info = machine()
    log(f"Machine: {machine_line(info)}")
    overall = time.perf_counter()
    results: dict[str, Any] = {}
    if not args.reuse:
        results["setup"] = setup(args.clocks, args.due, args.dossiers)
    else:
        log(f"reusing {DB_NAME}")
        reset()
    results["before"] = due_now()
    log(f"before the sweep: {results['before']}")

    if not args.no_prefect:
        results["prefect"] = prefect_runs(args.batch, args.due, threads=not args.no_concurrent)
        reset()
    log(f"[4] domain loop, batch {args.batch} ...")
    with metered() as meter:
        results["domain"] = domain_loop(args.batch)
    results["domain"]["cpu"] = cpu_of(meter)
    log(
        f"[4] domain loop fired {results['domain']['fired']} in {meter.wall:.1f} s; "
        f"{cpu_text(cpu_of(meter))}"
    )
    results["domain"]["verify"] = verify(args.due)
    if not args.no_concurrent:
        reset()
        log("[5] two domain loops at once, two processes ...")
        results["processes"] = concurrent_processes(args.batch)
        log(
            f"[5] processes: {results['processes']['per_worker']}, "
            f"{results['processes']['seconds']:.1f} s; {cpu_text(results['processes']['cpu'])}"
        )
        results["processes"]["verify"] = verify(args.due)
    if args.profile_batches:
        reset()
        log(f"[6] where the time goes, {args.profile_batches} batches ...")
        results["where"] = where_time_goes(args.batch, args.profile_batches)
    log(f"total run time {time.perf_counter() - overall:.0f} s")
    if not args.no_doc:
        update_section("sweep", render(results, args, info))
        update_section("summary-sweep", summary_line(results, args, info))


if __name__ == "__main__":
    main()
