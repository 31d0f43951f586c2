"""bench/bench_metrics.py on a tiny size, so that it cannot rot: it fills both databases with
the generated history, serves the app, measures every figure and writes its section."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_metrics_benchmark_runs_end_to_end_on_a_tiny_history(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    name = f"accelerator_bench_metrics_test_{os.getpid()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACCELERATOR_", "PREFECT_"))}
    env["BENCH_DOC"] = str(doc)
    done = subprocess.run(
        [
            sys.executable,
            "bench/bench_metrics.py",
            "--dossiers", "60",
            "--sqlite-consultations", "200",
            "--calls", "2",
            "--naive-calls", "1",
            "--forecast-calls", "1",
            "--port", "0",
            "--db-name", name,
            "--drop",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    text = doc.read_text(encoding="utf-8")
    for marker in ("bench:metrics:start", "bench:summary-metrics:start"):
        assert marker in text
    assert "### PostgreSQL" in text and "### SQLite" in text
    for figure in ("no filter", "administration=DDT-65", "cycle=2", "arrondissement=653"):
        assert f"| {figure} |" in text
    assert "/api/v1/metrics/forecast" in text and "accelerator report weekly" in text
    assert "shared with other work" in text
