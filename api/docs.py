"""``/docs`` (Swagger UI) and ``/redoc`` served from this process: no CDN, no inline script.

FastAPI's own pages load their scripts and styles from a CDN at run time and start them with
an inline script, which the CSP (``api.headers``) forbids. These pages load the assets the
``fastapi-offline`` package ships (Swagger UI and ReDoc bundles) and start them from static
files of ours (``api/static/docs/*-init.js``). Both viewers set inline styles from their
scripts, so their pages relax ``style-src`` only; scripts stay ``'self'``.
"""

from __future__ import annotations

import html
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse

from accelerator.shared.errors import NotFound
from accelerator.shared.text import t
from api import policies

_VENDOR = Path(str(files("fastapi_offline") / "static"))
_OWN = Path(__file__).resolve().parent / "static" / "docs"

#: Every file the pages load, by the name they use; nothing else is served.
ASSETS: dict[str, tuple[Path, str]] = {
    "swagger-ui-bundle.js": (_VENDOR / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": (_VENDOR / "swagger-ui.css", "text/css"),
    "redoc.standalone.js": (_VENDOR / "redoc.standalone.js", "text/javascript"),
    "favicon.png": (_VENDOR / "favicon.png", "image/png"),
    "swagger-init.js": (_OWN / "swagger-init.js", "text/javascript"),
    "redoc-init.js": (_OWN / "redoc-init.js", "text/javascript"),
}

#: The pages' policy: the default one (``api.headers.CSP``) but for inline styles, which both
#: viewers set from their scripts; workers from blob: for ReDoc's search.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

_PAGE = """<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="{root}/docs/assets/favicon.png">
{head}</head>
<body>
<div id="{element}" data-openapi-url="{openapi_url}"></div>
{scripts}</body>
</html>
"""


def _page(
    root: str, title: str, element: str, openapi_url: str, styles: list[str], scripts: list[str]
) -> str:
    """A viewer's page; ``root`` is the path the app is mounted at behind a proxy."""
    root = html.escape(root.rstrip("/"))
    return _PAGE.format(
        root=root,
        title=html.escape(title),
        element=element,
        openapi_url=root + html.escape(openapi_url),
        head="".join(f'<link rel="stylesheet" href="{root}/docs/assets/{n}">\n' for n in styles),
        scripts="".join(f'<script src="{root}/docs/assets/{n}"></script>\n' for n in scripts),
    )


def install(app: FastAPI) -> None:
    """Serve ``/docs``, ``/redoc`` and their assets (create the app with ``docs_url=None``
    and ``redoc_url=None``)."""
    openapi_url = app.openapi_url or "/openapi.json"
    headers = {"Content-Security-Policy": DOCS_CSP}
    title = f"{app.title} — API"

    @app.get("/docs", include_in_schema=False)
    @policies.declare(policies.PUBLIC)
    async def docs(request: Request) -> HTMLResponse:
        """The API explorer (Swagger UI)."""
        root = request.scope.get("root_path", "")
        page = _page(
            root, title, "swagger-ui", openapi_url, ["swagger-ui.css"],
            ["swagger-ui-bundle.js", "swagger-init.js"],
        )  # fmt: skip
        return HTMLResponse(page, headers=headers)

    @app.get("/redoc", include_in_schema=False)
    @policies.declare(policies.PUBLIC)
    async def redoc(request: Request) -> HTMLResponse:
        """The API reference (ReDoc)."""
        root = request.scope.get("root_path", "")
        scripts = ["redoc.standalone.js", "redoc-init.js"]
        page = _page(root, title, "redoc", openapi_url, [], scripts)
        return HTMLResponse(page, headers=headers)

    @app.get("/docs/assets/{name}", include_in_schema=False)
    @policies.declare(policies.PUBLIC)
    async def asset(name: str) -> FileResponse:
        """One of the pages' files, cached for a day (they change with the package only)."""
        if name not in ASSETS:
            raise NotFound(t("http.file_not_found"))
        path, media_type = ASSETS[name]
        return FileResponse(
            path, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"}
        )
