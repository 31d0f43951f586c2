"""Shared helpers of the benchmarks: machine description, statistics, docs/benchmarks.md."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Where the results go (``BENCH_DOC`` overrides it, e.g. for a trial run).
DOC = Path(os.environ.get("BENCH_DOC", ROOT / "docs" / "benchmarks.md"))

#: Maintenance database of the local PostgreSQL (trust auth).
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

DOC_HEADER = """# Benchmarks

Performance targets of the issue, measured by the scripts in `bench/` (plain scripts:
`.venv/bin/python bench/<name>.py`; `--help` lists their options). Each script rewrites its own
sections of this file (between its `bench:` markers); the rest is written by hand.

## Summary

<!-- bench:summary-deadlines:start -->
<!-- bench:summary-deadlines:end -->
<!-- bench:summary-sweep:start -->
<!-- bench:summary-sweep:end -->
<!-- bench:summary-burst:start -->
<!-- bench:summary-burst:end -->
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
    except Exception as error:
        return f"n/a ({error.__class__.__name__})"


def git_state() -> str:
    """The commit measured, and whether product files had uncommitted changes."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout

    commit = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    status = git("status", "--porcelain", "--", "accelerator", "api", "workflows")
    dirty = [line[3:] for line in status.splitlines() if line.strip()]
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
        "load": " ".join(f"{value:.2f}" for value in os.getloadavg()),
    }


def machine_line(info: dict[str, str]) -> str:
    """One markdown line describing the machine."""
    return (
        f"`nproc` = {info['nproc']}, `uname -m` = {info['arch']}, CPU: {info['cpu']}, "
        f"Python {info['python']}, {info['postgresql']}; code: {info['git']}; run on "
        f"{info['date']} (load average at start: {info['load']})."
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


def operating_system() -> str:
    """The distribution (``PRETTY_NAME`` of /etc/os-release) and the kernel."""
    name = platform.system()
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                name = line.split("=", 1)[1].strip().strip('"')
    return f"{name}, kernel {platform.release()}"


def replace_block(path: Path, marker: str, body: str, *, heading: str = "") -> None:
    """Replace what lies between ``<!-- marker:start -->`` and ``<!-- marker:end -->`` in
    ``path`` with ``body``; append the block (after ``heading``) if the markers are absent."""
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _match: block, text)
    else:
        text = text.rstrip() + "\n\n" + (f"{heading}\n\n" if heading else "") + block + "\n"
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    print(f"\nUpdated {path} (block {marker}).")


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
    print(f"\nUpdated {DOC} (section {name}).")


# ---------------------------------------------------------------------------------------------
# CPU accounting from /proc (Linux): who used the CPU during a timed run.

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _all_processes() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds) of every live process."""
    found: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        found[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
    return found


def descendants(pid: int, processes: dict[int, tuple[int, float]] | None = None) -> set[int]:
    """Every live descendant process of ``pid``."""
    processes = processes if processes is not None else _all_processes()
    children: dict[int, list[int]] = {}
    for child, (parent, _cpu) in processes.items():
        children.setdefault(parent, []).append(child)
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _command(pid: int) -> str:
    """A short command line of ``pid``."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return "?"
    return raw[:80] or "?"


class CpuMeter:
    """Samples, every ``period`` s, the CPU time of every process (from /proc/<pid>/stat) and
    splits it: this process, its descendants, some extra pids (e.g. the PostgreSQL backends,
    found by ``extra_pids``), and all other processes. (/proc/stat's machine totals are not
    used: this VM's idle accounting is unreliable.) A process that starts and ends between two
    samples is missed."""

    GROUPS = ("children", "extra", "all")

    def __init__(self, extra_pids: Callable[[], set[int]] | None = None, period: float = 0.5):
        self.extra_pids = extra_pids or (lambda: set())
        self.period = period
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._membership: dict[str, set[int]] = {group: set() for group in self.GROUPS}
        self._names: dict[int, str] = {}
        self._started = False

    def _sample(self) -> None:
        processes = _all_processes()
        self._membership["children"] |= descendants(os.getpid(), processes)
        self._membership["extra"] |= self.extra_pids() & processes.keys()
        self._membership["all"] |= processes.keys()
        for pid, (_parent, cpu) in processes.items():
            # A process born during the run counts from its birth.
            if pid not in self._first:
                self._first[pid] = cpu if not self._started else 0.0
                self._names[pid] = _command(pid)
            self._last[pid] = cpu

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            with contextlib.suppress(Exception):  # sampling is best effort
                self._sample()

    def __enter__(self) -> CpuMeter:
        self._wall = time.perf_counter()
        self._self = time.process_time()
        self._sample()
        self._started = True
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        self._sample()
        self.wall = time.perf_counter() - self._wall
        self.self_cpu = time.process_time() - self._self

    def group(self, name: str) -> float:
        """CPU seconds used by a group of processes during the run."""
        pids = self._membership[name] - {os.getpid()}
        return sum(self._last[pid] - self._first[pid] for pid in pids if pid in self._last)

    def top_others(self, count: int = 3) -> list[tuple[str, float]]:
        """The other processes that used the most CPU during the run."""
        mine = self._membership["children"] | self._membership["extra"] | {os.getpid()}
        used = [
            (self._names.get(pid, "?"), self._last[pid] - self._first[pid])
            for pid in self._membership["all"] - mine
            if pid in self._last
        ]
        return [item for item in sorted(used, key=lambda item: -item[1])[:count] if item[1] > 0]

    def report(self) -> dict[str, float]:
        children, extra = self.group("children"), self.group("extra")
        everything = self.group("all")
        return {
            "wall": self.wall,
            "self": self.self_cpu,
            "children": children,
            "extra": extra,
            "others": max(0.0, everything - children - extra),
        }
