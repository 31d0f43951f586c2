"""With a restart policy, a child that dies comes back (real processes, kill -9); only
repeated failures in a short window stop the whole; a signal still stops everything."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from tests.workflows.test_supervisor import ROOT, SPAWNER, _alive, _Buffer, _group, _wait_for
from workflows.supervisor import ChildExitedError, ChildSpec, RestartPolicy, Supervisor

PY = sys.executable
SLEEPER = "import time; print('up', flush=True); time.sleep(300)"
FAST = RestartPolicy(max_failures=3, window_s=60, backoff_s=0.05, backoff_max_s=0.2)


def _in_thread(sup: Supervisor) -> tuple[threading.Thread, list[BaseException]]:
    """Run ``sup.wait()`` in a thread (signals are not needed: request_stop ends it)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            sup.wait()
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


def test_backoff_doubles_and_is_capped() -> None:
    policy = RestartPolicy(backoff_s=0.5, backoff_max_s=30)
    assert [policy.delay(n) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]


def test_a_child_killed_with_sigkill_is_restarted_and_the_others_keep_running() -> None:
    out = _Buffer()
    with Supervisor(out=out, restart=FAST) as sup:
        sup.start(ChildSpec("relay", [PY, "-c", SLEEPER]))
        api = sup.start(ChildSpec("api", [PY, "-c", SLEEPER]))
        _wait_for(lambda: out.getvalue().count("up") == 2)
        thread, errors = _in_thread(sup)
        first = sup.pids()["relay"]
        os.kill(first, signal.SIGKILL)
        _wait_for(lambda: sup.pids()["relay"] != first and "redémarré" in out.getvalue())
        _wait_for(lambda: out.getvalue().count("[relay] up") == 2)
        second = sup.pids()["relay"]
        assert _alive(second) and not _alive(first)
        assert _alive(api.pid) and sup.pids()["api"] == api.pid
        # Killed again: still within the budget of 3 failures, it comes back once more.
        os.kill(second, signal.SIGKILL)
        _wait_for(lambda: sup.pids()["relay"] not in (first, second))
        sup.request_stop()
        thread.join(10)
        assert not errors and not thread.is_alive()
        third = sup.pids()["relay"]
    text = out.getvalue()
    assert re.search(
        rf"l'enfant \[relay\] \(pid {first}\) s'est arrêté avec le code -9 \(SIGKILL\) "
        r"\(échec 1 sur 3 admis en 60 s\) : redémarrage dans 0\.05 s",
        text,
    ), text
    assert f"[relay] redémarré (pid {second})" in text
    assert "échec 2 sur 3" in text
    for pid in (first, second, third, api.pid):
        assert not _alive(pid)


def test_what_a_dead_child_left_in_its_group_is_stopped_before_the_restart() -> None:
    out = _Buffer()
    with Supervisor(out=out, restart=FAST) as sup:
        leader = sup.start(ChildSpec("spawner", [PY, "-c", SPAWNER]))
        _wait_for(lambda: out.grandchild_pid() is not None)
        grandchild = out.grandchild_pid()
        assert grandchild is not None
        thread, _errors = _in_thread(sup)
        os.kill(leader.pid, signal.SIGKILL)
        _wait_for(lambda: "redémarré" in out.getvalue())
        assert not _alive(grandchild) and _group(leader.pid) == []
        sup.request_stop()
        thread.join(10)


def test_a_child_that_always_fails_stops_the_whole_after_the_window_budget() -> None:
    out = _Buffer()
    with Supervisor(out=out, restart=FAST) as sup:
        other = sup.start(ChildSpec("api", [PY, "-c", SLEEPER]))
        sup.start(ChildSpec("relay", [PY, "-c", "import sys; print('boom'); sys.exit(3)"]))
        began = time.monotonic()
        with pytest.raises(ChildExitedError) as info:
            sup.wait()
        assert time.monotonic() - began < 10
    assert info.value.name == "relay" and info.value.returncode == 3
    assert "3e échec en 60 s : arrêt de l'ensemble" in str(info.value)
    assert "boom" in str(info.value)
    assert out.getvalue().count("redémarré") == 2
    assert not _alive(other.pid)


def test_failures_outside_the_window_do_not_add_up() -> None:
    out = _Buffer()
    policy = RestartPolicy(max_failures=2, window_s=0.4, backoff_s=0.5, backoff_max_s=0.5)
    with Supervisor(out=out, restart=policy) as sup:
        sup.start(ChildSpec("flaky", [PY, "-c", "import sys; sys.exit(1)"]))
        thread, errors = _in_thread(sup)
        # Each failure is 0.5 s after the previous: never two within 0.4 s.
        _wait_for(lambda: out.getvalue().count("redémarré") >= 3, timeout_s=20)
        assert not errors
        sup.request_stop()
        thread.join(10)
    assert "échec 2" not in out.getvalue()


RESTARTING_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
from workflows.supervisor import ChildSpec, Interrupted, RestartPolicy, Supervisor

policy = RestartPolicy(max_failures=10_000, window_s=60, backoff_s=0.05, backoff_max_s=0.1)
try:
    with Supervisor(stop_timeout_s=5, restart=policy) as sup:
        sup.start(ChildSpec("a", [sys.executable, "-c", {spawner!r}]))
        sup.start(ChildSpec("b", [sys.executable, "-c", "import sys; sys.exit(0)"]))
        print("PID", sup.pids()["a"], flush=True)
        print("GOT", sup.wait(), flush=True)
except Interrupted as exc:
    print("INTERRUPTED", exc.signum, flush=True)
print("CLEAN EXIT", flush=True)
"""


def test_sigint_still_stops_everything_while_children_restart(tmp_path: Path) -> None:
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(RESTARTING_SCRIPT.format(root=str(ROOT), spawner=SPAWNER)))
    proc = subprocess.Popen(
        [PY, str(script)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        while not any("redémarré" in line for line in lines):
            line = proc.stdout.readline()
            assert line, "script ended early:\n" + "".join(lines)
            lines.append(line)
        leader = int(next(line.split()[1] for line in lines if line.startswith("PID")))
        grandchild = int(
            next(m.group(1) for line in lines if (m := re.search(r"grandchild (\d+)", line)))
        )
        os.kill(proc.pid, signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = "".join(lines) + rest
    assert proc.returncode == 0, output
    assert f"GOT {int(signal.SIGINT)}" in output and "CLEAN EXIT" in output
    assert not _alive(leader) and not _alive(grandchild) and _group(leader) == []
