"""The catalogue's official commune list, given by an administrator (COG CSV)."""

from __future__ import annotations

from fastapi import HTTPException, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from accelerator.catalogue.actions import load_communes
from accelerator.identity.roles import Role, require_role
from accelerator.shared.db import Database
from accelerator.shared.errors import InvalidInput
from accelerator.shared.text import t
from api.deps import BearerDep, SettingsDep, authenticate
from api.limits import body_limit
from api.policies import Scope, allow
from api.unit_of_work import Router

router = Router(prefix="/api/v1/catalogue", tags=["catalogue"])

#: INSEE's full ``v_commune`` file is about 2.5 MB; twice that, and it is not one.
MAX_COG_BYTES = 6 * 1024 * 1024


class CommunesLoadedOut(BaseModel):
    """What the load changed."""

    added: int
    changed: int


async def _bounded_body(request: Request) -> bytes:
    """The body, read in chunks and refused (413) once it passes :data:`MAX_COG_BYTES`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_COG_BYTES:
        raise HTTPException(413, t("catalogue.cog_too_large"))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_COG_BYTES:
            raise HTTPException(413, t("catalogue.cog_too_large"))
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/communes",
    policy=allow(admin=Scope.ANY),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "Le fichier v_commune_AAAA.csv de l'INSEE (COG), en UTF-8.",
            "content": {"text/csv": {"schema": {"type": "string", "maxLength": MAX_COG_BYTES}}},
        }
    },
    responses={413: {"description": "Fichier trop volumineux."}},
)
@body_limit(MAX_COG_BYTES)
async def communes(
    request: Request, credentials: BearerDep, settings: SettingsDep
) -> CommunesLoadedOut:
    """Load (upsert) the official commune list from INSEE's COG CSV (admin)."""
    database: Database = request.app.state.database

    def check_admin() -> None:
        with database.transaction() as session:
            require_role(authenticate(session, settings, credentials), Role.ADMIN)

    # Who asks is checked before a byte of the file is read.
    await run_in_threadpool(check_admin)
    try:
        content = (await _bounded_body(request)).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(t("catalogue.cog_not_utf8")) from None

    def load() -> CommunesLoadedOut:
        with database.transaction() as session:
            report = load_communes(session, content)
        added, changed = report.counts.values()
        return CommunesLoadedOut(added=added, changed=changed)

    return await run_in_threadpool(load)
