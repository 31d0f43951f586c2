"""Templates: one Jinja2 environment (autoescaped, strict), the layout's view, ``render``.

Templates receive ready view models; they call ``t`` (the text catalogue) for every word they
show and ``urls`` for every asset. No query and no rule in a template.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from accelerator.identity.roles import Role
from accelerator.shared.config import Settings
from accelerator.shared.text import t
from api.pages import display
from api.pages.assets import Urls

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

#: The header's name for each role.
ROLE_KEYS: dict[Role, str] = {
    Role.HOLDER: "pages.role.holder",
    Role.REFERENT: "pages.role.referent",
    Role.AGENT: "pages.role.agent",
    Role.MANAGER: "pages.role.manager",
    Role.ADMIN: "pages.role.admin",
}

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.globals.update(
    t=t,
    role_label=lambda role: t(ROLE_KEYS[Role(role)]),
    instant=display.instant,
    deadline=display.deadline,
)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """``template`` rendered with the layout's data (the visitor, the préfecture, assets)."""
    settings: Settings = request.app.state.settings
    urls: Urls = request.app.state.asset_urls
    page = environment.get_template(template).render(
        prefecture=settings.prefecture_name,
        visitor=getattr(request.state, "visitor", None),
        path=request.url.path,
        urls=urls,
        **(context or {}),
    )
    return HTMLResponse(page, status_code=status, headers=headers)
