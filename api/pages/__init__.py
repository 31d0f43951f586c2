"""The web pages: server-rendered HTML in the State's design system (DSFR), beside the API.

``install(app)`` serves the design system's files (``/static/...``, ``assets.py``), the
sign-in (``sign_in.py``; with ProConnect when configured, ``proconnect.py``), the home page
and each role's space (``spaces.py``), the holder's filing form (``filing.py``), the dossier
page (``dossier.py``), the consultation page (``consultation.py``), the administrators'
pages (``management.py``), the managers' figures (``pilotage.py``), what-if simulator
(``simulation.py``) and weekly review packs (``packs.py``), and answers the pages' errors
with pages (``errors.py``). Sessions, CSRF and each page's unit of work are in ``web.py``;
templates in ``api/templates/``; what a page shows of instants and deadlines in
``display.py``. The JSON API and its bearer tokens are untouched.
"""

from __future__ import annotations

import weakref
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.routing import APIRoute

from accelerator.shared.errors import NotFound
from accelerator.shared.text import t
from api import policies
from api.pages import (
    consultation,
    dossier,
    errors,
    filing,
    management,
    packs,
    pilotage,
    proconnect,
    sign_in,
    simulation,
    spaces,
)
from api.pages.assets import LONG_CACHE, Urls, catalogue
from api.pages.web import is_page_route

#: The endpoints serving the pages' static files (one per app created).
_STATIC_ENDPOINTS: weakref.WeakSet[Any] = weakref.WeakSet()


def install(app: FastAPI) -> None:
    """Add the pages to ``app`` (after ``api.errors.install``)."""
    assets = catalogue()
    app.state.asset_urls = Urls(assets)

    @app.get("/static/{path:path}", include_in_schema=False)
    @policies.declare(policies.PUBLIC)
    async def static(path: str) -> FileResponse:
        """A file of the design system or of the pages, cached for a year (its URL names
        its version or its digest)."""
        asset = assets.get(path)
        if asset is None:
            raise NotFound(t("pages.static.not_found"))
        return FileResponse(
            asset.path, media_type=asset.media_type, headers={"Cache-Control": LONG_CACHE}
        )

    _STATIC_ENDPOINTS.add(static)
    errors.install(app)
    app.include_router(sign_in.router)
    if app.state.proconnect is not None:
        app.include_router(proconnect.router)
    app.include_router(spaces.router)
    app.include_router(packs.router)
    app.include_router(dossier.router)
    app.include_router(filing.router)
    app.include_router(consultation.router)
    app.include_router(management.router)
    app.include_router(pilotage.router)
    app.include_router(simulation.router)


def is_pages_route(route: Any) -> bool:
    """Whether ``route`` belongs to the pages (a page, or their static files), which
    ``tests/pages/test_page_access.py`` probes with browser sessions."""
    return is_page_route(route) or (
        isinstance(route, APIRoute) and route.endpoint in _STATIC_ENDPOINTS
    )
