"""`accelerator deadline` refuses hostile input with one French line and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_deadline_cli import run


@pytest.mark.parametrize(
    "args",
    [
        ("--start", "9999-12-31T23:59:59+00:00", "--add", "1 months"),
        ("--start", "2026-01-31T10:00:00+01:00", "--add", "100000 months"),
        ("--start", "2026-01-31T10:00:00+01:00", "--add", "12345678901234567890 hours"),
        ("--start", "2026-01-31T10:00:00+01:00", "--add", "２ months"),
        ("--between", "0001-01-01T00:00:00+00:00", "9999-12-31T00:00:00+00:00",
         "--unit", "business_hours"),
    ],
)  # fmt: skip
def test_hostile_input_is_one_line_and_exit_code_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    done = run("deadline", "--calendar", "FR", *args, tmp_path=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Erreur : "), done.stderr
    assert done.stdout == ""
