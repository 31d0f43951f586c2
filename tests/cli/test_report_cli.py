"""``accelerator report weekly``: the pack written as PDF or HTML by the file's name, and the
one-line French refusals (no traceback)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from accelerator.metrics.pack import last_complete_week
from accelerator.shared.db import utcnow
from tests.cli.test_cli import accelerator
from tests.metrics_dataset import build


def test_the_pdf_pack_of_a_week(db: Any, database_url: str, tmp_path: Path) -> None:
    build(db)
    out = tmp_path / "revue.pdf"
    done = accelerator("report", "weekly", "--week", "2026-W24", "--out", str(out),
                       database_url=database_url)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "2026-W24" in done.stdout and str(out) in done.stdout
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "Revue hebdomadaire de la semaine 2026-W24" in text
    assert "La moitié en moins de 7,0 j, 90 % en moins de 7,0 j." in text


def test_the_html_pack_of_the_last_complete_week_by_default(
    db: Any, database_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "Revue.HTML"
    done = accelerator("report", "weekly", "--out", str(out), database_url=database_url)
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert f"Revue hebdomadaire de la semaine {last_complete_week(utcnow())}" in html


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--week", "2026-W24", "--out", "revue.docx"], "le nom doit finir par .pdf, .html"),
        (["--week", "2026-W24", "--out", "revue"], "le nom doit finir par .pdf, .html"),
        (["--week", "2026-48", "--out", "revue.pdf"], "attendue sous la forme AAAA-Wnn"),
        (["--week", "2025-W53", "--out", "revue.pdf"], "Semaine inexistante"),
        (["--week", "2100-W01", "--out", "revue.pdf"], "n'a pas encore commencé"),
    ],
)
def test_refusals_are_one_french_line(
    db: Any, database_url: str, tmp_path: Path, args: list[str], message: str
) -> None:
    args = [str(tmp_path / a) if a.startswith("revue") else a for a in args]
    done = accelerator("report", "weekly", *args, database_url=database_url)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Erreur : "), done.stderr
    assert message in lines[0]
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []
