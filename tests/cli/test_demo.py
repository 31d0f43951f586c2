"""`accelerator demo` (what `make run` calls) as a newcomer runs it: real processes, real
Prefect server, a dossier filed over HTTP, the managers' figures over the generated history,
then Ctrl-C and not one process left behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from cli.main import DEMO_HISTORY_DOSSIERS
from tests.api.conftest import HOTEL
from workflows.supervisor import live_group_members

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except httpx.HTTPError:
            result = None
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def children_of(pid: int) -> list[int]:
    """Direct children of ``pid`` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_demo_serves_runs_flows_and_stops_without_orphans(tmp_path: Path) -> None:
    api_port, prefect_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACCELERATOR_", "PREFECT_"))}
    env["ACCELERATOR_VAR_DIR"] = str(tmp_path / "var")
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli.main",
            "demo",
            "--port",
            str(api_port),
            "--prefect-port",
            str(prefect_port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    groups: list[int] = []
    try:
        base = f"http://127.0.0.1:{api_port}"
        wait_for(lambda: httpx.get(f"{base}/healthz").status_code == 200, 240, "the API")
        groups = children_of(demo.pid)
        assert len(groups) == 3  # Prefect's server, the relay, the API

        token = httpx.post(
            f"{base}/api/v1/auth/token", json={"email": "holder@demo.test", "password": "demo"}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        dossier = httpx.post(f"{base}/api/v1/dossiers", json=HOTEL, headers=headers).json()
        filed = httpx.post(f"{base}/api/v1/dossiers/{dossier['id']}/file", headers=headers)
        assert filed.status_code == 200, filed.text

        routed = wait_for(
            lambda: (
                (d := httpx.get(f"{base}/api/v1/dossiers/{dossier['id']}", headers=headers).json())[
                    "referent"
                ]
                and d
            ),
            60,
            "the intake flow",
        )
        assert {p["code"] for p in routed["proposed_administrations"]} == {
            "UDAP-65",
            "SDIS-65",
            "DDT-65",
            "PREF-65",
        }

        # The flow ran in the supervised Prefect server and is visible there.
        # The dossier can show the referent while the flow's last step still runs: wait.
        def intake_states() -> list[str] | None:
            runs = httpx.post(
                f"http://127.0.0.1:{prefect_port}/api/flow_runs/filter", json={"limit": 50}
            ).json()
            states = [
                r["state_type"]
                for r in runs
                if r["name"].startswith("intake-")
                and dossier["id"] in r["parameters"].get("dossier_ids", [])
            ]
            final = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
            return states if states and set(states) <= final else None

        assert wait_for(intake_states, 60, "the intake flow run to finish") == ["COMPLETED"]
        assert httpx.get(f"http://127.0.0.1:{prefect_port}/").status_code == 200  # the UI

        # The generated history gives the managers' figures something to show.
        manager = httpx.post(
            f"{base}/api/v1/auth/token", json={"email": "manager@demo.test", "password": "demo"}
        ).json()["access_token"]
        summary = httpx.get(
            f"{base}/api/v1/metrics/summary",
            headers={"Authorization": f"Bearer {manager}"},
            timeout=60,
        ).json()
        answered = {a["code"]: a for a in summary["administrations"] if a["n"]}
        assert len(answered) >= 8 and answered["DDT-65"]["p50_days"] is not None
        assert summary["take_charge_within_24h_share"] is not None
        assert summary["parallel_gain_ratio"] > 1
    finally:
        demo.send_signal(signal.SIGINT)
        output, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0, output
    assert "Arrêté." in output
    assert f"Historique de démonstration généré : {DEMO_HISTORY_DOSSIERS} dossiers" in output
    assert all(live_group_members(pgid) == [] for pgid in groups), output
