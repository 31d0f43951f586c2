"""Supervisor tests with real processes: no orphan may survive a stop."""

from __future__ import annotations

import io
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from workflows.supervisor import (
    ChildExitedError,
    ChildSpec,
    ChildStartupError,
    Supervisor,
)

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable

# The child forks a grandchild `sleep 300` in its own group, then sleeps.
SPAWNER = (
    "import subprocess, time\n"
    "p = subprocess.Popen(['sleep', '300'])\n"
    "print('grandchild', p.pid, flush=True)\n"
    "time.sleep(300)\n"
)


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return None
    return raw[raw.rfind(")") + 2 :].split()


def _alive(pid: int) -> bool:
    """Alive = exists and is not a zombie (PID 1 here does not reap orphans)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def _group(pgid: int) -> list[int]:
    """Live pids whose process group is `pgid`, read straight from /proc."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields and fields[0] != "Z" and int(fields[2]) == pgid:
                pids.append(int(entry))
    return pids


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


class _Buffer(io.StringIO):
    """Thread-safe enough for the pumps: Supervisor serialises writes."""

    def grandchild_pid(self) -> int | None:
        m = re.search(r"^\[spawner\] grandchild (\d+)$", self.getvalue(), re.M)
        return int(m.group(1)) if m else None


def test_start_ready_then_stop_leaves_no_process_in_any_group() -> None:
    out = _Buffer()
    port = _free_port()
    with Supervisor(out=out) as sup:
        spawner = sup.start(ChildSpec("spawner", [PY, "-c", SPAWNER]))
        t0 = time.monotonic()
        http = sup.start(
            ChildSpec(
                "http",
                [PY, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                health_url=f"http://127.0.0.1:{port}/",
                ready_timeout_s=20,
            )
        )
        ready_s = time.monotonic() - t0
        # start() returned, so the server must answer now.
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
        _wait_for(lambda: out.grandchild_pid() is not None)
        grandchild = out.grandchild_pid()
        assert grandchild is not None
        # Own session and group: pgid == sid == pid, distinct from ours.
        for proc in (spawner, http):
            assert os.getpgid(proc.pid) == proc.pid
            assert os.getsid(proc.pid) == proc.pid
            assert os.getpgid(proc.pid) != os.getpgrp()
        assert sorted(_group(spawner.pid)) == sorted([spawner.pid, grandchild])
        assert _group(http.pid) == [http.pid]
        assert sup.pids() == {"spawner": spawner.pid, "http": http.pid}
        t1 = time.monotonic()
        sup.stop()
        stop_s = time.monotonic() - t1

    assert ready_s < 20
    assert stop_s < 5, "SIGTERM-friendly children must not wait for the SIGKILL deadline"
    assert _group(spawner.pid) == []
    assert _group(http.pid) == []
    for pid in (spawner.pid, http.pid, grandchild):
        assert not _alive(pid), f"pid {pid} survived stop()"
    # Leaders were reaped by us (no zombie child of the test process).
    assert spawner.returncode is not None and http.returncode is not None
    # Output was forwarded with the [name] prefix.
    assert re.search(r"^\[http\] .*GET / HTTP", out.getvalue(), re.M)


def test_grandchild_ignoring_sigterm_after_parent_died_is_killed() -> None:
    # The reported Prefect case: the parent obeys SIGTERM, its child does not.
    script = (
        "import subprocess, time\n"
        "p = subprocess.Popen(['python3', '-c', "
        "'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        'print("armed", flush=True); time.sleep(300)\'])\n'
        "print('grandchild', p.pid, flush=True)\n"
        "time.sleep(300)\n"
    )
    out = _Buffer()
    with Supervisor(out=out, stop_timeout_s=1.5) as sup:
        parent = sup.start(ChildSpec("spawner", [PY, "-c", script]))
        _wait_for(lambda: "[spawner] armed" in out.getvalue())
        grandchild = out.grandchild_pid()
        assert grandchild is not None
        t0 = time.monotonic()
    took = time.monotonic() - t0
    assert 1.4 <= took < 8
    assert "SIGKILL" in out.getvalue()
    assert not _alive(grandchild)
    assert _group(parent.pid) == []


def test_health_url_on_child_that_exits_immediately_raises_clear_error() -> None:
    port = _free_port()
    out = _Buffer()
    spec = ChildSpec(
        "crash",
        [PY, "-c", "import sys; print('configuration invalide: boom'); sys.exit(3)"],
        health_url=f"http://127.0.0.1:{port}/health",
        ready_timeout_s=30,
    )
    with Supervisor(out=out) as sup:
        t0 = time.monotonic()
        with pytest.raises(ChildStartupError) as info:
            sup.start(spec)
        assert time.monotonic() - t0 < 5, "a dead child must fail fast, not at the timeout"
    err = info.value
    assert err.name == "crash"
    assert err.returncode == 3
    message = str(err)
    assert "[crash]" in message and "code 3" in message
    assert "configuration invalide: boom" in message  # the child's last output lines


def test_health_timeout_raises_with_last_error_and_child_is_stopped() -> None:
    port = _free_port()
    out = _Buffer()
    with Supervisor(out=out) as sup:
        with pytest.raises(ChildStartupError, match="n'est pas prêt") as info:
            sup.start(
                ChildSpec(
                    "mute",
                    # The child's line must be in the error, so it must print before the
                    # timeout: a shell prints at once (a Python interpreter could take more
                    # than a second to start on a loaded machine), and 3 s leaves room.
                    ["sh", "-c", "echo starting; exec sleep 300"],
                    health_url=f"http://127.0.0.1:{port}/",
                    ready_timeout_s=3.0,
                )
            )
        pid = sup.pids()["mute"]
    assert "starting" in str(info.value)
    assert not _alive(pid)


def test_wait_raises_when_a_child_exits_on_its_own() -> None:
    out = _Buffer()
    with Supervisor(out=out) as sup:
        sup.start(ChildSpec("ok", [PY, "-c", "import time; time.sleep(300)"]))
        sup.start(ChildSpec("dies", [PY, "-c", "import time; time.sleep(0.3); print('bye')"]))
        with pytest.raises(ChildExitedError) as info:
            sup.wait()
        ok_pid = sup.pids()["ok"]
    assert info.value.name == "dies"
    assert info.value.returncode == 0
    assert "bye" in str(info.value)
    assert not _alive(ok_pid)


def test_request_stop_from_another_thread_makes_wait_return() -> None:
    with Supervisor(out=_Buffer()) as sup:
        pid = sup.start(ChildSpec("ok", [PY, "-c", "import time; time.sleep(300)"])).pid
        threading.Timer(0.3, sup.request_stop).start()
        assert sup.wait() == signal.SIGTERM
    assert not _alive(pid)


SUPERVISOR_SCRIPT = """
import json, sys
sys.path.insert(0, {root!r})
from workflows.supervisor import ChildSpec, Interrupted, Supervisor

SPAWNER = {spawner!r}
try:
    with Supervisor(stop_timeout_s=5) as sup:
        sup.start(ChildSpec("a", [sys.executable, "-c", SPAWNER]))
        sup.start(ChildSpec("b", [sys.executable, "-c", SPAWNER]))
        print("PIDS " + json.dumps(sup.pids()), flush=True)
        if {stuck_in_start!r}:
            # Never healthy: the signal lands while start() is polling.
            sup.start(ChildSpec("c", [sys.executable, "-c", SPAWNER],
                                health_url="http://127.0.0.1:{port}/", ready_timeout_s=120))
        else:
            print("WAITING", flush=True)
            signum = sup.wait()
            print("GOT", signum, flush=True)
except Interrupted as exc:
    print("INTERRUPTED", exc.signum, flush=True)
print("CLEAN EXIT", flush=True)
"""


@pytest.mark.parametrize(
    ("sig", "stuck_in_start"),
    [
        (signal.SIGTERM, False),
        (signal.SIGINT, False),
        (signal.SIGTERM, True),
    ],
    ids=["sigterm-in-wait", "sigint-in-wait", "sigterm-during-start"],
)
def test_signal_to_supervisor_script_leaves_no_orphans(
    tmp_path: Path, sig: signal.Signals, stuck_in_start: bool
) -> None:
    script = tmp_path / "run.py"
    script.write_text(
        textwrap.dedent(
            SUPERVISOR_SCRIPT.format(
                root=str(ROOT),
                spawner=SPAWNER,
                stuck_in_start=stuck_in_start,
                port=_free_port(),
            )
        )
    )
    proc = subprocess.Popen(
        [PY, str(script)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    # A reader thread, so that a hung script fails the test instead of hanging it.
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    seen: list[str] = []
    leaders: dict[str, int] = {}
    grandchildren: dict[str, int] = {}
    expected = {"a", "b", "c"} if stuck_in_start else {"a", "b"}
    waiting = stuck_in_start  # the "stuck" script never prints WAITING
    try:
        deadline = time.monotonic() + 30
        while set(grandchildren) != expected or not leaders or not waiting:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, "script ended early:\n" + "\n".join(seen)
            seen.append(line)
            if line.startswith("PIDS "):
                leaders = json.loads(line[5:])
            elif line == "WAITING":
                waiting = True
            elif m := re.match(r"\[(\w)\] grandchild (\d+)$", line):
                grandchildren[m.group(1)] = int(m.group(2))
        # Every group our script created, read while its members still live
        # (child "c" is never listed in PIDS, its grandchild tells its group).
        pgids = {os.getpgid(pid) for pid in grandchildren.values()}
        assert pgids >= set(leaders.values())
        if stuck_in_start:
            time.sleep(0.5)  # let start() sit in its health polling loop
        os.kill(proc.pid, sig)
        proc.wait(timeout=30)
        reader.join(5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    while (item := lines.get_nowait() if not lines.empty() else None) is not None:
        seen.append(item)

    output = "\n".join(seen)
    assert proc.returncode == 0, output
    assert "CLEAN EXIT" in output
    assert (f"INTERRUPTED {int(sig)}" if stuck_in_start else f"GOT {int(sig)}") in output
    for pgid in pgids:
        assert _group(pgid) == [], f"group {pgid} still has processes\n{output}"
    for pid in [*leaders.values(), *grandchildren.values()]:
        assert not _alive(pid), f"pid {pid} survived\n{output}"
