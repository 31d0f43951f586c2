"""Liveness: the database answers."""

from __future__ import annotations

from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.contract import errors_documented
from api.deps import SessionDep
from api.policies import PUBLIC
from api.unit_of_work import Router

router = Router(tags=["santé"])


@router.get("/healthz", policy=PUBLIC, responses=errors_documented(503))
def healthz(session: SessionDep) -> JSONResponse:
    """200 when the database answers, 503 otherwise."""
    try:
        session.execute(text("SELECT 1"))
    except Exception as error:
        return JSONResponse({"status": "error", "detail": type(error).__name__}, status_code=503)
    return JSONResponse({"status": "ok"})
