"""`accelerator deadline` and `accelerator calendars`, as documented in the issue."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The command on a machine that has no database yet (built-in calendars)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCELERATOR_")}
    env["ACCELERATOR_VAR_DIR"] = str(tmp_path / "var")
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("calendar", "start", "amount", "expected"),
    [
        ("FR", "2026-06-09T10:00:00+02:00", "2 business_days", "2026-06-12T00:00:00+02:00"),
        ("FR", "2026-01-31T10:00:00+01:00", "1 months", "2026-03-01T00:00:00+01:00"),
        ("FR", "2026-01-31T10:00", "1 months", "2026-03-01T00:00:00+01:00"),
        ("FR", "2026-03-28T12:00:00+01:00", "24 hours", "2026-03-29T13:00:00+02:00"),
        ("FR", "2026-06-05T16:00:00+02:00", "2 business_hours", "2026-06-08T10:00:00+02:00"),
        ("FR-67", "2026-04-02T10:00:00+02:00", "1 business_days", "2026-04-08T00:00:00+02:00"),
        ("FR", "2026-04-02T10:00:00+02:00", "1 business_days", "2026-04-04T00:00:00+02:00"),
        ("FR-974", "2026-12-18T10:00:00+04:00", "1 business_days", "2026-12-22T00:00:00+04:00"),
    ],
)
def test_deadline_prints_one_instant(
    tmp_path: Path, calendar: str, start: str, amount: str, expected: str
) -> None:
    done = run(
        "deadline", "--calendar", calendar, "--start", start, "--add", amount, tmp_path=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected + "\n"


def test_prorogation_moves_a_weekend_last_day(tmp_path: Path) -> None:
    # Thursday 2026-06-04 + 2 calendar days ends on Saturday 6 June; prorogued to Monday 8.
    args = [
        "deadline",
        "--calendar",
        "FR",
        "--start",
        "2026-06-04T10:00:00+02:00",
        "--add",
        "2 calendar_days",
    ]
    assert run(*args, tmp_path=tmp_path).stdout == "2026-06-07T00:00:00+02:00\n"
    assert run(*args, "--prorogation", tmp_path=tmp_path).stdout == "2026-06-09T00:00:00+02:00\n"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["--calendar", "XX", "--start", "2026-01-01T10:00:00+01:00", "--add", "1 months"],
            "inconnu",
        ),
        (["--calendar", "FR", "--start", "2026-01-01T10:00:00+01:00", "--add", "1 day"], "ambiguë"),
        (
            ["--calendar", "FR", "--start", "2026-01-01T10:00:00+01:00", "--add", "-1 months"],
            "négative",
        ),
        (["--calendar", "FR", "--start", "2026-03-29T02:30", "--add", "1 hours"], "n'existe pas"),
        (
            ["--calendar", "FR", "--start", "2026-10-25T02:30", "--add", "1 hours"],
            "existe deux fois",
        ),
        (["--calendar", "FR", "--start", "demain", "--add", "1 hours"], "illisible"),
    ],
)
def test_bad_input_exits_non_zero_with_one_line(
    tmp_path: Path, args: list[str], words: str
) -> None:
    done = run("deadline", *args, tmp_path=tmp_path)
    assert done.returncode != 0
    assert done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert words in line


@pytest.mark.parametrize(
    ("unit", "expected"),
    [("business_days", "2"), ("calendar_days", "2"), ("hours", "62"), ("business_hours", "17")],
)
def test_between_prints_a_number(tmp_path: Path, unit: str, expected: str) -> None:
    done = run(
        "deadline", "--calendar", "FR", "--between", "2026-06-09T10:00:00+02:00",
        "2026-06-12T00:00:00+02:00", "--unit", unit, tmp_path=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected + "\n"


def test_calendars_lists_every_builtin_code(tmp_path: Path) -> None:
    done = run("calendars", tmp_path=tmp_path)
    codes = [line.split("\t")[0] for line in done.stdout.splitlines()]
    assert codes == [
        "FR",
        "FR-57",
        "FR-67",
        "FR-68",
        "FR-971",
        "FR-972",
        "FR-973",
        "FR-974",
        "FR-976",
    ]
    assert "FR-974\tIndian/Reunion" in done.stdout
