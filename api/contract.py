"""The OpenAPI document says what the API does: every error status an operation can answer,
with the body it really sends.

FastAPI documents a 422 with its own ``HTTPValidationError`` (``api.errors`` sends
``{"detail", "errors": [{"field", "message"}]}``) and no other error. ``install`` post-
processes the generated document once: on every operation, the 422 points to
``InvalidRequest`` and the statuses the route's shape implies are added with ``Error``
(``{"detail"}``):

- a request body: 400 (unreadable), 413 (too large), 422;
- a signed-in user: 401, 403; and 409 (status or version conflict) and 422 (refused
  content) unless it only reads (GET);
- a path parameter: 404;
- every operation: 422 (an undeclared query parameter is refused, ``api.routes``).

A route declares anything else in its decorator, ``responses=errors_documented(429)``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from api.errors import Error, FieldError, InvalidRequest

DESCRIPTIONS = {
    400: "Corps de la requête illisible (JSON en UTF-8 attendu).",
    401: "Non authentifié : jeton absent, invalide ou expiré, ou identifiants refusés.",
    403: "Action non permise à ce compte.",
    404: "Objet introuvable (ou invisible pour ce compte).",
    409: "Conflit : le statut de l'objet ne permet pas l'action, ou il a changé entre-temps.",
    413: "Corps de la requête trop volumineux.",
    422: "Requête invalide : champs en erreur.",
    429: "Trop de tentatives : réessayez après le délai indiqué (Retry-After).",
    503: "Service indisponible.",
}

_MODELS: list[type[BaseModel]] = [Error, FieldError, InvalidRequest]


def errors_documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route decorator: ``statuses`` answered with ``Error``."""
    return {status: {"description": DESCRIPTIONS[status], "model": Error} for status in statuses}


def _reference(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "description": "",
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
        },
    }


def statuses(method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation can answer, from its shape in the document."""
    # 422 everywhere: an undeclared query parameter is refused on every operation.
    found: set[int] = {422}
    if "requestBody" in operation:
        found |= {400, 413, 422}
    if operation.get("security"):
        found |= {401, 403}
        if method != "get":
            found |= {409, 422}
    parameters = operation.get("parameters", [])
    if any(parameter.get("in") == "path" for parameter in parameters):
        found |= {404, 422}
    if parameters:
        found.add(422)
    return found


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` (the app's generated OpenAPI document) with every error status documented."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    for model in _MODELS:
        definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
        definition.pop("$defs", None)
        components[model.__name__] = definition
    for item in schema.get("paths", {}).values():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            declared = {int(s) for s in responses if s.isdigit() and int(s) >= 400}
            for status in sorted(statuses(method, operation) | declared):
                model = InvalidRequest if status == 422 else Error
                answer = responses.get(str(status)) or {}
                responses[str(status)] = {
                    **_reference(model),
                    "description": DESCRIPTIONS.get(status, answer.get("description", "")),
                    **({"headers": answer["headers"]} if "headers" in answer else {}),
                }
    return schema


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the post-processed document (built once)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    openapi_version=app.openapi_version,
                    summary=app.summary,
                    description=app.description,
                    routes=app.routes,
                    tags=app.openapi_tags,
                    servers=app.servers,
                ),
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
