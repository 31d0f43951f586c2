"""How flows run: Prefect settings for the relay, and the children of the embedded mode.

Embedded mode (``accelerator demo``, and ``accelerator run`` without demo data): Prefect's
own server on SQLite under ``var/prefect`` (its UI shows every flow run), the relay that runs
the flows against it, and the API. Each is a supervised child, restarted with backoff if it
dies (``restart_policy``); Ctrl-C stops them all.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

from accelerator.shared.config import Settings
from workflows.supervisor import ChildSpec, RestartPolicy


@contextlib.contextmanager
def flow_settings() -> Iterator[None]:
    """Prefect settings for processes that run flows.

    Heartbeats are off: each sync flow run would otherwise pay about one second joining the
    heartbeat thread (PREFECT.md); runs lost to a dead process are found by the application's
    own reconciliation, since the database, not Prefect, is the source of truth.
    """
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def prefect_environment(var_dir: Path, prefect_port: int) -> dict[str, str]:
    """Environment of every child: where Prefect keeps its data, and no telemetry."""
    (var_dir / "prefect").mkdir(parents=True, exist_ok=True)
    return {
        "PREFECT_HOME": str(var_dir / "prefect"),
        "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_URL": f"http://127.0.0.1:{prefect_port}/api",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }


def restart_policy(settings: Settings) -> RestartPolicy:
    """How the embedded product restarts a child that dies (``ACCELERATOR_RESTART_*``)."""
    return RestartPolicy(
        max_failures=settings.restart_max_failures,
        window_s=settings.restart_window_seconds,
        backoff_s=settings.restart_backoff_seconds,
        backoff_max_s=settings.restart_backoff_max_seconds,
    )


def demo_children(
    var_dir: Path, *, api_port: int, prefect_port: int, api_host: str = "127.0.0.1"
) -> list[ChildSpec]:
    """Prefect's server, the relay and the API, in start order (``demo`` and ``run``)."""
    python = sys.executable
    env = prefect_environment(var_dir, prefect_port)
    server_env = {k: v for k, v in env.items() if k != "PREFECT_API_URL"}
    server_env["PREFECT_UI_API_URL"] = f"http://127.0.0.1:{prefect_port}/api"
    return [
        ChildSpec(
            name="prefect",
            argv=[
                python,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(prefect_port),
            ],
            env=server_env,
            health_url=f"http://127.0.0.1:{prefect_port}/api/health",
            ready_timeout_s=120.0,
        ),
        ChildSpec(name="relay", argv=[python, "-m", "cli.main", "relay"], env=env),
        ChildSpec(
            name="api",
            argv=[python, "-m", "cli.main", "serve", "--host", api_host, "--port", str(api_port)],
            env=env,
            health_url=f"http://127.0.0.1:{api_port}/healthz",
        ),
    ]
