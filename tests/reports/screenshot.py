"""Regenerate docs/screenshots/pack-weekly.png: the first page of the weekly pack of 2026-W24
built on the hand-computed history of tests/metrics_dataset.py, rasterised by Poppler's
``pdftoppm`` (the poppler-utils system package).

    .venv/bin/python -m tests.reports.screenshot      (or: make screenshots)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from accelerator.catalogue.actions import load_catalogue
from accelerator.metrics.pack import build_pack, parse_week
from accelerator.migrations.commands import upgrade
from accelerator.shared.db import get_database, set_default_database_url
from reports.weekly import render_pdf
from tests.metrics_dataset import NOW, build

OUTPUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "pack-weekly.png"
WEEK = "2026-W24"


def main() -> int:
    """Write the screenshot; 1 if ``pdftoppm`` is missing."""
    if shutil.which("pdftoppm") is None:
        print("pdftoppm introuvable : apt-get install poppler-utils", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'pack.db'}"
        upgrade(url)
        set_default_database_url(url)
        database = get_database(url)
        with database.transaction() as session:
            load_catalogue(session)
        build(database)
        with database.transaction(read_only=True) as session:
            pack = build_pack(session, parse_week(WEEK), now=NOW)
        pdf = Path(folder) / "pack.pdf"
        pdf.write_bytes(render_pdf(pack, base_url="https://accelerateur.example"))
        stem = Path(folder) / "page"
        subprocess.run(
            ["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", pdf, stem],
            check=True,
        )
        OUTPUT.write_bytes(stem.with_suffix(".png").read_bytes())
    print(OUTPUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
