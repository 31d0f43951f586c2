"""The design system's files are the pinned versions, complete, and served with a long cache
by the product itself (no CDN)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from api.pages import assets
from tests.pages.conftest import HTML


def test_the_committed_files_are_the_pinned_versions_and_complete() -> None:
    pinned = json.loads((assets.ROOT / "package.json").read_text())["dependencies"]
    assert pinned == {"@gouvfr/dsfr": "1.15.3", "@gouvfr/dsfr-chart": "2.0.4"}
    lock = json.loads((assets.ROOT / "package-lock.json").read_text())["packages"]
    assert lock["node_modules/@gouvfr/dsfr"]["version"] == "1.15.3"
    assert lock["node_modules/@gouvfr/dsfr"]["integrity"].startswith("sha512-")
    css = (assets.STATIC / "dsfr" / "dsfr.min.css").read_text(encoding="utf-8")
    assert "DSFR v1.15.3" in css
    base = assets.STATIC / "dsfr"
    for sheet in ("dsfr.min.css", "icons.css"):
        text = (base / sheet).read_text(encoding="utf-8")
        for found in set(re.findall(r"url\(([^)]+)\)", text)):
            url = found.strip("'\"")
            if url.startswith(("data:", "#")):
                continue
            assert (base / url).is_file(), f"{sheet} names a missing file: {url}"
    for name in assets.ICONS:
        assert f".fr-icon-{name}:before" in (base / "icons.css").read_text(encoding="utf-8")
    assert (assets.STATIC / "dsfr-chart" / "DSFRChart.js").stat().st_size > 100_000


def test_assets_are_served_locally_with_a_long_cache_even_to_a_signed_in_browser(
    signed_in: Callable[[str], TestClient],
) -> None:
    client = signed_in("holder@pages.test")
    page = client.get("/mes-dossiers", headers=HTML)
    sources = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert len(sources) >= 5 and not re.search(r'(?:src|href)="(?:https?:)?//', page.text)
    for source in sources:
        answer = client.get(source)
        assert answer.status_code == 200 and answer.content, source
        assert answer.headers["Cache-Control"] == assets.LONG_CACHE, source
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/static/dsfr/1.15.2/dsfr.min.css").status_code == 404
    assert client.get("/static/dsfr/1.15.3/../../../app.py").status_code == 404
    assert client.get("/static/app/000000000000/pages.css").status_code == 404
    # The pages themselves are never stored.
    assert page.headers["Cache-Control"] == "no-store"


def test_the_page_has_no_inline_script_or_style() -> None:
    for template in (assets.ROOT / "api" / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template
        assert " style=" not in text and "<style" not in text, template
        assert not re.search(r"\son[a-z]+=", text), template


def test_build_copies_what_the_list_names(tmp_path: Path) -> None:
    if not (assets.NODE_MODULES / "@gouvfr" / "dsfr").is_dir():
        # Fresh clones use the committed files; `make assets` needs the npm packages.
        return
    written = assets.build(static=tmp_path)
    for file in written:
        relative = file.relative_to(tmp_path)
        assert (assets.STATIC / relative).read_bytes() == file.read_bytes(), relative
