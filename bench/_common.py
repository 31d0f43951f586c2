"""Shared helpers of the benchmarks: machine description, statistics, docs/benchmarks.md."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"

#: Maintenance database of the local PostgreSQL (trust auth).
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

DOC_HEADER = """# Benchmarks

Performance targets of the issue, measured by the scripts in `bench/`. Each script rewrites its
own section below (between its `bench:` markers); the text outside the markers is written by
hand. Figures are from one machine and one run: they vary by a few percent between runs.
"""


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def postgres_version(url: str | None = None) -> str:
    """``SELECT version()`` of the server at ``url`` (short form), or 'n/a'."""
    if url is None:
        return "n/a"
    try:
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.connect() as connection:
            version = str(connection.execute(text("SHOW server_version")).scalar())
        engine.dispose()
        return f"PostgreSQL {version}"
    except Exception as error:  # noqa: BLE001 - best effort description
        return f"n/a ({error.__class__.__name__})"


def git_state() -> str:
    """The commit measured, and whether product files had uncommitted changes."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout

    commit = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    dirty = [
        line[3:]
        for line in git("status", "--porcelain", "--", "accelerator", "workflows").splitlines()
        if line.strip()
    ]
    if dirty:
        return f"commit {commit} + uncommitted changes in {', '.join(dirty)}"
    return f"commit {commit} (clean)"


def machine(pg_url: str | None = None) -> dict[str, str]:
    """What the figures were measured on."""
    return {
        "nproc": subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip(),
        "arch": platform.machine(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "postgresql": postgres_version(pg_url or os.environ.get("BENCH_PG_ADMIN_URL", ADMIN_URL)),
        "git": git_state(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def machine_line(info: dict[str, str]) -> str:
    """One markdown line describing the machine."""
    return (
        f"`nproc` = {info['nproc']}, `uname -m` = {info['arch']}, CPU: {info['cpu']}, "
        f"Python {info['python']}, {info['postgresql']}; code: {info['git']}; run on {info['date']}."
    )


def command_line() -> str:
    """The command that ran this script, relative to the project root."""
    script = Path(sys.argv[0]).resolve()
    try:
        script_text = str(script.relative_to(ROOT))
    except ValueError:
        script_text = str(script)
    return " ".join([".venv/bin/python", script_text, *map(shlex.quote, sys.argv[1:])])


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values``."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    """median, p95, min, max, mean of ``values``."""
    return {
        "median": statistics.median(values),
        "p95": percentile(values, 0.95),
        "min": min(values),
        "max": max(values),
        "mean": statistics.fmean(values),
    }


def update_section(name: str, body: str) -> None:
    """Replace (or append) the section ``name`` of docs/benchmarks.md."""
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else DOC_HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _match: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    print(f"\nUpdated {DOC.relative_to(ROOT)} (section {name}).")
