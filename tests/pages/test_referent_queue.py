"""The référent's queue: sorted by a column either way, searched by title or reference (the
counts follow), each tab exported as CSV in the page's order, safe for spreadsheets."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from accelerator.dossiers.models import Dossier
from tests.pages.conftest import HTML
from tests.pages.test_page_queries import add_world

REFERENCES = re.compile(r'<td class="app-nowrap">(ACC-[0-9-]+)</td>')
COUNT = re.compile(r'id="onglet-consulting"[^>]*>[^<]*<span[^>]*>([0-9]+)</span>')


def consulting(html: str) -> list[str]:
    """The references shown in the consulting tab's panel (every tab is in the page)."""
    start = html.index('id="onglet-consulting-panneau"')
    end = html.find('<div id="onglet-', start + 10)
    return REFERENCES.findall(html[start : end if end > 0 else None])


def test_the_queue_sorts_searches_and_exports_what_it_shows(
    db: Any, signed_in: Callable[[str], TestClient]
) -> None:
    add_world(db, 60)
    with db.transaction() as session:
        trap = session.scalars(
            select(Dossier).where(Dossier.status == "consulting").order_by(Dossier.reference)
        ).first()
        assert trap is not None
        trap.title = '=HYPERLINK("http://exemple.invalid")'
    referent = signed_in("referent@pages.test")
    base = "/file-de-travail?onglet=consulting"
    ascending = consulting(referent.get(f"{base}&tri=reference", headers=HTML).text)
    page = referent.get(f"{base}&tri=reference&ordre=desc", headers=HTML).text
    descending = consulting(page)
    assert ascending and ascending == sorted(ascending)
    assert descending == sorted(descending, reverse=True)
    assert 'aria-sort="descending"' in page
    # The header link of the current sort turns it the other way.
    assert "tri=reference&amp;ordre=asc" in page

    everything = int(COUNT.search(referent.get(base, headers=HTML).text).group(1))  # type: ignore[union-attr]
    found = referent.get(f"{base}&q=ACC-2026-00002", headers=HTML).text
    # References 00002 and 00020-00029 hold the text; in the consulting tab only some.
    shown = consulting(found)
    assert shown and all("ACC-2026-00002" in ref for ref in shown)
    assert int(COUNT.search(found).group(1)) == len(shown) < everything  # type: ignore[union-attr]
    assert referent.get(f"{base}&q=" + "x" * 101, headers=HTML).status_code == 422

    exported = referent.get(
        "/file-de-travail.csv?onglet=consulting&tri=reference&ordre=desc", headers=HTML
    )
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    text = exported.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][0] == "Référence"
    references = [row[0] for row in rows[1:]]
    assert len(references) == everything  # every row of the tab, not one page
    assert references == sorted(references, reverse=True)
    titles = {row[0]: row[1] for row in rows[1:]}
    assert titles[trap.reference] == '\'=HYPERLINK("http://exemple.invalid")'
