"""The managers' weekly review packs: « Revues hebdomadaires », the recent weeks with a link
to each pack as PDF and as HTML (``/pilotage/revues/2026-W48.pdf``), built on demand with
the same figures as the Monday e-mail (``api.packs``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request, Response

from accelerator.metrics.pack import recent_weeks, week_of
from accelerator.shared.text import t
from api.figures import READERS
from api.packs import PackFormat, pack_response
from api.pages import display
from api.pages.pilotage import sections
from api.pages.rendering import render
from api.pages.web import PageRouter, page_unit

router = PageRouter(tags=["pages"])

#: As the API's packs and the other pilotage pages: managers and administrators.
MANAGERS = READERS
#: The complete weeks the page lists, newest first (older ones: change the week in the URL).
WEEKS = 12
#: A week as the links name it; ``parse_week`` refuses those that do not exist or not yet.
Week = Annotated[str, Path(max_length=16)]


@router.get_page("/pilotage/revues", policy=MANAGERS)
def packs(request: Request) -> Response:
    """The running week and the twelve before it, each with its pack as PDF and HTML."""
    with page_unit(request) as unit:
        running = week_of(unit.now)
        weeks = [running, *recent_weeks(unit.now, WEEKS)]
        rows = [
            {
                "week": str(week),
                "period": t(
                    "pages.packs.period",
                    first=display.day(week.first_day),
                    last=display.day(week.last_day),
                ),
                "running": week == running,
                "pdf": f"/pilotage/revues/{week}.pdf",
                "html": f"/pilotage/revues/{week}.html",
            }
            for week in weeks
        ]
        return render(
            request,
            "pilotage/packs.html",
            {"rows": rows, "sections": sections("/pilotage/revues", unit.signed_in.role)},
        )


@router.get_page("/pilotage/revues/{week}.pdf", policy=MANAGERS)
def pack_pdf(request: Request, week: Week) -> Response:
    """One week's pack as PDF."""
    with page_unit(request) as unit:
        return pack_response(
            unit.session, week, PackFormat.PDF, now=unit.now, base_url=unit.settings.public_url
        )


@router.get_page("/pilotage/revues/{week}.html", policy=MANAGERS)
def pack_html(request: Request, week: Week) -> Response:
    """One week's pack as a self-contained HTML page."""
    with page_unit(request) as unit:
        return pack_response(
            unit.session, week, PackFormat.HTML, now=unit.now, base_url=unit.settings.public_url
        )
