"""`accelerator run`: the embedded product for real (no demo data, a secret required), whose
supervisor restarts a child killed with SIGKILL while the API goes on answering."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.cli.test_demo import ROOT, children_of, free_port, wait_for
from workflows.supervisor import live_group_members

SECRET = "a-test-secret-key-of-at-least-32-characters"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACCELERATOR_", "PREFECT_"))}
    env["ACCELERATOR_VAR_DIR"] = str(tmp_path / "var")
    env.update(extra)
    return env


def test_run_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "run", "--port", str(free_port())],
        cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "ACCELERATOR_SECRET_KEY est obligatoire" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "var" / "accelerator.db").exists()


def test_run_refuses_demo_mode(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "run"],
        cwd=ROOT, env=_env(tmp_path, ACCELERATOR_DEMO="1", ACCELERATOR_SECRET_KEY=SECRET),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "mode démo" in done.stderr


def test_run_restarts_a_killed_relay_and_loads_no_demo_account(tmp_path: Path) -> None:
    api_port, prefect_port = free_port(), free_port()
    run = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "run", "--port", str(api_port),
         "--prefect-port", str(prefect_port)],
        cwd=ROOT, env=_env(tmp_path, ACCELERATOR_SECRET_KEY=SECRET),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    groups: list[int] = []
    try:
        base = f"http://127.0.0.1:{api_port}"
        wait_for(lambda: httpx.get(f"{base}/healthz").status_code == 200, 240, "the API")
        groups = children_of(run.pid)
        assert len(groups) == 3  # Prefect's server, the relay, the API
        demo = httpx.post(
            f"{base}/api/v1/auth/token", json={"email": "holder@demo.test", "password": "demo"}
        )
        assert demo.status_code == 401
        relay = next(pid for pid in groups if "relay" in Path(f"/proc/{pid}/cmdline").read_text())
        os.kill(relay, signal.SIGKILL)
        time.sleep(0.5)
        assert httpx.get(f"{base}/healthz").status_code == 200
        wait_for(
            lambda: len(children_of(run.pid)) == 3 and relay not in children_of(run.pid),
            30,
            "the relay to be restarted",
        )
        groups = children_of(run.pid)
        assert httpx.get(f"{base}/healthz").status_code == 200
        assert run.poll() is None
    finally:
        run.send_signal(signal.SIGINT)
        output, _ = run.communicate(timeout=60)
    assert run.returncode == 0, output
    assert "s'est arrêté avec le code -9 (SIGKILL)" in output, output
    assert "[relay] redémarré" in output
    assert "Arrêté." in output
    assert all(live_group_members(pgid) == [] for pgid in groups), output


def test_the_embedded_default_lives_in_the_checkouts_var_directory() -> None:
    """``make run`` keeps its SQLite database and documents in ``./var`` at the project's root
    (the README and .gitignore say so), not inside a package."""
    from accelerator.shared.config import Settings

    clean = {k: v for k, v in os.environ.items() if k.startswith("ACCELERATOR_")}
    for name in clean:
        os.environ.pop(name)
    try:
        settings = Settings()
    finally:
        os.environ.update(clean)
    assert settings.var_dir == ROOT / "var"
    assert settings.database_url == f"sqlite:///{ROOT / 'var' / 'accelerator.db'}"
    assert settings.documents_dir == ROOT / "var" / "documents"
