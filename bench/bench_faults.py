"""Fault rounds, many times: kill -9 of an API process, a relay, a worker and Prefect's server
at random moments while dossiers are filed and consultations launched; after convergence,
count what was lost or doubled (tests/system/faults.py). The CI test runs two rounds; this runs
a hundred for the figure in docs/benchmarks.md.

Each round's result is appended to ``--results`` (JSON lines) as it ends, so a long run that is
interrupted still leaves its figures; ``--resume`` goes on from there.

Run: ``.venv/bin/python bench/bench_faults.py [--rounds 100] [--dossiers 6] [--seed 1]``
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import ROOT, command_line, machine, machine_line, summary, update_section

from tests.system.conftest import start_system
from tests.system.faults import FAULT_SETTINGS, RoundResult, fault_round
from tests.system.steps import subscribe

#: Rounds per cluster: a fresh cluster now and then bounds the databases' growth.
ROUNDS_PER_CLUSTER = 25
COUNTERS = (
    "lost_dossiers",
    "missing_consultations",
    "doubled_consultations",
    "lost_emails",
    "lost_webhooks",
    "bad_signatures",
    "duplicate_emails",
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(args: argparse.Namespace, results: Path) -> list[dict[str, Any]]:
    done = [json.loads(line) for line in results.read_text().splitlines()] if args.resume else []
    if not args.resume:
        results.write_text("")
    rng = random.Random(args.seed * 1000 + len(done))  # a resumed run draws new plans
    number = len(done)
    while number < args.rounds:
        with tempfile.TemporaryDirectory(prefix="bench-faults-") as workdir:
            started = start_system(Path(workdir), **FAULT_SETTINGS)
            system = next(started)
            try:
                secrets = subscribe(system)
                for _ in range(min(ROUNDS_PER_CLUSTER, args.rounds - number)):
                    try:
                        result = fault_round(system, rng, number, args.dossiers, secrets)
                    except AssertionError as error:  # did not converge in time: say so
                        record = {
                            **dataclasses.asdict(RoundResult(dossiers=args.dossiers)),
                            "round": number, "clean": False, "converged": False,
                            "error": str(error).splitlines()[0],
                        }  # fmt: skip
                        with results.open("a") as out:
                            out.write(json.dumps(record) + "\n")
                        done.append(record)
                        log(f"round {number}: DID NOT CONVERGE: {record['error']}")
                        kept = results.parent / "bench-faults-logs" / f"round-{number}"
                        shutil.copytree(workdir, kept, dirs_exist_ok=True)
                        log(f"its processes' logs: {kept}")
                        number += 1
                        break  # a fresh cluster for the next round
                    record = {**dataclasses.asdict(result), "round": number, "clean": result.clean}
                    with results.open("a") as out:
                        out.write(json.dumps(record) + "\n")
                    done.append(record)
                    log(
                        f"round {number}: {'clean' if result.clean else 'NOT CLEAN'} in "
                        f"{result.seconds:.0f} s, kills {result.kills}"
                    )
                    number += 1
            finally:
                started.close()
    return done


def render(done: list[dict[str, Any]], args: argparse.Namespace, info: dict[str, str]) -> str:
    clean = sum(1 for r in done if r["clean"])
    totals = {name: sum(r[name] for r in done) for name in COUNTERS}
    seconds = summary([r["seconds"] for r in done])
    lines = [
        "## Faults: kill -9 and restart (issue 4)",
        "",
        f"Command: `{command_line()}`",
        "",
        machine_line(info),
        "",
        f"{len(done)} rounds of the {args.rounds} asked (seed {args.seed}), "
        f"{args.dossiers} dossiers each on a cluster of "
        "real processes (PostgreSQL, Prefect's server on PostgreSQL, 2 API processes, 2 relays, "
        "2 process workers, an SMTP server, an HTTP receiver). In each round an API process, a "
        "relay, a worker and Prefect's server are each killed with SIGKILL at a random moment "
        "of the first 20 s and restarted 0.2–3 s later, while holders file (retrying with the "
        "same Idempotency-Key on the other API process) and référents launch consultations. "
        f"Settings: {', '.join(f'`{k}={v}`' for k, v in FAULT_SETTINGS.items())}.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| rounds converged with nothing lost or doubled | **{clean} / {len(done)}** |",
        f"| rounds that did not converge within 5 minutes | "
        f"{sum(1 for r in done if r.get('converged') is False)} |",
        f"| dossiers filed | {sum(r['dossiers'] for r in done)} |",
        f"| consultations created | {sum(r['consultations'] for r in done)} |",
    ]
    labels = {
        "lost_dossiers": "dossiers lost",
        "missing_consultations": "consultations missing",
        "doubled_consultations": "consultations doubled",
        "lost_emails": "e-mails lost",
        "lost_webhooks": "webhooks lost",
        "bad_signatures": "webhooks with a bad signature",
        "duplicate_emails": "e-mails received twice (at least once is the contract)",
    }
    lines += [f"| {labels[name]} | {totals[name]} |" for name in COUNTERS]
    lines.append(
        f"| time to converge, per round | median {seconds['median']:.0f} s, "
        f"max {seconds['max']:.0f} s |"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--dossiers", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--results", type=Path, default=ROOT / "var" / "bench-faults.jsonl")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument(
        "--report-only", action="store_true", help="write the doc from --results, run nothing"
    )
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args()
    args.results.parent.mkdir(parents=True, exist_ok=True)
    info = machine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    if args.report_only:
        done = [json.loads(line) for line in args.results.read_text().splitlines()]
    else:
        done = run(args, args.results)
    clean = sum(1 for r in done if r["clean"])
    log(f"{clean} / {len(done)} rounds clean")
    if not args.no_doc:
        update_section("faults", render(done, args, info))
        update_section(
            "summary-faults",
            f"- kill -9 fault rounds: {clean} / {len(done)} converged with 0 dossiers lost, "
            "0 consultations missing or doubled, 0 notifications lost.",
        )


if __name__ == "__main__":
    main()
