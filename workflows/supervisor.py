"""Superviseur de processus minimal pour `make run` (stdlib uniquement).

Why this exists
---------------
`make run` starts several long-lived programs on one machine: Prefect's own
server, the relay that runs our flows, and the API. Ctrl-C must stop all of
them and leave **no orphan**. Killing only the direct child is not enough:

* programs spawn their own children (uvicorn workers, Prefect's services,
  `sh -c` wrappers...), and a grandchild whose parent died is re-parented to
  PID 1 and keeps running, holding its port and its SQLite lock;
* a Prefect server child has been seen surviving the SIGTERM of its parent,
  and a Prefect worker needed a second SIGTERM before it left.

So every child is started in its **own session / process group**
(`start_new_session=True`, hence pgid == pid), and every signal is sent to the
whole group with `os.killpg`: whatever the child forked inside its group gets
the signal too. Shutdown is SIGTERM, a second SIGTERM half-way, SIGKILL at the
deadline, and a check that no live process of the group is left.

Being in their own sessions also means the terminal's Ctrl-C reaches only the
supervisor, never the children directly: the supervisor alone decides the stop
order (reverse start order, so the API stops before the server it talks to).

With a `RestartPolicy` (the embedded product uses one), a child that dies on
its own is not the end: the stop is logged with its exit code or signal, what
is left of its group is stopped, and it is started again after a backoff that
doubles with each failure (capped). Only `max_failures` failures of one child
within `window_s` stop the whole, as before. Without a policy a child's exit
stops everything (what a test or a one-shot script wants).

Known limit: a process that calls `setsid()` itself leaves our group and
cannot be tracked this way (that would need cgroups); none of ours does. If
the supervisor itself is SIGKILLed, nothing can run its cleanup.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import Any, TextIO

from accelerator.shared.text import t

__all__ = [
    "ChildExitedError",
    "ChildSpec",
    "ChildStartupError",
    "Interrupted",
    "RestartPolicy",
    "Supervisor",
    "SupervisorError",
    "live_group_members",
    "supervise",
]

_HEALTH_POLL_S = 0.25
_STOP_POLL_S = 0.05
_TAIL_LINES = 40
# SIGHUP too: closing the terminal must not kill the supervisor silently
# while its children, shielded in their own sessions, live on.
_HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

_SignalHandler = Callable[[int, FrameType | None], Any] | int | None


@dataclass(frozen=True)
class ChildSpec:
    """What to run: `env` is overlaid on the supervisor's own environment."""

    name: str
    argv: list[str]
    env: dict[str, str] | None = None
    health_url: str | None = None
    ready_timeout_s: float = 60.0


@dataclass(frozen=True)
class RestartPolicy:
    """A dead child is restarted after `backoff_s`, doubled per recent failure up to
    `backoff_max_s`; `max_failures` failures of one child within `window_s` stop the whole."""

    max_failures: int = 5
    window_s: float = 60.0
    backoff_s: float = 0.5
    backoff_max_s: float = 30.0

    def delay(self, failures: int) -> float:
        """Seconds to wait before the restart that follows the `failures`-th recent failure."""
        return float(min(self.backoff_max_s, self.backoff_s * 2 ** max(0, failures - 1)))


class SupervisorError(RuntimeError):
    """A supervised child failed; carries its name, exit code and last output."""

    def __init__(
        self, message: str, name: str, returncode: int | None, last_lines: Sequence[str]
    ) -> None:
        tail = "\n".join(f"    {line}" for line in last_lines) or t("supervisor.no_output")
        super().__init__(t("supervisor.last_lines", message=message, name=name, tail=tail))
        self.name = name
        self.returncode = returncode
        self.last_lines = list(last_lines)


class ChildStartupError(SupervisorError):
    """A child died or did not become healthy in time during `start`."""


class ChildExitedError(SupervisorError):
    """A child exited on its own while the supervisor was waiting."""


class Interrupted(KeyboardInterrupt):
    """Raised from a signal handler (SIGINT/SIGTERM/SIGHUP) outside `wait`."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _Child:
    """A started child, its output pump and the tail of its output."""

    def __init__(self, spec: ChildSpec, proc: subprocess.Popen[bytes]) -> None:
        self.spec = spec
        self.proc = proc
        # start_new_session=True makes the child a group leader: pgid == pid,
        # and the group outlives the leader as long as any member lives.
        self.pgid = proc.pid
        self.tail: collections.deque[str] = collections.deque(maxlen=_TAIL_LINES)
        self.pump: threading.Thread | None = None
        #: When it failed recently (monotonic seconds), for the restart policy's window.
        self.failures: collections.deque[float] = collections.deque()
        #: When a dead child is due to be started again.
        self.restart_at: float | None = None


def live_group_members(pgid: int) -> list[int]:
    """Return pids of non-zombie processes in process group `pgid`."""
    proc_dir = "/proc"
    if not os.path.isdir(proc_dir):
        # Without /proc we can only ask the kernel whether the group exists;
        # zombies count there, so callers must reap what they can first.
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass
        return [pgid]
    members: list[int] = []
    for entry in os.listdir(proc_dir):
        if not entry.isdigit():
            continue
        try:
            with open(f"{proc_dir}/{entry}/stat", "rb") as fh:
                stat = fh.read().decode("utf-8", "replace")
        except OSError:
            continue
        # The command name (field 2) may contain spaces and ')' : parse after
        # the last ')'. Zombies are skipped because PID 1 in a container may
        # never reap orphans, and a zombie holds no port and no lock.
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) >= 3 and fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry))
    return members


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class Supervisor:
    """Starts children in their own process groups and stops them all, group-wide."""

    def __init__(
        self,
        *,
        stop_timeout_s: float = 10.0,
        out: TextIO | None = None,
        restart: RestartPolicy | None = None,
    ) -> None:
        """`out` defaults to the current `sys.stdout` at each write; without `restart`, a
        child's exit stops everything."""
        self.stop_timeout_s = stop_timeout_s
        self.restart = restart
        self._out = out
        self._children: list[_Child] = []
        self._write_lock = threading.Lock()
        self._stop_event = threading.Event()
        self._waiting = False
        self._stopping = False
        self._deferring = False
        self._pending_interrupt: int | None = None
        self._received: int | None = None
        self._previous_handlers: dict[int, _SignalHandler] = {}

    # -- context manager -------------------------------------------------

    def __enter__(self) -> Supervisor:
        """Install signal handlers (main thread only) and return self."""
        self._install_signal_handlers()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop every child, then restore the previous signal handlers."""
        try:
            self.stop()
        finally:
            self._restore_signal_handlers()

    # -- public API ------------------------------------------------------

    @property
    def received_signal(self) -> int | None:
        """The last SIGINT/SIGTERM/SIGHUP received, if any."""
        return self._received

    def pids(self) -> dict[str, int]:
        """Map child name to pid (== pgid) of every child started so far."""
        return {c.spec.name: c.proc.pid for c in self._children}

    def start(self, spec: ChildSpec) -> subprocess.Popen[bytes]:
        """Start `spec` in a new session; wait for its health_url if any."""
        if any(c.spec.name == spec.name for c in self._children):
            raise ValueError(t("supervisor.child_exists", name=spec.name))
        # A signal landing between fork and registration would leave a child
        # that stop() does not know about: hold it back until registered.
        self._deferring = True
        try:
            proc = self._spawn(spec)
            self._children.append(_Child(spec, proc))
        finally:
            self._deferring = False
        child = self._children[-1]
        self._start_pump(child)
        if self._pending_interrupt is not None:
            signum, self._pending_interrupt = self._pending_interrupt, None
            raise Interrupted(signum)
        if spec.health_url is not None:
            self._wait_healthy(child, spec.health_url, spec.ready_timeout_s)
        return proc

    def wait(self) -> int:
        """Block until a handled signal (returned) or a child exits (raises ChildExitedError);
        with a restart policy, until a child fails too often (raises ChildExitedError)."""
        self._install_signal_handlers()
        self._waiting = True
        try:
            while not self._stop_event.is_set():
                for child in self._children:
                    if child.restart_at is not None:
                        if time.monotonic() >= child.restart_at:
                            self._restart(child)
                        continue
                    rc = child.proc.poll()
                    if rc is not None:
                        self._drain(child)
                        if self.restart is None:
                            raise ChildExitedError(
                                t(
                                    "supervisor.child_exited",
                                    name=child.spec.name,
                                    pid=child.proc.pid,
                                    code=_describe_rc(rc),
                                ),
                                child.spec.name,
                                rc,
                                list(child.tail),
                            )
                        self._on_death(child, rc, self.restart)
                self._stop_event.wait(0.2)
        finally:
            self._waiting = False
        assert self._received is not None
        return self._received

    def request_stop(self) -> None:
        """Make `wait` return, e.g. from another thread."""
        self._received = self._received or signal.SIGTERM
        self._stop_event.set()

    def stop(self) -> None:
        """SIGTERM each child's group in reverse start order, SIGKILL after the timeout, reap."""
        if self._stopping:
            return
        self._stopping = True
        try:
            for child in reversed(self._children):
                self._stop_child(child)
        finally:
            self._stopping = False

    # -- internals ---------------------------------------------------------

    def _spawn(self, spec: ChildSpec) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        # Python children would otherwise block-buffer a pipe, and their logs
        # would reach the console late, in bursts, or never if killed.
        env.setdefault("PYTHONUNBUFFERED", "1")
        if spec.env:
            env.update(spec.env)
        return subprocess.Popen(
            spec.argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _start_pump(self, child: _Child) -> None:
        child.pump = threading.Thread(
            target=self._pump, args=(child,), name=f"supervisor-{child.spec.name}", daemon=True
        )
        child.pump.start()

    def _on_death(self, child: _Child, rc: int, policy: RestartPolicy) -> None:
        # Whatever the leader left in its group (a worker, a grandchild) would hold the
        # port or the lock the new process needs.
        self._stop_child(child)
        now = time.monotonic()
        while child.failures and child.failures[0] < now - policy.window_s:
            child.failures.popleft()
        child.failures.append(now)
        failures = len(child.failures)
        name, pid = child.spec.name, child.proc.pid
        if failures >= policy.max_failures:
            raise ChildExitedError(
                t(
                    "supervisor.child_failed",
                    name=name,
                    pid=pid,
                    code=_describe_rc(rc),
                    failures=failures,
                    window=policy.window_s,
                ),
                name,
                rc,
                list(child.tail),
            )
        delay = policy.delay(failures)
        child.restart_at = now + delay
        self._write(
            t(
                "supervisor.child_restarting",
                name=name,
                pid=pid,
                code=_describe_rc(rc),
                failures=failures,
                max_failures=policy.max_failures,
                window=policy.window_s,
                delay=delay,
            )
        )

    def _restart(self, child: _Child) -> None:
        child.restart_at = None
        try:
            child.proc = self._spawn(child.spec)
        except OSError as error:
            # Its program is gone or cannot run: waiting will not bring it back.
            raise ChildExitedError(
                t("supervisor.child_restart_failed", name=child.spec.name, error=error),
                child.spec.name,
                None,
                list(child.tail),
            ) from error
        child.pgid = child.proc.pid
        self._start_pump(child)
        self._write(t("supervisor.child_restarted", name=child.spec.name, pid=child.proc.pid))

    def _write(self, line: str) -> None:
        out = self._out if self._out is not None else sys.stdout
        # A closed or broken console must not kill the pump thread and leave
        # the child blocked on a full pipe.
        with self._write_lock, contextlib.suppress(OSError, ValueError):
            out.write(line)
            out.flush()

    def _pump(self, child: _Child) -> None:
        stream = child.proc.stdout
        assert stream is not None
        prefix = f"[{child.spec.name}] "
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            child.tail.append(line)
            self._write(prefix + line + "\n")
        stream.close()

    def _drain(self, child: _Child, timeout_s: float = 1.0) -> None:
        # Lets the pump copy the last lines of a dead child into its tail, so
        # that error messages show why it died.
        if child.pump is not None:
            child.pump.join(timeout_s)

    def _wait_healthy(self, child: _Child, url: str, timeout_s: float) -> None:
        # No proxy: an http_proxy variable in the environment must not send a
        # loopback health check out to a proxy that does not exist here.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + timeout_s
        last_error = t("supervisor.no_answer")
        while True:
            rc = child.proc.poll()
            if rc is not None:
                self._drain(child)
                raise ChildStartupError(
                    t(
                        "supervisor.child_died_starting",
                        name=child.spec.name,
                        code=_describe_rc(rc),
                        url=url,
                    ),
                    child.spec.name,
                    rc,
                    list(child.tail),
                )
            try:
                with opener.open(url, timeout=max(_HEALTH_POLL_S, 2.0)) as resp:
                    if resp.status == 200:
                        return
                    last_error = f"HTTP {resp.status}"
            except urllib.error.HTTPError as err:
                last_error = f"HTTP {err.code}"
            except (urllib.error.URLError, OSError) as err:
                last_error = str(getattr(err, "reason", err))
            if time.monotonic() >= deadline:
                raise ChildStartupError(
                    t(
                        "supervisor.child_not_ready",
                        name=child.spec.name,
                        url=url,
                        timeout=timeout_s,
                        last_error=last_error,
                    ),
                    child.spec.name,
                    child.proc.poll(),
                    list(child.tail),
                )
            time.sleep(_HEALTH_POLL_S)

    def _group_gone(self, child: _Child) -> bool:
        # Reap the leader first: an unreaped leader is a zombie that would
        # keep the group "existing" for killpg(pgid, 0).
        child.proc.poll()
        return child.proc.returncode is not None and not live_group_members(child.pgid)

    def _stop_child(self, child: _Child) -> None:
        # Signal the group even if the leader already exited: its children
        # may still be alive in the group, and they are exactly the orphans.
        if self._group_gone(child):
            self._drain(child, 0.5)
            return
        started = time.monotonic()
        deadline = started + self.stop_timeout_s
        _signal_group(child.pgid, signal.SIGTERM)
        resent = False
        while time.monotonic() < deadline:
            if self._group_gone(child):
                self._drain(child, 0.5)
                return
            # Some programs (a Prefect worker was seen doing it) only start
            # their shutdown on the first SIGTERM and finish it on the second.
            if not resent and time.monotonic() >= started + self.stop_timeout_s / 2:
                _signal_group(child.pgid, signal.SIGTERM)
                resent = True
            time.sleep(_STOP_POLL_S)
        self._write(
            t(
                "supervisor.child_still_alive",
                name=child.spec.name,
                timeout=self.stop_timeout_s,
                pgid=child.pgid,
            )
        )
        _signal_group(child.pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.proc.wait(5.0)
        # SIGKILL cannot be ignored, but the kernel takes a moment to finish
        # tearing processes down: wait briefly so callers see a clean state.
        kill_deadline = time.monotonic() + 5.0
        while time.monotonic() < kill_deadline and not self._group_gone(child):
            time.sleep(_STOP_POLL_S)
        self._drain(child, 0.5)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._received = signum
        self._stop_event.set()
        # Outside wait() (e.g. during a 60 s health wait) the signal must
        # unwind the caller so that __exit__ runs stop(); during stop() it is
        # only recorded, so that a second Ctrl-C cannot abort the cleanup.
        if self._deferring:
            self._pending_interrupt = signum
        elif not self._waiting and not self._stopping:
            raise Interrupted(signum)

    def _install_signal_handlers(self) -> None:
        # signal.signal() only works in the main thread; elsewhere the owner
        # of the main thread has to call request_stop() itself.
        if self._previous_handlers or threading.current_thread() is not threading.main_thread():
            return
        for sig in _HANDLED_SIGNALS:
            self._previous_handlers[sig] = signal.signal(sig, self._on_signal)

    def _restore_signal_handlers(self) -> None:
        for sig, handler in self._previous_handlers.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        self._previous_handlers.clear()


def _describe_rc(rc: int) -> str:
    if rc < 0:
        with contextlib.suppress(ValueError):
            return f"{rc} ({signal.Signals(-rc).name})"
    return str(rc)


def supervise(
    specs: Iterable[ChildSpec],
    *,
    stop_timeout_s: float = 10.0,
    restart: RestartPolicy | None = None,
) -> int:
    """Start `specs` in order, wait, stop all; return a process exit code (0 on a signal)."""
    try:
        with Supervisor(stop_timeout_s=stop_timeout_s, restart=restart) as sup:
            for spec in specs:
                sup.start(spec)
            sup.wait()
            return 0
    except Interrupted:
        return 0
    except SupervisorError as err:
        print(f"[supervisor] {err}", file=sys.stderr, flush=True)
        return 1
