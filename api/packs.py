"""The weekly review pack served as a file, for the API (``/api/v1/metrics/packs/...``) and
the managers' pages (``/pilotage/revues/...``) alike: built for the week asked, laid out by
``reports.weekly``, the HTML under its own content security policy (its one style block)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from fastapi.responses import Response
from sqlalchemy.orm import Session

from accelerator.metrics.pack import build_pack, parse_week
from reports.weekly import CONTENT_SECURITY_POLICY, render_html, render_pdf


class PackFormat(StrEnum):
    """The two layouts of a pack, by the file name's suffix."""

    PDF = "pdf"
    HTML = "html"


MEDIA_TYPES = {PackFormat.PDF: "application/pdf", PackFormat.HTML: "text/html; charset=utf-8"}

#: The OpenAPI description of each format's 200 answer.
RESPONSES: dict[PackFormat, dict[int | str, dict[str, Any]]] = {
    PackFormat.PDF: {
        200: {
            "description": "La revue hebdomadaire en PDF (A4, balisé).",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
    PackFormat.HTML: {
        200: {
            "description": "La revue hebdomadaire en une page HTML autonome (CSS et SVG en ligne).",
            "content": {"text/html": {"schema": {"type": "string"}}},
        }
    },
}


def pack_response(
    session: Session, week: str, kind: PackFormat, *, now: dt.datetime, base_url: str
) -> Response:
    """The pack of ``week`` (``2026-W48``) as a file to open in the browser (422: a week
    that is unreadable, that the year lacks, or that has not begun)."""
    chosen = parse_week(week)
    pack = build_pack(session, chosen, now=now)
    headers = {"Content-Disposition": f'inline; filename="revue-{chosen}.{kind.value}"'}
    if kind is PackFormat.PDF:
        content: bytes | str = render_pdf(pack, base_url=base_url)
    else:
        content = render_html(pack, base_url=base_url)
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return Response(content, media_type=MEDIA_TYPES[kind], headers=headers)
