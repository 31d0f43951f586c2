"""The weekly pack laid out: HTML with inline SVG charts beside their tables, and a real PDF
(read back with pypdf) saying the same figures."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from pypdf import PdfReader

from accelerator.metrics.pack import WeeklyPack, build_pack, parse_week
from reports import charts, weekly
from tests.metrics_dataset import NOW, build


@pytest.fixture
def w24(db: Any) -> WeeklyPack:
    build(db)
    with db.transaction(read_only=True) as session:
        return build_pack(session, parse_week("2026-W24"), now=NOW)


@pytest.fixture
def w29(db: Any) -> WeeklyPack:
    build(db)
    with db.transaction(read_only=True) as session:
        return build_pack(session, parse_week("2026-W29"), now=NOW)


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def outline_titles(items: list[Any]) -> list[str]:
    """Every heading of a PDF outline (pypdf nests children in lists)."""
    return [t for i in items for t in (outline_titles(i) if isinstance(i, list) else [i.title])]


def test_nice_maxima_and_bars_to_scale() -> None:
    assert [charts.nice_maximum(v) for v in (0, 0.7, 7, 9.5, 23, 250, 251)] == [
        1.0,
        1.0,
        10.0,
        10.0,
        25.0,
        250.0,
        500.0,
    ]
    chart = charts.bar_chart(
        "c",
        "titre",
        "description",
        [("A", [5.0, 10.0]), ("B", [None, 2.5])],
        [charts.Series("x", "#000091"), charts.Series("y", "#6a6af4")],
        show=str,
        missing="-",
    )
    span = chart.plot_right - chart.plot_left
    a, b = chart.rows
    assert (a.bars[0].width, a.bars[1].width) == (span / 2, span)
    assert (b.bars[0].width, b.bars[0].text) == (0.0, "-")
    assert b.bars[1].width == span / 4
    assert b.label_y > a.label_y and chart.height > chart.axis_y
    assert [tick.text for tick in chart.ticks] == ["0.0", "2.5", "5.0", "7.5", "10.0"]


def test_the_html_pack_shows_the_week_figures_with_charts_beside_tables(w24: WeeklyPack) -> None:
    html = weekly.render_html(w24, base_url="https://accelerateur.test")
    assert "Revue hebdomadaire de la semaine 2026-W24" in html
    assert "lundi 8 juin 2026" in html and "dimanche 14 juin 2026" in html
    # Self-contained: one style block (the one the policy allows), no script, no external file.
    assert "<script" not in html and "<link" not in html and 'src="' not in html
    assert html.count("<style>") == 1 and "style=" not in html
    # Two charts, each an image with a title and a description, each beside a table.
    assert html.count('role="img"') == 2
    assert html.count("<desc id=") == 2
    for figure in re.findall(r'<div class="pair">(.*?)</div>\s*</div>', html, re.S):
        assert "<svg" in figure and "<table>" in figure
    # SDIS: two opinions of 7 days; the sentence the managers read; DDT gated (2 days).
    assert "La moitié en moins de 7,0 j, 90 % en moins de 7,0 j." in html
    assert "2 avis seulement : à lire avec prudence." in html
    assert '<tr class="chosen"><th scope="row">' in html
    assert "× 2,13" in html  # 34 / 16 = 2.125, half rounded up
    assert "Aucune consultation en retard." in html


def test_the_late_list_links_the_dossiers(w29: WeeklyPack) -> None:
    html = weekly.render_html(w29, base_url="https://accelerateur.test")
    late = w29.open_work.late[0]
    assert f'<a href="https://accelerateur.test/dossiers/{late.dossier_id}">' in html
    assert "Consultations en retard (1)" in html
    assert "12,0 j" in html  # C's DDT, 12 days past its target
    # Its target ended 8/07 00:00: the last day it included is 7 July.
    assert "<td>7 juillet 2026 (fin de journée)</td>" in html
    assert "generic_opinion" not in html  # types by their catalogue label
    assert "0,0 %" in html  # G not taken in charge: 0 of 1 within 24 h


def test_the_style_block_is_the_one_the_policy_allows(w24: WeeklyPack) -> None:
    import base64
    import hashlib

    html = weekly.render_html(w24)
    style = re.search(r"<style>(.*?)</style>", html, re.S)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style[1].encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in weekly.CONTENT_SECURITY_POLICY
    assert "script-src" not in weekly.CONTENT_SECURITY_POLICY  # default-src 'none' covers it


def test_the_pdf_is_a_pdf_that_says_the_figures(w24: WeeklyPack) -> None:
    pdf = weekly.render_pdf(w24)
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    assert 1 <= len(reader.pages) <= 4
    assert reader.metadata is not None
    assert reader.metadata.title == "Revue hebdomadaire 2026-W24 – Accélérateur"
    # Tagged (a structure tree for screen readers), in French, with an outline of its headings.
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and bool(root["/MarkInfo"]["/Marked"])
    assert root["/Lang"] == "fr"
    assert "Délais des avis par administration" in outline_titles(reader.outline)
    text = pdf_text(pdf)
    assert "Revue hebdomadaire de la semaine 2026-W24" in text
    assert "La moitié en moins de 7,0 j, 90 % en moins de 7,0 j." in " ".join(text.split())
    assert "DDT-65" in text
