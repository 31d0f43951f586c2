"""Fan-out latency: from the référent's launch (its 202 answer) to every consultation of the
dossier visible to the agents, on PostgreSQL with Prefect's server on PostgreSQL.

Target (issue 4): p50 ≤ 1 s, p99 ≤ 3 s. Real processes on loopback (tests/system/cluster.py):
Prefect's server, API processes, relays. Two modes are measured:

- ``inline``: relays run the launch flow themselves against Prefect's server (several relays
  share the outbox with SKIP LOCKED);
- ``deployments``: relays submit a deployment run that a process worker executes.

Launches follow each other at ``--rate`` per second (a platform's référents at work), each
measured by polling the database every 20 ms; at the end, every agent checks through the API
that it sees its consultations.

Run: ``.venv/bin/python bench/bench_fanout.py [--launches 200] [--modes inline,deployments]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import command_line, machine, machine_line, percentile, summary, update_section
from sqlalchemy import create_engine, func, select, text

from accelerator.consultations.models import Consultation
from accelerator.dossiers.models import Dossier, ProposedAdministration
from accelerator.identity.models import User
from tests.system.cluster import wait_for
from tests.system.conftest import ADMINISTRATIONS, REFERENTS, agent, start_system
from tests.system.steps import file_dossiers, intake_done, query

TARGET_P50, TARGET_P99 = 1.0, 3.0


def met(stats: dict[str, float]) -> bool:
    """Whether the latencies meet the target."""
    return stats["median"] <= TARGET_P50 and stats["p99"] <= TARGET_P99


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def measure(mode: str, launches: int, rate: float, relays: int) -> dict[str, Any]:
    """Start a cluster in ``mode``, launch ``launches`` dossiers, return the latencies."""
    settings = {"ACCELERATOR_FLOW_MODE": mode}
    workers = 2 if mode == "deployments" else 0
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as workdir:
        started = start_system(Path(workdir), workers=workers, apis=2, relays=relays, **settings)
        system = next(started)
        try:
            log(f"{mode}: cluster up; filing {launches} dossiers")
            ids = file_dossiers(system, launches)
            wait_for(lambda: intake_done(system, ids), 600, "the intake", every=1)
            rows = query(system, select(Dossier.id, Dossier.referent_id).where(Dossier.id.in_(ids)))
            emails = dict(query(system, select(User.id, User.email)))
            clients = {a: [system.client(a, api=i) for i in range(2)] for a in REFERENTS}
            for index, row in enumerate(rows):
                clients[emails[row.referent_id]][index % 2].post(
                    f"/api/v1/dossiers/{row.id}/take-charge"
                )
            expected = dict(
                query(
                    system,
                    select(ProposedAdministration.dossier_id, func.count())
                    .where(ProposedAdministration.dossier_id.in_(ids))
                    .group_by(ProposedAdministration.dossier_id),
                )
            )
            engine = create_engine(system.app_url, pool_size=8)
            latencies: list[float] = []
            lock = threading.Lock()

            def launch(index: int, row: Any) -> None:
                client = clients[emails[row.referent_id]][index % 2]
                client.post(f"/api/v1/dossiers/{row.id}/consultations", 202)
                answered = time.perf_counter()
                count = text("SELECT count(*) FROM consultations WHERE dossier_id = :d")
                with engine.connect() as connection:
                    while True:
                        seen = connection.execute(count, {"d": row.id}).scalar()
                        connection.rollback()
                        if seen == expected[row.id]:
                            break
                        if time.perf_counter() - answered > 120:
                            raise AssertionError(f"fan-out of {row.id} not done after 120 s")
                        time.sleep(0.02)
                with lock:
                    latencies.append(time.perf_counter() - answered)

            log(f"{mode}: launching at {rate}/s")
            began = time.perf_counter()
            with ThreadPoolExecutor(max_workers=32) as pool:
                futures = []
                for index, row in enumerate(rows):
                    time.sleep(max(0.0, began + index / rate - time.perf_counter()))
                    futures.append(pool.submit(launch, index, row))
                for future in futures:
                    future.result()
            engine.dispose()
            # What agents see through the API: every consultation of theirs.
            total = query(
                system, select(func.count(Consultation.id)).where(Consultation.dossier_id.in_(ids))
            )[0][0]
            visible = 0
            for index, code in enumerate(ADMINISTRATIONS):
                visible += len(
                    system.client(agent(code), api=index).get(
                        "/api/v1/consultations", params={"limit": 500}
                    )
                )
            assert visible == total == sum(expected.values()), (visible, total)
            stats = {**summary(latencies), "p99": percentile(latencies, 0.99)}
            log(f"{mode}: p50 {stats['median']:.3f} s, p99 {stats['p99']:.3f} s")
            return {"mode": mode, "launches": len(latencies), "stats": stats,
                    "consultations": total, "relays": relays, "workers": workers}  # fmt: skip
        finally:
            started.close()


def render(results: list[dict[str, Any]], args: argparse.Namespace, info: dict[str, str]) -> str:
    lines = [
        "## Fan-out latency (issue 4)",
        "",
        f"Command: `{command_line()}`",
        "",
        machine_line(info),
        "",
        "From the launch's 202 answer to every consultation of the dossier visible (PostgreSQL, "
        f"Prefect's server on PostgreSQL, 2 API processes); {args.launches} launches at "
        f"{args.rate}/s, about 4 administrations each. Target: p50 ≤ {TARGET_P50:.0f} s, "
        f"p99 ≤ {TARGET_P99:.0f} s.",
        "",
        "| mode | relays | workers | launches | p50 s | p99 s | max s | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        stats = result["stats"]
        lines.append(
            f"| {result['mode']} | {result['relays']} | {result['workers']} | "
            f"{result['launches']} | {stats['median']:.3f} | {stats['p99']:.3f} | "
            f"{stats['max']:.3f} | {'**met**' if met(stats) else 'not met'} |"
        )
    lines += [
        "",
        "`inline`: the relays run the launch flow themselves (one Prefect flow run, one mapped "
        "task per administration). `deployments`: the relay submits a run that a process "
        "worker starts in a new Python process (≈ 2.5 s each, PREFECT.md), so it cannot meet "
        "the target; it is the mode for long or heavy flows (docs/decisions.md).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--launches", type=int, default=200)
    parser.add_argument("--rate", type=float, default=2.0, help="launches per second")
    parser.add_argument("--relays", type=int, default=2)
    parser.add_argument("--modes", default="inline,deployments")
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args()
    info = machine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    results = [
        measure(mode, args.launches, args.rate, args.relays) for mode in args.modes.split(",")
    ]
    if not args.no_doc:
        update_section("fanout", render(results, args, info))
        summary_lines = []
        for result in results:
            stats = result["stats"]
            summary_lines.append(
                f"- Fan-out latency ({result['mode']}): p50 {stats['median']:.2f} s, "
                f"p99 {stats['p99']:.2f} s — {'met' if met(stats) else 'not met'} "
                f"(target p50 ≤ 1 s, p99 ≤ 3 s)."
            )
        update_section("summary-fanout", "\n".join(summary_lines))


if __name__ == "__main__":
    main()
