"""One handler renders every domain error; validation errors become readable French."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from accelerator.errors import AcceleratorError, TooManyRequests

FIELD_MESSAGES = {
    "missing": "champ obligatoire",
    "extra_forbidden": "champ inconnu",
    "json_invalid": "JSON invalide",
    "string_too_short": "texte trop court",
    "string_too_long": "texte trop long",
    "enum": "valeur non admise",
    "literal_error": "valeur non admise",
    "bool_parsing": "booléen attendu (true/false)",
    "bool_type": "booléen attendu (true/false)",
    "int_parsing": "nombre entier attendu",
    "int_type": "nombre entier attendu",
    "float_parsing": "nombre attendu",
    "greater_than_equal": "valeur trop petite",
    "less_than_equal": "valeur trop grande",
    "list_type": "liste attendue",
    "string_type": "texte attendu",
    "model_attributes_type": "objet JSON attendu",
    "dict_type": "objet JSON attendu",
    "float_type": "nombre attendu",
    "finite_number": "nombre fini attendu (ni Infinity ni NaN)",
    "too_long": "trop long",
    "too_short": "trop court",
    "tuple_type": "liste attendue",
}


def _describe(error: dict[str, Any]) -> dict[str, str]:
    location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
    field = ".".join(location) or "requête"
    kind = error.get("type", "")
    message = FIELD_MESSAGES.get(kind)
    if kind == "value_error":
        message = str(error.get("msg", "")).removeprefix("Value error, ")
    elif message and kind in ("enum", "literal_error"):
        expected = error.get("ctx", {}).get("expected")
        message = f"{message} (attendu : {expected})" if expected else message
    return {"field": field, "message": message or str(error.get("msg", "valeur invalide"))}


def install(app: FastAPI) -> None:
    """Register the error handlers on ``app``."""

    @app.exception_handler(AcceleratorError)
    async def _domain_error(_request: Request, error: AcceleratorError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if error.status_code == 401 else None
        if isinstance(error, TooManyRequests):
            headers = {"Retry-After": str(error.retry_after)}
        return JSONResponse(
            {"detail": error.message}, status_code=error.status_code, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [_describe(e) for e in error.errors()]
        detail = "Requête invalide : " + " ; ".join(
            f"{e['field']} : {e['message']}" for e in errors
        )
        return JSONResponse({"detail": detail, "errors": errors}, status_code=422)
